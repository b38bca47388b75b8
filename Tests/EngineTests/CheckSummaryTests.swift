import ArenaTestSupport
import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("engine check summary")
struct CheckSummaryTests {
    func shippedConfiguration(environment: [String: String] = [:]) throws -> ArenaConfiguration {
        try ConfigLoader(environment: environment, baseDirectory: TestPaths.packageRoot.path).load(
            path: TestPaths.shipped.appendingPathComponent("arena.yaml").path
        )
    }

    @Test func summary_listsTraders_andRedactsSecrets() throws {
        let configuration = try shippedConfiguration(environment: [
            "DEEPSEEK_API_KEY": "sk-secret-1", "ARENA_POSTGRES_DSN": "postgres://u:pw-secret@h/db",
            "DASHSCOPE_API_KEY": "sk-secret-2",
        ])
        let summary = ConfigurationSummary.render(configuration)
        #expect(summary.contains("4 traders (4 enabled)"))
        #expect(summary.contains("model deepseek-qwen (consensus unanimous of deepseek-chat, qwen3-max, at least 2)"))
        #expect(!summary.contains("sk-secret-2"))
        #expect(summary.contains("postgres.dsn <redacted>"))
        #expect(!summary.contains("sk-secret-1"))
        #expect(!summary.contains("pw-secret"))
    }
}
