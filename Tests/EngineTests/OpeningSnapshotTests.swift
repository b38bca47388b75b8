import ArenaTestSupport
import Foundation
import Testing

@testable import Engine
@testable import Shared

@Suite("Engine opening snapshot and check summary")
struct OpeningSnapshotTests {
    func shippedConfiguration(environment: [String: String] = [:]) throws -> ArenaConfiguration {
        // Template paths in etc/ are relative to the package root, where `swift test` runs.
        _ = FileManager.default.changeCurrentDirectoryPath(TestPaths.packageRoot.path)
        return try ConfigLoader(environment: environment).load(path: "etc/arena.yaml")
    }

    @Test func openingSnapshot_givesEachEnabledTraderItsCapitalSlice() throws {
        let configuration = try shippedConfiguration()
        let files = try OpeningSnapshot(configuration: configuration, now: Date(timeIntervalSince1970: 1_700_000_000))
            .encodedFiles()
        #expect(Set(files.keys) == Set(SnapshotDocument.allCases.map(\.fileName)))
        let decoder = SnapshotCoding.makeDecoder()
        let leaderboard = try decoder.decode(
            LeaderboardDocument.self,
            from: try #require(files[SnapshotDocument.leaderboard.fileName])
        )
        #expect(leaderboard.leaderboard.map(\.id).sorted() == ["baseline-ema", "baseline-hold"])
        #expect(leaderboard.leaderboard.allSatisfy { $0.equity == 3000 && $0.returnPct == 0 })
        #expect(leaderboard.leaderboard.first { $0.id == "baseline-hold" }?.llmModel == "buy-and-hold")
        let totals = try decoder.decode(
            AccountTotalsDocument.self,
            from: try #require(files[SnapshotDocument.accountTotals.fileName])
        )
        #expect(totals.accountTotals.allSatisfy { $0.timestamp == 1_700_000_000 && $0.positions.isEmpty })
        let inception = try decoder.decode(
            SinceInceptionDocument.self,
            from: try #require(files[SnapshotDocument.sinceInceptionValues.fileName])
        )
        #expect(inception.sinceInceptionValues.map(\.navSinceInception) == [3000, 3000])
    }

    @Test func openingSnapshot_includesTheLLMTraderOnceItsKeyIsSet() throws {
        let configuration = try shippedConfiguration(environment: ["DEEPSEEK_API_KEY": "k"])
        let files = try OpeningSnapshot(configuration: configuration, now: Date()).encodedFiles()
        let leaderboard = try SnapshotCoding.makeDecoder().decode(
            LeaderboardDocument.self,
            from: try #require(files[SnapshotDocument.leaderboard.fileName])
        )
        #expect(leaderboard.leaderboard.count == 3)
    }

    @Test func exporter_publishesAGenerationTheReaderResolves() throws {
        let configuration = try shippedConfiguration()
        let root = try TestPaths.makeScratch("export")
        let publisher = SnapshotPublisher(root: root.path)
        let files = try OpeningSnapshot(configuration: configuration, now: Date()).encodedFiles()
        let number = try publisher.publish(files)
        let generation = try #require(SnapshotReader(root: root.path).resolve())
        #expect(generation.id == "g\(number)")
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
