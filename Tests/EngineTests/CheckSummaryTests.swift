import ArenaTestSupport
import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import Engine
@testable import Shared

@Suite("engine check summary")
struct CheckSummaryTests {
    func shippedConfiguration(environment: [String: String] = [:]) throws -> ArenaConfiguration {
        // Template paths in etc/ are relative to the package root, where `swift test` runs.
        _ = FileManager.default.changeCurrentDirectoryPath(TestPaths.packageRoot.path)
        return try ConfigLoader(environment: environment).load(path: "etc/arena.yaml")
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
