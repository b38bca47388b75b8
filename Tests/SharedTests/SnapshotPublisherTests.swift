import ArenaTestSupport
import Foundation
import Testing

@testable import Shared

@Suite("Snapshot publishing")
struct SnapshotPublisherTests {
    func files(_ generation: Int) -> [String: Data] {
        Dictionary(
            uniqueKeysWithValues: SnapshotDocument.allCases.map { document in
                (
                    document.fileName,
                    Data("{\"generation\":\(generation),\"pad\":\"\(String(repeating: "x", count: 4096))\"}".utf8)
                )
            }
        )
    }

    @Test func publish_writesAGenerationAndPointsCurrentAtIt() throws {
        let root = try TestPaths.makeScratch("publish")
        let publisher = SnapshotPublisher(root: root.path)
        let first = try publisher.publish(files(1))
        let second = try publisher.publish(files(2))
        #expect(first == 1)
        #expect(second == 2)
        let link = try FileManager.default.destinationOfSymbolicLink(
            atPath: root.appendingPathComponent("current").path
        )
        #expect(link == "generations/2")
        let reader = SnapshotReader(root: root.path)
        let generation = try #require(reader.resolve())
        #expect(generation.id == "g2")
        let leaderboard = try Data(
            contentsOf: URL(fileURLWithPath: generation.directory).appendingPathComponent("leaderboard.json")
        )
        #expect(String(decoding: leaderboard, as: UTF8.self).hasPrefix("{\"generation\":2,"))
        // No staging or temporary entries are left behind.
        let entries = try FileManager.default.contentsOfDirectory(
            atPath: root.appendingPathComponent("generations").path
        )
        #expect(entries.sorted() == ["1", "2"])
    }

    @Test func publish_continuesNumberingAfterARestart() throws {
        let root = try TestPaths.makeScratch("publish")
        try SnapshotPublisher(root: root.path).publish(files(1))
        let number = try SnapshotPublisher(root: root.path).publish(files(2))
        #expect(number == 2)
    }

    @Test func prune_keepsTheNewestAndRemovesOldOnesAfterTheGracePeriod() throws {
        let root = try TestPaths.makeScratch("publish")
        let publisher = SnapshotPublisher(root: root.path, keepGenerations: 2, gracePeriod: .seconds(60))
        for number in 1...4 { try publisher.publish(files(number)) }
        // Everything is younger than the grace period: nothing is removed yet.
        #expect(publisher.existingGenerations().sorted() == [1, 2, 3, 4])
        publisher.prune(current: 4, now: Date().addingTimeInterval(120))
        #expect(publisher.existingGenerations().sorted() == [3, 4])
    }

    @Test func publish_refusesPathsOutsideTheGeneration() throws {
        let root = try TestPaths.makeScratch("publish")
        #expect(throws: SnapshotError.self) {
            try SnapshotPublisher(root: root.path).publish(["../evil.json": Data("{}".utf8)])
        }
    }

    @Test func reader_withNothingPublished_findsNoGeneration() throws {
        let root = try TestPaths.makeScratch("publish")
        #expect(SnapshotReader(root: root.path).resolve() == nil)
        #expect(SnapshotReader(root: root.appendingPathComponent("missing").path).resolve() == nil)
    }

    @Test func reader_acceptsAFlatDirectoryAsOneGeneration() throws {
        let generation = try #require(SnapshotReader(root: TestPaths.capture.path).resolve())
        #expect(generation.directory == TestPaths.capture.path)
        #expect(generation.id.hasPrefix("f"))
        #expect(SnapshotReader(root: TestPaths.capture.path).resolve()?.id == generation.id)
    }

    /// A reader resolving and reading while generations are published must always see all files of one
    /// generation: never a mix, never a missing or torn file.
    @Test func readers_neverSeeAMixOfGenerations() async throws {
        let root = try TestPaths.makeScratch("publish")
        let publisher = SnapshotPublisher(root: root.path, keepGenerations: 3, gracePeriod: .seconds(30))
        try publisher.publish(files(1))
        let reader = SnapshotReader(root: root.path)
        let names = SnapshotDocument.allCases.map(\.fileName)

        let observed = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                for number in 2...60 { try publisher.publish(self.files(number)) }
                return 0
            }
            group.addTask {
                var reads = 0
                for _ in 0..<400 {
                    guard let generation = reader.resolve() else { throw MixError.noGeneration }
                    var seen: Set<String> = []
                    for name in names {
                        let data = try Data(
                            contentsOf: URL(fileURLWithPath: generation.directory).appendingPathComponent(name)
                        )
                        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                        seen.insert("\(object?["generation"] ?? "torn")")
                    }
                    if seen.count != 1 || "g\(seen.first!)" != generation.id { throw MixError.mixed(seen.sorted()) }
                    reads += 1
                }
                return reads
            }
            var total = 0
            for try await count in group { total += count }
            return total
        }
        #expect(observed == 400)
    }

    enum MixError: Error {
        case noGeneration
        case mixed([String])
    }
}
