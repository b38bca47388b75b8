import ArenaTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import ControlAPI
@testable import Shared

@Suite("control-api and snapshot generations")
struct GenerationTests {
    var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    func leaderboard(equity: Double) throws -> [String: Data] {
        let document = LeaderboardDocument(leaderboard: [
            .init(
                id: "t1",
                llmModel: "m",
                numTrades: 0,
                sharpe: 0,
                winDollars: 0,
                numLosses: 0,
                loseDollars: 0,
                returnPct: 0,
                equity: equity,
                numWins: 0
            )
        ])
        return [SnapshotDocument.leaderboard.fileName: try SnapshotCoding.makeEncoder().encode(document)]
    }

    @Test func noGeneration_gives503WithRetryAfter() async throws {
        let root = try TestPaths.makeScratch("api")
        try await makeAPI(dataPath: root.path).test(.router) { client in
            for uri in ["/api/leaderboard", "/api/trades", "/api/analytics/gpt-5", "/api/health"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .serviceUnavailable, "\(uri)")
                #expect(response.headers[.retryAfter] != nil, "\(uri)")
                let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(object?["serverTime"] != nil, "\(uri)")
            }
        }
    }

    @Test func documentMissingFromGeneration_gives503() async throws {
        let root = try TestPaths.makeScratch("api")
        try SnapshotPublisher(root: root.path).publish(try leaderboard(equity: 1))
        try await makeAPI(dataPath: root.path).test(.router) { client in
            let leaderboard = try await client.execute(uri: "/api/leaderboard", method: .get)
            let trades = try await client.execute(uri: "/api/trades", method: .get)
            #expect(leaderboard.status == .ok)
            #expect(trades.status == .serviceUnavailable)
        }
    }

    @Test func newGeneration_isServedAfterRefresh_withANewETag() throws {
        let root = try TestPaths.makeScratch("api")
        let publisher = SnapshotPublisher(root: root.path)
        try publisher.publish(try leaderboard(equity: 100))
        let store = GenerationStore(reader: SnapshotReader(root: root.path), metrics: APIMetrics())
        #expect(store.refresh(logger: logger))
        #expect(store.generation?.id == "g1")
        #expect(!store.refresh(logger: logger))
        try publisher.publish(try leaderboard(equity: 200))
        #expect(store.refresh(logger: logger))
        #expect(store.generation?.id == "g2")
        let body = try #require(store.generation?.documents[.leaderboard]).parts(serverTime: 5, encoding: .identity)
            .joined()
        #expect(String(buffer: body).contains("\"equity\":200"))
        #expect(String(buffer: body).hasPrefix("{\"serverTime\":5,"))
    }

    @Test func malformedGeneration_isNotServed_andThePreviousOneStays() throws {
        let root = try TestPaths.makeScratch("api")
        let publisher = SnapshotPublisher(root: root.path)
        try publisher.publish(try leaderboard(equity: 100))
        let metrics = APIMetrics()
        let store = GenerationStore(reader: SnapshotReader(root: root.path), metrics: metrics)
        store.refresh(logger: logger)
        var broken = try leaderboard(equity: 1)
        broken[SnapshotDocument.trades.fileName] = Data("{\"trades\":[{\"id\":1}]}".utf8)
        try publisher.publish(broken)
        #expect(!store.refresh(logger: logger))
        #expect(store.generation?.id == "g1")
        #expect(String(buffer: metrics.exposition()).contains("control_api_generation_load_failures_total 1"))
    }

    /// A generation holding something other than a regular file of bounded size — a FIFO (reading it would block
    /// forever) or a 10 GB file (sparse here) — is refused without reading it, counted, not retried every poll,
    /// and the previous generation keeps serving.
    @Test(arguments: ["fifo", "huge"])
    func aGenerationWithAFileThatIsNotARegularBoundedFile_isRefused(kind: String) throws {
        let root = try TestPaths.makeScratch("api-\(kind)")
        let publisher = SnapshotPublisher(root: root.path)
        try publisher.publish(try leaderboard(equity: 100))
        let metrics = APIMetrics()
        let store = GenerationStore(reader: SnapshotReader(root: root.path), metrics: metrics)
        #expect(store.refresh(logger: logger))
        try publisher.publish(try leaderboard(equity: 200))
        let generation = try #require(SnapshotReader(root: root.path).resolve())
        let path = (generation.directory as NSString).appendingPathComponent(SnapshotDocument.trades.fileName)
        if kind == "fifo" {
            #expect(mkfifo(path, 0o644) == 0)
        } else {
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: 10 << 30)
            try handle.close()
        }
        let started = ContinuousClock.now
        #expect(!store.refresh(logger: logger))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(store.generation?.id == "g1")
        #expect(String(buffer: metrics.exposition()).contains("control_api_generation_load_failures_total 1"))
        // Not read again on the next poll; counted once.
        #expect(!store.refresh(logger: logger))
        #expect(String(buffer: metrics.exposition()).contains("control_api_generation_load_failures_total 1"))
        // The next good generation is served.
        try publisher.publish(try leaderboard(equity: 300))
        #expect(store.refresh(logger: logger))
        #expect(store.generation?.id == "g3")
    }

    @Test func preparedDocument_emptyObject_getsOnlyServerTime() throws {
        let document = try PreparedDocument(json: Array("{}".utf8))
        #expect(String(buffer: document.parts(serverTime: 42, encoding: .identity).joined()) == "{\"serverTime\":42}")
        #expect(throws: PreparedDocumentError.self) { try PreparedDocument(json: Array("[1]".utf8)) }
    }

    @Test func preparedDocument_gzipSplice_inflatesToTheIdentityBody_forManyTimes() throws {
        let json = Array(try Data(contentsOf: TestPaths.capture.appendingPathComponent("trades.json")))
        var decoded = try JSONDecoder().decode(TradesDocument.self, from: Data(json))
        decoded.serverTime = nil
        let document = try PreparedDocument(encoding: decoded, encoder: SnapshotCoding.makeEncoder())
        for serverTime: Int64 in [0, 7, 1_761_452_335_744, Int64(Int32.max) * 10] {
            let identity = Array(buffer: document.parts(serverTime: serverTime, encoding: .identity).joined())
            let gzip = Array(buffer: document.parts(serverTime: serverTime, encoding: .gzip).joined())
            #expect(try gunzip(gzip) == identity)
        }
    }

    /// A large tail is also in an anonymous memory file (the fast path sends it with `sendfile`) holding exactly
    /// the tail's bytes; a small one is not.
    @Test func preparedDocument_largeTail_isInAMemoryFileOfTheSameBytes() throws {
        let json = Array(try Data(contentsOf: TestPaths.capture.appendingPathComponent("trades.json")))
        var decoded = try JSONDecoder().decode(TradesDocument.self, from: Data(json))
        decoded.serverTime = nil
        let document = try PreparedDocument(encoding: decoded, encoder: SnapshotCoding.makeEncoder())
        #expect(document.tail.count >= PreparedDocument.fileTailBytes)
        let file = try #require(document.tailFile)
        #expect(file.count == document.tail.count)
        var read = [UInt8](repeating: 0, count: file.count + 1)
        let count = read.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, $0.count, 0) }
        #expect(count == file.count)
        #expect(Array(read[..<max(0, count)]) == document.tail)
        let parts = document.parts(serverTime: 1, encoding: .identity)
        #expect(parts.file === file)
        #expect(document.parts(serverTime: 1, encoding: .gzip).file == nil)
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(file.descriptor)")
        #expect(link.hasPrefix("/memfd:"), "\(link)")
        #expect(try PreparedDocument(json: Array("{\"a\":1}".utf8)).tailFile == nil)
    }

    @Test func controlAPISources_neverImportEngine_norWriteFiles() throws {
        let directory = TestPaths.packageRoot.appendingPathComponent("Sources/ControlAPI")
        let enumerator = try #require(FileManager.default.enumerator(atPath: directory.path))
        var checked = 0
        let forbidden = [
            "import Engine", "@testable import Engine", "createFile(", ".write(to:", "write(toFile:", "AtomicFile.",
            "SnapshotPublisher", "fopen(", "O_WRONLY", "O_CREAT", "removeItem(", "moveItem(", "copyItem(",
        ]
        for case let path as String in enumerator where path.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
            for pattern in forbidden {
                #expect(!text.contains(pattern), "Sources/ControlAPI/\(path) contains \(pattern)")
            }
            checked += 1
        }
        #expect(checked > 5)
    }
}
