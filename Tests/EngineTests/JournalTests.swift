import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Journal and replay", .serialized)
struct JournalTests {
    func logger() -> Logger { EngineFixtures.quietLogger() }

    /// The tests' writer settings: files rotated by size (or `rotateInterval`), a 10 ms fsync interval.
    func settings(
        _ root: URL,
        maxFileBytes: Int = 4096,
        rotateInterval: Duration = .seconds(3600),
        queueCapacity: Int = 8,
        compressClosedFiles: Bool = false
    ) -> JournalWriter.Settings {
        JournalWriter.Settings(
            root: root.path,
            maxFileBytes: maxFileBytes,
            rotateInterval: rotateInterval,
            fsyncInterval: .milliseconds(10),
            queueCapacity: queueCapacity,
            compressClosedFiles: compressClosedFiles
        )
    }

    func record(_ trader: String, cycle: Int, padding: Int = 0) -> CycleRecord {
        CycleRecord(
            traderID: trader,
            cycle: cycle,
            cycleID: "\(trader)-\(cycle)",
            startedAt: Int64(cycle) * 1000,
            endedAt: Int64(cycle) * 1000 + 5,
            outcome: .completed,
            modelAsked: "m",
            rawAnswer: .text(String(repeating: "x", count: padding))
        )
    }

    @Test func writer_rotatesBySize_andReadingSpansTheFiles() async throws {
        let root = try TestPaths.makeScratch("journal")
        let writer = JournalWriter(
            settings: settings(root),
            logger: logger()
        )
        for cycle in 1...40 { try await writer.append(record("a", cycle: cycle, padding: 300)) }
        try await writer.close()
        let directory = JournalDirectory(root: root.path)
        let files = directory.files(trader: "a")
        #expect(files.count >= 3)
        for file in files {
            let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 0
            #expect(size <= 4096)
        }
        let records = try JournalReplay.records(journal: directory, trader: "a")
        #expect(records.map(\.cycle) == Array(1...40))
        // The queue filled (capacity 8) and the writer flushed inline rather than dropping anything.
        #expect(await writer.fullQueueWaits >= 4)
    }

    /// Runs of records larger than the write buffer (1 MiB) — gathered lines written in pieces, and lines of
    /// more than a megabyte written on their own — land whole and in order, for each of two traders.
    @Test func runsLargerThanTheWriteBuffer_areWrittenWholeAndInOrder() async throws {
        let root = try TestPaths.makeScratch("journal-large")
        let writer = JournalWriter(
            settings: settings(root, maxFileBytes: 64 << 20, queueCapacity: 64),
            logger: logger()
        )
        let paddings = [300_000, 700_000, 1_500_000, 10, 1_048_000, 2_100_000, 500_000, 600_000]
        // One trader's records one after another (a run), then the other's.
        for (index, padding) in paddings.enumerated() {
            try await writer.append(record("a", cycle: index + 1, padding: padding))
        }
        for (index, padding) in paddings.enumerated() {
            try await writer.append(record("b", cycle: index + 1, padding: padding / 2))
        }
        try await writer.close()
        let directory = JournalDirectory(root: root.path)
        for (trader, divisor) in [("a", 1), ("b", 2)] {
            let records = try JournalReplay.records(journal: directory, trader: trader)
            #expect(records.map(\.cycle) == Array(1...paddings.count))
            #expect(records.map { $0.rawAnswer?.text.count ?? -1 } == paddings.map { $0 / divisor })
        }
    }

    /// A long journal is decoded in runs on several cores: the records come back in order, and a bad line is
    /// reported by its number — the first one when there are several, as a single loop would.
    @Test func records_decodedInParallel_inOrder_firstBadLineReported() async throws {
        let root = try TestPaths.makeScratch("journal-parallel")
        let writer = JournalWriter(settings: settings(root, maxFileBytes: 1 << 20, queueCapacity: 64), logger: logger())
        for cycle in 1...600 { try await writer.append(record("a", cycle: cycle, padding: cycle % 50)) }
        try await writer.close()
        let directory = JournalDirectory(root: root.path)
        #expect(try JournalReplay.records(journal: directory, trader: "a").map(\.cycle) == Array(1...600))

        let file = try #require(directory.files(trader: "a").first).path
        var lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[449] = "{\"cycle\": 450, torn"
        lines[199] = "{\"cycle\": \"two hundred\"}"
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            try JournalReplay.records(journal: directory, trader: "a")
        } throws: { error in
            "\(error)".contains("record 200 of a does not decode")
        }
    }

    /// A backtest's writer encodes each full batch beside the trading loop: the files hold the same bytes in the
    /// same order as a writer that encodes in `append`, a record counts as pending (and its cycle as the
    /// trader's last) until it is on disk, and `flush` writes everything, the batch being encoded included.
    @Test func backgroundEncoding_writesTheSameBytes_andCountsRecordsPendingUntilWritten() async throws {
        func settings(_ root: URL, background: Bool) -> JournalWriter.Settings {
            var settings = self.settings(root, maxFileBytes: 1 << 20)
            settings.encodesInBackground = background
            return settings
        }
        let plainRoot = try TestPaths.makeScratch("journal-plain")
        let backgroundRoot = try TestPaths.makeScratch("journal-background")
        let plain = JournalWriter(settings: settings(plainRoot, background: false), logger: logger())
        let background = JournalWriter(settings: settings(backgroundRoot, background: true), logger: logger())
        for cycle in 1...37 {
            for trader in ["a", "b"] {
                let record = record(trader, cycle: cycle, padding: cycle * 7)
                try await plain.append(record)
                try await background.append(record)
            }
            // Nothing of the newest cycle is on disk yet, and it is the trader's last cycle all the same.
            #expect(await background.hasPending(trader: "a"))
            #expect(try await background.lastCycle(trader: "b") == cycle)
        }
        // Batches of 8: the 36 oldest records were handed over; the first batches are on disk already.
        let directory = JournalDirectory(root: backgroundRoot.path)
        let early = try JournalReplay.records(journal: directory, trader: "a").count
        #expect(early > 0 && early < 37)
        try await background.flush()
        let pendingA = await background.hasPending(trader: "a")
        let pendingB = await background.hasPending(trader: "b")
        #expect(!pendingA && !pendingB)
        try await plain.close()
        try await background.close()
        for trader in ["a", "b"] {
            let expected = try JournalDirectory(root: plainRoot.path).lines(trader: trader)
            let written = try directory.lines(trader: trader)
            #expect(written.count == 37)
            #expect(written == expected)
        }
    }

    @Test func closedFiles_areCompressed_readTransparently_andACrashMidCompressionLosesNothing() async throws {
        let root = try TestPaths.makeScratch("journal-gz")
        let settings = self.settings(root, compressClosedFiles: true)
        let writer = JournalWriter(settings: settings, logger: logger())
        for cycle in 1...40 { try await writer.append(record("a", cycle: cycle, padding: 300)) }
        try await writer.close()
        let directory = JournalDirectory(root: root.path)
        let files = directory.files(trader: "a")
        #expect(files.count >= 3)
        // Every closed file is compressed; the newest stays plain for appending.
        #expect(files.dropLast().allSatisfy { $0.path.hasSuffix(".jsonl.gz") })
        #expect(files.last?.path.hasSuffix(".jsonl") == true)
        let first = try #require(files.first)
        let compressedSize = try FileManager.default.attributesOfItem(atPath: first.path)[.size] as? Int ?? 0
        #expect(compressedSize > 0 && compressedSize < 4096 / 4)
        #expect(try JournalReplay.records(journal: directory, trader: "a").map(\.cycle) == Array(1...40))

        // A crash after the compressed copy was renamed into place but before the plain file was removed, and a
        // half-written temporary: nothing is read twice, and a restart tidies both.
        let plain = String(first.path.dropLast(".gz".count))
        try Gzip.decompress(try Data(contentsOf: URL(fileURLWithPath: first.path))).write(
            to: URL(fileURLWithPath: plain)
        )
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: files[1].path + ".tmp"))
        #expect(try JournalReplay.records(journal: directory, trader: "a").map(\.cycle) == Array(1...40))
        let restarted = JournalWriter(settings: settings, logger: logger())
        _ = try await restarted.recover()
        for cycle in 41...45 { try await restarted.append(record("a", cycle: cycle, padding: 300)) }
        try await restarted.close()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.traderDirectory("a"))
        #expect(!names.contains { $0.hasSuffix(".tmp") })
        #expect(try JournalReplay.records(journal: directory, trader: "a").map(\.cycle) == Array(1...45))
        #expect(directory.files(trader: "a").dropLast().allSatisfy { $0.path.hasSuffix(".jsonl.gz") })
    }

    /// A backtest's writer (no fsync per batch, encoding beside the loop) that wrote cycles 1–50 of trader `a` and
    /// closed: its settings and its directory.
    func backtestJournal(
        _ name: String,
        compressing: Bool
    ) async throws -> (settings: JournalWriter.Settings, directory: JournalDirectory) {
        let root = try TestPaths.makeScratch(name)
        var settings = self.settings(root, compressClosedFiles: compressing)
        settings.syncsEveryBatch = false
        settings.encodesInBackground = true
        let writer = JournalWriter(settings: settings, logger: logger())
        for cycle in 1...50 { try await writer.append(record("a", cycle: cycle, padding: 200)) }
        try await writer.close()
        return (settings, JournalDirectory(root: root.path))
    }

    /// A journal without an fsync per batch (a backtest's) makes each rotated file durable once: as its compressed
    /// copy (fsynced before it replaces the plain file, which is then removed) — the plain file is not fsynced
    /// first, a wait that held up the writes queued behind it — or, when it stays plain, by an fsync of its own.
    @Test func aRotatedFileWhoseCompressionFails_staysPlain_andIsFsynced() async throws {
        let root = try TestPaths.makeDiskScratch("rotated")
        defer { try? FileManager.default.removeItem(at: root) }
        var settings = self.settings(root, maxFileBytes: 4 << 20, queueCapacity: 16, compressClosedFiles: true)
        settings.syncsEveryBatch = false
        settings.encodesInBackground = true
        let directory = JournalDirectory(root: root.path)
        // The first file's compressed copy cannot be made: a directory stands where its temporary would go.
        let blocked = directory.traderDirectory("a") + "/" + directory.fileName(sequence: 1) + ".gz.tmp"
        try FileManager.default.createDirectory(atPath: blocked, withIntermediateDirectories: true)
        let writer = JournalWriter(settings: settings, logger: logger())
        for cycle in 1...150 { try await writer.append(record("a", cycle: cycle, padding: 64 << 10)) }
        try await writer.close()
        let files = directory.files(trader: "a")
        #expect(files.count >= 3, "\(files)")
        #expect(files.first?.path.hasSuffix(".jsonl") == true, "\(files)")
        #expect(files.dropFirst().dropLast().allSatisfy { $0.path.hasSuffix(".jsonl.gz") }, "\(files)")
        #expect(try JournalReplay.records(journal: directory, trader: "a").map(\.cycle) == Array(1...150))
        // The plain file that stayed, and the last one, are on the disk: none of their pages is dirty.
        for file in [files.first, files.last].compactMap({ $0 }) {
            let pages = try JournalWritebackTests.pages(file.path)
            #expect(pages.cached > 0 && pages.dirty == 0, "\(file.path): \(pages)")
        }
    }

    /// A backtest's writer writes its batches on the files thread: a write that fails there (a full disk: the file
    /// is `/dev/full`) fails the writer — `append`, `flush` and `close` throw it, and the trader's records count
    /// as pending, so the manager holds the trader back.
    @Test func writesBesideTheWriter_aFailedWriteFailsTheWriter_andLeavesRecordsPending() async throws {
        let root = try TestPaths.makeScratch("journal-beside-full")
        var settings = self.settings(root, maxFileBytes: 1 << 20)
        settings.syncsEveryBatch = false
        settings.encodesInBackground = true
        let folder = root.appendingPathComponent("a")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let directory = JournalDirectory(root: root.path)
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent(directory.fileName(sequence: 1)).path,
            withDestinationPath: "/dev/full"
        )
        let writer = JournalWriter(settings: settings, logger: logger())
        var thrown: (any Error)?
        for cycle in 1...40 where thrown == nil {
            do { try await writer.append(record("a", cycle: cycle)) } catch { thrown = error }
        }
        if thrown == nil {
            do { try await writer.flush() } catch { thrown = error }
        }
        let failure = try #require(thrown as? AtomicFile.Failure)
        #expect(failure.code == ENOSPC, "\(failure)")
        #expect(await writer.hasPending(trader: "a"))
        await #expect(throws: AtomicFile.Failure.self) { try await writer.append(record("a", cycle: 41)) }
        await #expect(throws: AtomicFile.Failure.self) { try await writer.close() }
    }

    @Test func withoutAnFsyncPerBatch_everyRecordIsWritten_andACrashedTailIsCut() async throws {
        let (settings, directory) = try await backtestJournal("journal-nosync", compressing: false)
        #expect(directory.files(trader: "a").count >= 3)
        #expect(try JournalReplay.records(journal: directory, trader: "a").map(\.cycle) == Array(1...50))
        // What a crash between batches leaves: a torn line, cut at the next start; the run goes on after it.
        let last = try #require(directory.files(trader: "a").last)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: last.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"cycle":51,"trader"#.utf8))
        try handle.close()
        let restarted = JournalWriter(settings: settings, logger: logger())
        #expect(try await restarted.recover()["a"] ?? 0 > 0)
        try await restarted.append(record("a", cycle: 51))
        try await restarted.close()
        #expect(try JournalReplay.records(journal: directory, trader: "a").map(\.cycle) == Array(1...51))

        // Compressed: a rotated file is fsynced and compressed off the writer's path, and `close` waits for both.
        let compressed = try await backtestJournal("journal-nosync-gz", compressing: true).directory
        let files = compressed.files(trader: "a")
        #expect(files.count >= 3)
        #expect(files.dropLast().allSatisfy { $0.path.hasSuffix(".jsonl.gz") }, "\(files.map(\.path))")
        #expect(try JournalReplay.records(journal: compressed, trader: "a").map(\.cycle) == Array(1...50))
    }

    @Test func closedFiles_areCompressedAtTheConfiguredLevel() async throws {
        // Varied text, so that zlib's levels give different bytes.
        var random = SeededRandom(seed: 17)
        let words = ["BTC", "ETH", "ema20", "buy_to_enter", "hold", "close_position", "0.0425", "117403.24"]
        func padded(_ cycle: Int) -> CycleRecord {
            var entry = record("a", cycle: cycle)
            entry.rawAnswer = .text((0..<80).map { _ in words[random.int(below: words.count)] }.joined(separator: " "))
            return entry
        }
        var compressed: [Int: Data] = [:]
        for level in [1, 9] {
            let root = try TestPaths.makeScratch("journal-gz-level")
            var settings = self.settings(root, maxFileBytes: 16_384, compressClosedFiles: true)
            settings.compressionLevel = level
            random = SeededRandom(seed: 17)
            let writer = JournalWriter(settings: settings, logger: logger())
            for cycle in 1...60 { try await writer.append(padded(cycle)) }
            try await writer.close()
            let directory = JournalDirectory(root: root.path)
            #expect(try JournalReplay.records(journal: directory, trader: "a").map(\.cycle) == Array(1...60))
            let first = try #require(directory.files(trader: "a").first { $0.path.hasSuffix(".gz") })
            compressed[level] = try Data(contentsOf: URL(fileURLWithPath: first.path))
        }
        let fast = try #require(compressed[1])
        let small = try #require(compressed[9])
        // The same plain bytes, compressed at each writer's level (deflate is deterministic).
        let plain = try Gzip.decompress(fast)
        #expect(try Gzip.decompress(small) == plain)
        #expect(fast == (try Gzip.compress(plain, level: 1)))
        #expect(small == (try Gzip.compress(plain, level: 9)))
        #expect(fast != small)
        // A configuration without a level gets zlib's default in a live engine.
        var configured = try EngineFixtures.configuration(scratch: try TestPaths.makeScratch("journal-level"))
        #expect(JournalWriter.Settings(configured.journal).compressionLevel == 6)
        configured.journal.compressionLevel = 2
        #expect(JournalWriter.Settings(configured.journal).compressionLevel == 2)
    }

    @Test func completeLines_skipEmptyLinesAndATornTail_inSlicesToo() {
        func lines(_ text: String) -> [String] {
            JournalDirectory.completeLines(Data(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(lines("") == [])
        #expect(lines("\n\n") == [])
        #expect(lines(#"{"a":1}"#) == [])  // no newline yet: torn
        #expect(lines("{\"a\":1}\n\n{\"b\":\"x\\ny\"}\n{\"c\"") == [#"{"a":1}"#, #"{"b":"x\ny"}"#])
        // A slice whose indices do not start at 0 (as a file's tail is read).
        let whole = Data("xx\nfirst\nsecond\ntorn".utf8)
        let slice = whole[3...]
        #expect(
            JournalDirectory.completeLines(slice).map { String(decoding: $0, as: UTF8.self) } == ["first", "second"]
        )
    }

    @Test func gzip_roundTripsLargeAndEmptyData() throws {
        var large = Data()
        for index in 0..<200_000 { large.append(contentsOf: Array("line \(index)\n".utf8)) }
        #expect(try Gzip.decompress(try Gzip.compress(large)) == large)
        #expect(try Gzip.decompress(try Gzip.compress(Data())) == Data())
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Data("not gzip".utf8)) }

        // A file, streamed a mebibyte at a time (these are over 2 MiB; the noise compresses to more than the 256 KiB
        // an output step holds): the same bytes as compressing it whole, at level 1 (ISA-L's igzip) and at a zlib
        // level, and a standard gzip file that zlib and the system's `gzip -d` read back.
        var random = SeededRandom(seed: 5)
        let noise = Data((0..<(3 << 20)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        let root = try TestPaths.makeScratch("gzip-file")
        for level: Int32 in [1, 6] {
            for (name, data) in [("large", large), ("noise", noise), ("empty", Data())] {
                let source = root.appendingPathComponent("\(name)-\(level)").path
                try data.write(to: URL(fileURLWithPath: source))
                let size = try Gzip.compressFile(source, to: source + ".gz", level: level)
                let packed = try Data(contentsOf: URL(fileURLWithPath: source + ".gz"))
                #expect(packed.count == size)
                #expect(Array(packed.prefix(3)) == [0x1F, 0x8B, 0x08])
                #expect(try Gzip.decompress(packed) == data)
                #expect(packed == (try Gzip.compress(data, level: level)))
                let system = try ProcessRunner.run(
                    "/bin/sh",
                    ["-c", "gzip -dc < \"$0\" | cmp - \"$1\"", source + ".gz", source]
                )
                #expect(system.status == 0, "\(name) at level \(level): \(system.stderr)")
            }
        }
        // The levels' engines differ: igzip's level 1 is not zlib's, and both are smaller than the text.
        #expect(try Gzip.compress(large, level: 1) != (try Gzip.compress(large, level: 2)))
        #expect(try Gzip.compress(large, level: 1).count < large.count / 4)
        #expect(throws: AtomicFile.Failure.self) {
            try Gzip.compressFile(
                root.appendingPathComponent("missing").path,
                to: root.appendingPathComponent("x").path
            )
        }
    }

    @Test func writer_rotatesByAge() async throws {
        let root = try TestPaths.makeScratch("journal")
        let writer = JournalWriter(
            settings: settings(root, maxFileBytes: 1 << 20, rotateInterval: .milliseconds(50), queueCapacity: 100),
            logger: logger()
        )
        try await writer.append(record("a", cycle: 1))
        try await writer.flush()
        try await Task.sleep(for: .milliseconds(80))
        try await writer.append(record("a", cycle: 2))
        try await writer.close()
        #expect(JournalDirectory(root: root.path).files(trader: "a").count == 2)
    }

    @Test func tornLastLine_isCut_andEverythingBeforeItKept() async throws {
        let root = try TestPaths.makeScratch("journal")
        let settings = self.settings(root, maxFileBytes: 1 << 20, queueCapacity: 100)
        let writer = JournalWriter(settings: settings, logger: logger())
        for cycle in 1...5 { try await writer.append(record("a", cycle: cycle)) }
        try await writer.close()
        let path = try #require(JournalDirectory(root: root.path).files(trader: "a").last?.path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        let torn = Data(#"{"schema_version":1,"trader_id":"a","cyc"#.utf8)
        try handle.write(contentsOf: torn)
        try handle.close()

        let restarted = JournalWriter(settings: settings, logger: logger())
        let cut = try await restarted.recover()
        #expect(cut["a"] == torn.count)
        try await restarted.append(record("a", cycle: 6))
        try await restarted.close()
        let records = try JournalReplay.records(journal: JournalDirectory(root: root.path), trader: "a")
        #expect(records.map(\.cycle) == [1, 2, 3, 4, 5, 6])
    }

    func configuration(scratch: URL, environment: [String: String] = [:]) throws -> ArenaConfiguration {
        try EngineFixtures.configuration(scratch: scratch, environment: environment)
    }

    /// The journal is written by `SortedJSONEncoder`; every line of a recorded run (and a model cycle's record,
    /// with prompts, attempts, verdicts, orders and the entry re-check) is byte for byte what Foundation's
    /// `JSONEncoder` writes for the same record, so old and new files read alike.
    @Test func journalLines_areByteForByteWhatJSONEncoderWrites() async throws {
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let scratch = try TestPaths.makeScratch("encoder")
        let configuration = try configuration(scratch: scratch)
        try await recordRun(configuration, cycles: 6)
        let directory = JournalDirectory(root: configuration.journal.path)
        var compared = 0
        for trader in directory.traders() {
            for line in try directory.lines(trader: trader) {
                let record = try JSONDecoder().decode(CycleRecord.self, from: line)
                let expected = try foundation.encode(record)
                // The journal's own reader gives the same record.
                #expect(try CycleRecord.read(from: line) == record)
                #expect(line == expected, "\(trader): \(String(decoding: line.prefix(200), as: UTF8.self))")
                compared += 1
            }
        }
        #expect(compared == 12)
        let behaviour = FakeModelBehaviour(.content(CycleHarness.answer(CycleHarness.entry())))
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await FakeModelServer.makeApplication(behaviour).test(.live) { client in
                let harness = try await CycleHarness.make(port: try #require(client.port), httpClient: httpClient)
                let record = await harness.cycle.run(
                    cycle: 3,
                    now: CycleHarness.now,
                    state: CycleHarness.state(),
                    clock: ManualClock(now: CycleHarness.now)
                )
                #expect(!record.orders.isEmpty && record.entryRecheck != nil && record.userPrompt != nil)
                #expect(try SortedJSONEncoder().encode(record) == foundation.encode(record))
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    @Test func replay_ofARecordedRun_passes_andCatchesAChangedRiskRuleAndTemplate() async throws {
        let scratch = try TestPaths.makeScratch("replay")
        let configuration = try configuration(scratch: scratch)
        try await recordRun(configuration, cycles: 6)
        let directory = JournalDirectory(root: configuration.journal.path)
        #expect(directory.traders() == ["baseline-ema", "baseline-hold"])
        let replay = JournalReplay(configuration: configuration, templatesDirectory: nil)
        for trader in directory.traders() {
            let records = try JournalReplay.records(journal: directory, trader: trader)
            #expect(records.map(\.cycle) == Array(1...6))
            // The shipped user template reads the trader's memory: every cycle journals it, and replay uses it.
            #expect(records.allSatisfy { $0.inputs?.memory != nil })
            #expect(records.last?.inputs?.memory?.cycles.count == 3)
            let summary = try replay.replay(trader: trader, records: records)
            #expect(summary.cycles == 6)
            #expect(summary.mismatchedCycles.isEmpty, "\(summary.differences)")
        }

        // A stricter reward:risk rule: the cycles that entered would now refuse, and replay says which and why.
        let strictEtc = scratch.appendingPathComponent("etc")
        try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent("etc"), to: strictEtc)
        let manager = strictEtc.appendingPathComponent("manager.yaml")
        let text = try String(contentsOf: manager, encoding: .utf8)
        try text.replacingOccurrences(of: "min_risk_reward_ratio: 1.0", with: "min_risk_reward_ratio: 4.0")
            .write(to: manager, atomically: true, encoding: .utf8)
        let strict = try ConfigLoader(
            environment: [
                "ARENA_JOURNAL_PATH": configuration.journal.path
            ],
            baseDirectory: TestPaths.packageRoot.path
        ).load(path: strictEtc.appendingPathComponent("arena.yaml").path)
        let strictSummary = try JournalReplay(configuration: strict, templatesDirectory: nil)
            .replay(
                trader: "baseline-hold",
                records: try JournalReplay.records(journal: directory, trader: "baseline-hold")
            )
        #expect(strictSummary.mismatchedCycles.contains("baseline-hold-1"))
        #expect(
            strictSummary.differences.contains {
                $0.cycleID == "baseline-hold-1" && $0.field == "verdicts" && $0.replayed.contains("riskRewardBelowMin")
            }
        )
        #expect(strictSummary.differences.contains { $0.field == "orders" })

        // A changed template: every cycle's user prompt differs, at the changed line.
        let templates = scratch.appendingPathComponent("templates")
        try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent("prompts"), to: templates)
        let user = templates.appendingPathComponent("user/alpha_arena.mustache")
        let userText = try String(contentsOf: user, encoding: .utf8)
        try userText.replacingOccurrences(of: "Sharpe Ratio: {{sharpe}}", with: "Sharpe: {{sharpe}}")
            .write(to: user, atomically: true, encoding: .utf8)
        let templateSummary = try JournalReplay(configuration: configuration, templatesDirectory: templates.path)
            .replay(
                trader: "baseline-ema",
                records: try JournalReplay.records(journal: directory, trader: "baseline-ema")
            )
        #expect(templateSummary.mismatchedCycles.count == 6)
        #expect(
            templateSummary.differences.allSatisfy {
                $0.field.hasPrefix("user_prompt line") && $0.replayed.hasPrefix("Sharpe: ")
            }
        )
    }

    /// Records a short run of the shipped baseline traders into `scratch`.
    func recordRun(_ configuration: ArenaConfiguration, cycles: Int) async throws {
        let clock = ManualClock(now: EngineFixtures.start)
        for _ in 0..<cycles {
            let assembly = try await EngineAssembly.make(
                configuration: configuration,
                logger: logger(),
                clockOverride: clock
            )
            try await assembly.manager.runOnce()
            try await assembly.journal.close()
            try await assembly.httpClient.shutdown()
            clock.advance(byMilliseconds: 180_000 * 20)
        }
    }

    @Test func counterfactual_asksAnotherModel_reportsDifferences_andCostsNothingTheSecondTime() async throws {
        let scratch = try TestPaths.makeScratch("counterfactual")
        let recorded = try configuration(scratch: scratch)
        try await recordRun(recorded, cycles: 4)

        // A configuration that knows one more model: a fake OpenAI server that holds everything.
        let behaviour = FakeModelBehaviour(
            .content(#"{"decisions":[{"symbol":"BTC","signal":"hold","confidence":0.5}]}"#)
        )
        try await FakeModelServer.makeApplication(behaviour).test(.live) { client in
            let port = try #require(client.port)
            let etc = scratch.appendingPathComponent("etc")
            try? FileManager.default.removeItem(at: etc)
            try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent("etc"), to: etc)
            let llm = etc.appendingPathComponent("llm.yaml")
            var text = try String(contentsOf: llm, encoding: .utf8)
            text = text.replacingOccurrences(
                of: "providers:\n",
                with: """
                    providers:
                      fake:
                        type: openai
                        base_url: http://127.0.0.1:\(port)/v1
                        api_key: sk-fake
                        timeout: 5s
                        retry: {max_retries: 0}
                        healthcheck: {enabled: false}
                        capabilities: {json_object: true}

                    """
            )
            text = text.replacingOccurrences(
                of: "models:\n",
                with: """
                    models:
                      holder:
                        provider: fake
                        model_name: holder-1
                        cost_per_million_tokens: {input: 1, output: 2}

                    """
            )
            try text.write(to: llm, atomically: true, encoding: .utf8)
            let configuration = try ConfigLoader(
                environment: [
                    "ARENA_JOURNAL_PATH": recorded.journal.path,
                    "ARENA_LLM_BUDGET_PATH": scratch.appendingPathComponent("state/llm-budget.json").path,
                    "ARENA_LLM_CACHE_PATH": scratch.appendingPathComponent("state/llm-cache.jsonl").path,
                ],
                baseDirectory: TestPaths.packageRoot.path
            ).load(path: etc.appendingPathComponent("arena.yaml").path)
            let directory = JournalDirectory(root: recorded.journal.path)
            let records = try JournalReplay.records(journal: directory, trader: "baseline-hold")

            func runOnce() async throws -> Counterfactual.Summary {
                let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
                do {
                    let gateway = try await EngineAssembly.makeGateway(
                        configuration: configuration,
                        traders: [],
                        httpClient: httpClient,
                        metrics: EngineMetrics(),
                        logger: logger(),
                        extraModels: ["holder"]
                    )
                    let summary = try await Counterfactual(
                        configuration: configuration,
                        gateway: gateway,
                        replay: JournalReplay(configuration: configuration, templatesDirectory: nil),
                        alias: "holder",
                        schema: "{}",
                        rerender: false
                    ).run(trader: "baseline-hold", records: records)
                    try await httpClient.shutdown()
                    return summary
                } catch {
                    try await httpClient.shutdown()
                    throw error
                }
            }
            let first = try await runOnce()
            #expect(first.cycles.count == 4)
            // Buy-and-hold entered BTC in its first cycle; a model that holds would not have.
            #expect(first.cycles.first?.differs == true)
            #expect(first.cycles.first?.recorded.hasPrefix("BTC buy_to_enter") == true)
            #expect(first.cycles.first?.alternative == "hold → 0 orders")
            #expect(first.costUSD > 0)
            let sent = behaviour.receivedBodies.count
            #expect(sent == 4 - first.cacheHits)
            // The recorded prompts are what was sent.
            #expect(behaviour.receivedBodies.first?.contains("ALL BTC DATA") == true)

            // A second run (a new process: a new gateway reading the cache file) sends nothing and costs nothing.
            let second = try await runOnce()
            #expect(behaviour.receivedBodies.count == sent)
            #expect(second.cacheHits == 4)
            #expect(second.costUSD == 0)
            #expect(second.cycles.map(\.differs) == first.cycles.map(\.differs))
        }
    }
}
