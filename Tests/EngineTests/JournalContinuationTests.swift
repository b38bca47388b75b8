import ArenaTestSupport
import EngineTestSupport
import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import Engine
@testable import Shared

/// A backtest's journal writes the market series that continue the trader's previous record's as
/// `{"append":[…],"shift":k}`: read back in order they are the same records, bit for bit; each file resolves on
/// its own; a continued line read alone is refused, never taken for a whole series.
@Suite("Journal: continued market series")
struct JournalContinuationTests {
    @Test func shift_isTheLongestOverlap_comparedByBits() {
        #expect(MarketContinuation.shift(from: [1, 2, 3, 4], to: [2, 3, 4, 5]) == 1)
        #expect(MarketContinuation.shift(from: [1, 2, 3, 4], to: [1, 2, 3, 4]) == 0)
        #expect(MarketContinuation.shift(from: [1, 2, 3, 4], to: [3, 4, 9, 9]) == 2)
        #expect(MarketContinuation.shift(from: [1, 2, 3, 4], to: [4, 5, 6, 7, 8]) == 3)
        // A shorter series: the overlap is at most its length.
        #expect(MarketContinuation.shift(from: [1, 2, 3, 4], to: [3, 4]) == 2)
        #expect(MarketContinuation.shift(from: [1, 2, 3, 4], to: [5, 6, 7, 8]) == nil)
        #expect(MarketContinuation.shift(from: [], to: [1]) == nil)
        #expect(MarketContinuation.shift(from: [1], to: []) == nil)
        // -0 and 0 are equal numbers but not the same text: not continued.
        #expect(MarketContinuation.shift(from: [1, 0], to: [-0.0, 2]) == nil)
        #expect(MarketContinuation.shift(from: [1, 0.1 + 0.2], to: [0.3, 2]) == nil)
    }

    /// Series that move on by one value most cycles, stay put on others (the context), and a symbol that joins
    /// late; every fifth record of trader "b" has no market (a cycle that failed before it saw one).
    static func record(_ trader: String, cycle: Int) -> CycleRecord {
        var record = CycleRecord(
            traderID: trader,
            cycle: cycle,
            cycleID: "\(trader)-\(cycle)",
            startedAt: Int64(cycle) * 60_000,
            endedAt: Int64(cycle) * 60_000 + 5,
            outcome: .completed,
            modelAsked: "m"
        )
        guard !(trader == "b" && cycle % 5 == 0) else { return record }
        func series(_ base: Double, _ step: Int) -> [Double] { (step..<step + 10).map { base + Double($0) * 0.37 } }
        var symbols: [String: SymbolSnapshot] = [:]
        for (index, symbol) in ["BTC", "ETH", "SOL"].enumerated() where symbol != "SOL" || cycle > 30 {
            let base = Double(index + 1) * 1000
            let hour = cycle / 4
            symbols[symbol] = SymbolSnapshot(
                symbol: symbol,
                asOf: Int64(cycle) * 60_000,
                price: base + Double(cycle),
                markPrice: base + Double(cycle),
                fundingRate: 1.25e-5,
                ema20: base,
                macd: 0.5,
                rsi7: 50,
                intraday: .init(
                    prices: series(base, cycle),
                    ema20: series(base + 1, cycle),
                    macd: series(-3, cycle),
                    rsi7: series(40, cycle),
                    // Every seventh cycle this one jumps: nothing to continue.
                    rsi14: cycle % 7 == 0 ? series(900, cycle) : series(30, cycle)
                ),
                context: .init(
                    ema20: base,
                    ema50: base - 1,
                    atr3: 2,
                    atr14: 3,
                    volume: 10,
                    averageVolume: 11,
                    macd: series(-1, hour),
                    rsi14: series(20, hour)
                )
            )
        }
        record.market = MarketSnapshot(takenAt: Int64(cycle) * 60_000, symbols: symbols)
        return record
    }

    static func settings(_ root: URL, continues: Bool = true) -> JournalWriter.Settings {
        var settings = JournalWriter.Settings(
            root: root.path,
            maxFileBytes: 24_000,
            rotateInterval: .seconds(3600),
            fsyncInterval: .milliseconds(10),
            queueCapacity: 8,
            compressClosedFiles: true
        )
        settings.compressionLevel = 1
        settings.syncsEveryBatch = false
        settings.encodesInBackground = true
        settings.continuesSeries = continues
        return settings
    }

    static func write(_ root: URL, cycles: ClosedRange<Int>, continues: Bool = true) async throws {
        let writer = JournalWriter(settings: settings(root, continues: continues), logger: EngineFixtures.quietLogger())
        _ = try await writer.recover()
        for cycle in cycles {
            for trader in ["a", "b"] { try await writer.append(record(trader, cycle: cycle)) }
        }
        try await writer.close()
    }

    @Test func continuedSeries_readBackExactly_eachFileStartsWhole_andRestartsContinue() async throws {
        let root = try TestPaths.makeScratch("journal-continued")
        try await Self.write(root, cycles: 1...150)
        // A restart: the writer appends to the last file, knowing no market of it.
        try await Self.write(root, cycles: 151...170)
        let directory = JournalDirectory(root: root.path)
        var continuedLines = 0
        for trader in ["a", "b"] {
            let expected = (1...170).map { Self.record(trader, cycle: $0) }
            #expect(try JournalReplay.records(journal: directory, trader: trader) == expected)
            let files = directory.files(trader: trader)
            #expect(files.count >= 4, "\(files.map(\.path))")
            #expect(files.dropLast().allSatisfy { $0.path.hasSuffix(".gz") })
            // Each file on its own: its first record with a market is whole, and its records resolve.
            var read: [CycleRecord] = []
            var before = 0
            try directory.forEachFile(trader: trader) { lines in
                var chain = MarketChain()
                var sawMarket = false
                for line in lines {
                    var (record, continuation) = try CycleRecord.readLine(from: line)
                    if record.market != nil, !sawMarket {
                        #expect(continuation.shifts.isEmpty, "file starting at record \(before + 1) of \(trader)")
                        sawMarket = true
                    }
                    if !continuation.shifts.isEmpty { continuedLines += 1 }
                    try chain.resolve(&record, continuation)
                    read.append(record)
                }
                before += lines.count
            }
            #expect(read == expected)
        }
        // Nearly every record continues the one before it (the first of each file and the rest whole).
        #expect(continuedLines > 250)

        // The same records written whole take a third more bytes (small records, a file every ten of them).
        let wholeRoot = try TestPaths.makeScratch("journal-whole")
        try await Self.write(wholeRoot, cycles: 1...170, continues: false)
        func bytes(_ root: URL) throws -> Int {
            try JournalDirectory(root: root.path).lines(trader: "a").reduce(0) { $0 + $1.count }
        }
        #expect(try bytes(root) * 4 < bytes(wholeRoot) * 3)
        #expect(
            try JournalReplay.records(journal: JournalDirectory(root: wholeRoot.path), trader: "a")
                == JournalReplay.records(journal: directory, trader: "a")
        )
    }

    @Test func aContinuedLine_withoutItsEarlierRecord_isRefused() async throws {
        let root = try TestPaths.makeScratch("journal-continued-alone")
        try await Self.write(root, cycles: 1...3)
        let lines = try JournalDirectory(root: root.path).lines(trader: "a")
        #expect(lines.count == 3)
        // Read alone (an intent's reader, a line picked out of the file): refused, not taken as a short series.
        #expect(throws: MarketContinuation.Failure.self) { try CycleRecord.read(from: lines[1]) }
        #expect(try CycleRecord.read(from: lines[0]) == Self.record("a", cycle: 1))

        // A journal whose first line continues a record that is not there: the replay names the line.
        let orphan = try TestPaths.makeScratch("journal-continued-orphan")
        let folder = orphan.appendingPathComponent("a")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data((lines[1] + Data("\n".utf8) + lines[2] + Data("\n".utf8))).write(
            to: folder.appendingPathComponent("00000001.jsonl")
        )
        let failure = #expect(throws: JournalReplay.Failure.self) {
            try JournalReplay.records(journal: JournalDirectory(root: orphan.path), trader: "a")
        }
        #expect(
            "\(failure.map { "\($0)" } ?? "")".contains("record 1 of a does not decode: market BTC prices continues")
        )

        // A shift past the series it continues.
        let text = String(decoding: lines[1], as: UTF8.self)
        let tampered = text.replacingOccurrences(of: #""shift":1"#, with: #""shift":10"#)
        #expect(tampered != text)
        try Data(lines[0] + Data("\n".utf8) + Data(tampered.utf8) + Data("\n".utf8)).write(
            to: folder.appendingPathComponent("00000001.jsonl")
        )
        let tooFar = #expect(throws: JournalReplay.Failure.self) {
            try JournalReplay.records(journal: JournalDirectory(root: orphan.path), trader: "a")
        }
        #expect("\(tooFar.map { "\($0)" } ?? "")".contains("drops 10 values of an earlier record's 10"))
    }

    /// What the README tells a person to run: `zcat -f FILE | jq -c -n -f scripts/journal-whole.jq` gives each
    /// file's records with every series whole — the same JSON as the records written whole.
    @Test func theJQRecipe_givesEachFileWhole() async throws {
        let root = try TestPaths.makeScratch("journal-continued-jq")
        try await Self.write(root, cycles: 1...60)
        let wholeRoot = try TestPaths.makeScratch("journal-whole-jq")
        try await Self.write(wholeRoot, cycles: 1...60, continues: false)
        let recipe = TestPaths.packageRoot.appendingPathComponent("scripts/journal-whole.jq").path
        for trader in ["a", "b"] {
            var resolved: [NSDictionary] = []
            for file in JournalDirectory(root: root.path).files(trader: trader) {
                let run = try ProcessRunner.run(
                    "/bin/sh",
                    ["-c", "zcat -f \"$0\" | jq -c -n -f \"$1\"", file.path, recipe]
                )
                #expect(run.status == 0, "\(run.stderr)")
                for line in run.stdout.split(separator: "\n") {
                    resolved.append(
                        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary)
                    )
                }
            }
            let whole = try JournalDirectory(root: wholeRoot.path).lines(trader: trader).map {
                try #require(try JSONSerialization.jsonObject(with: $0) as? NSDictionary)
            }
            #expect(whole.count == 60)
            #expect(resolved == whole)
        }
        // A continued line read without the record before it is an error, not a short series.
        let second = try JournalDirectory(root: root.path).lines(trader: "a")[1]
        let alone = try TestPaths.makeScratch("journal-continued-jq-alone").appendingPathComponent("line.jsonl")
        try second.write(to: alone)
        let run = try ProcessRunner.run("/bin/sh", ["-c", "jq -c -n -f \"$1\" < \"$0\"", alone.path, recipe])
        #expect(run.status != 0)
        #expect(run.stderr.contains("market BTC continues a record before this one"))
    }
}
