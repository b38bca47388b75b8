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
        ])
        let summary = ConfigurationSummary.render(configuration)
        #expect(summary.contains("3 traders (3 enabled)"))
        #expect(summary.contains("postgres.dsn <redacted>"))
        #expect(!summary.contains("sk-secret-1"))
        #expect(!summary.contains("pw-secret"))
    }
}
