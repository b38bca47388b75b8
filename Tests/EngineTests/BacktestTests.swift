import ArenaTestSupport
import EngineTestSupport
import Foundation
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Backtest", .serialized)
struct BacktestTests {
    func options(
        _ output: URL,
        from: String = "2025-07-16T00:00:00Z",
        to: String = "2025-07-17T00:00:00Z"
    )
        -> Backtest.Options
    {
        Backtest.Options(
            from: Int64(ISO8601DateFormatter().date(from: from)!.timeIntervalSince1970 * 1000),
            to: Int64(ISO8601DateFormatter().date(from: to)!.timeIntervalSince1970 * 1000),
            symbols: nil,
            dataDirectory: nil,
            intradayInterval: nil,
            traders: nil,
            output: output.path
        )
    }

    func configuration(_ scratch: URL) throws -> ArenaConfiguration {
        try ConfigLoader(
            environment: [
                "ARENA_LLM_BUDGET_PATH": scratch.appendingPathComponent("llm-budget.json").path,
                "ARENA_LLM_CACHE_PATH": scratch.appendingPathComponent("llm-cache.jsonl").path,
            ],
            baseDirectory: TestPaths.packageRoot.path
        ).load(path: TestPaths.shipped.appendingPathComponent("arena.yaml").path)
    }

    func files(_ root: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard let data = FileManager.default.contents(atPath: url.path) else { continue }
            result[String(url.path.dropFirst(root.path.count))] = data
        }
        return result
    }

    @Test func twoRuns_writeByteIdenticalJournals_snapshotsAndReports() async throws {
        let scratch = try TestPaths.makeScratch("backtest")
        let configuration = try configuration(scratch)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let first = try await Backtest.run(
            base: configuration,
            options: options(scratch.appendingPathComponent("one")),
            logger: logger
        )
        let second = try await Backtest.run(
            base: configuration,
            options: options(scratch.appendingPathComponent("two")),
            logger: logger
        )
        #expect(first == second)
        #expect(first.traders.map(\.trader) == ["baseline-ema", "baseline-hold"])
        // One day of 3-minute decisions, both ends included: 481 cycles each, 481 candles of each of 5 symbols.
        #expect(first.traders.allSatisfy { $0.cycles == 481 && $0.failedCycles == 0 })
        #expect(first.candles == 5 * 481)
        #expect(first.traders.contains { $0.trades > 0 || $0.feesUSD > 0 })

        let journalOne = try files(scratch.appendingPathComponent("one/journal"))
        let journalTwo = try files(scratch.appendingPathComponent("two/journal"))
        #expect(!journalOne.isEmpty)
        #expect(journalOne.keys.sorted() == journalTwo.keys.sorted())
        for (name, data) in journalOne { #expect(journalTwo[name] == data, "\(name) differs") }
        // The snapshot generation, served like a live one.
        let generationOne = try #require(
            SnapshotReader(root: scratch.appendingPathComponent("one/mcp-data").path).resolve()
        )
        let generationTwo = try #require(
            SnapshotReader(root: scratch.appendingPathComponent("two/mcp-data").path).resolve()
        )
        let snapshotOne = try files(URL(fileURLWithPath: generationOne.directory))
        // The eight nof1 documents and ours: results by prompt version.
        #expect(snapshotOne.count == SnapshotDocument.allCases.count + 1)
        #expect(snapshotOne["/\(PromptVersionsDocument.fileName)"] != nil)
        #expect(snapshotOne == (try files(URL(fileURLWithPath: generationTwo.directory))))

        // The journal replays clean: the backtest used the live cycle's code.
        let replay = JournalReplay(
            configuration: try Backtest.configuration(
                configuration,
                options: options(scratch.appendingPathComponent("one"))
            ),
            templatesDirectory: nil
        )
        let directory = JournalDirectory(root: scratch.appendingPathComponent("one/journal").path)
        for trader in directory.traders() {
            let summary = try replay.replay(
                trader: trader,
                records: try JournalReplay.records(journal: directory, trader: trader)
            )
            #expect(summary.cycles == 481)
            #expect(summary.mismatchedCycles.isEmpty, "\(summary.differences.prefix(2))")
            // Baselines never read a prompt, so the backtest rendered none: the rest of each cycle was compared.
            #expect(summary.withoutPrompts == 481)
            // Its records' series continue the record before them (`MarketContinuation`): all but the first.
            let continued = try directory.lines(trader: trader).filter {
                !(try CycleRecord.readLine(from: $0).continuation.shifts.isEmpty)
            }
            #expect(continued.count == 480)
        }
    }

    /// A trader whose interval is longer than its candles decides exactly every interval (the clock stops at its
    /// due time between two closes), and one whose interval is shorter waits for the next close: the runner's
    /// view of when each last decided follows every cycle.
    @Test func decisionTimes_followTheInterval_orTheNextClose() async throws {
        let scratch = try TestPaths.makeScratch("backtest-times")
        var configuration = try configuration(scratch)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        for (name, interval, step) in [("seven", 420 as Int64, 420_000 as Int64), ("two", 120, 180_000)] {
            let index = try #require(configuration.manager.traders.firstIndex { $0.id == "baseline-ema" })
            configuration.manager.traders[index].decisionInterval = .seconds(interval)
            var options = options(scratch.appendingPathComponent(name))
            options.traders = ["baseline-ema"]
            let report = try await Backtest.run(base: configuration, options: options, logger: logger)
            let directory = JournalDirectory(root: scratch.appendingPathComponent("\(name)/journal").path)
            let times = try JournalReplay.records(journal: directory, trader: "baseline-ema").map(\.startedAt)
            // One day: every 7 minutes (206 decisions), or every 3-minute close (481).
            #expect(times.count == (interval == 420 ? 206 : 481))
            #expect(report.traders.first?.cycles == times.count)
            #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 == step }, "\(name)")
        }
    }

    /// While every account is flat the runner leaves out the ticks that would change nothing — and the run is the
    /// same, byte for byte, as one ticking at every close (`--every-tick`): journal, snapshot (the marks of the
    /// last close, 23:36, inside a quiet hour), state, report and equity files. One symbol, decisions every 150 minutes on 3-minute candles (so
    /// hours pass without one: their equity points are taken by ticks alone), a 6-hour cooldown after each close
    /// and a 4 % drawdown switch: flat stretches across hours and days between positions with stops, then flat
    /// from the switch to the end.
    @Test func quietTicks_areLeftOut_andChangeNothing() async throws {
        let scratch = try TestPaths.makeScratch("backtest-quiet")
        let arena = try EngineFixtures.shippedCopy(in: scratch) { shipped in
            var text = shipped.replacingOccurrences(of: "cooldown_after_close: 15m", with: "cooldown_after_close: 6h")
                .replacingOccurrences(of: "max_drawdown_pct: 30", with: "max_drawdown_pct: 4")
            let ema = try #require(text.range(of: "id: baseline-ema"))
            let interval = try #require(
                text.range(of: "decision_interval: 3m", range: ema.upperBound..<text.endIndex)
            )
            text.replaceSubrange(interval, with: "decision_interval: 150m")
            return text
        }
        let configuration = try EngineFixtures.configuration(scratch: scratch, path: arena)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        func run(_ name: String, everyTick: Bool) async throws -> Backtest.Report {
            var options = options(
                scratch.appendingPathComponent(name),
                from: "2025-07-15T00:00:00Z",
                to: "2025-07-21T23:37:00Z"
            )
            options.traders = ["baseline-ema"]
            options.symbols = ["BTC"]
            options.ticksEveryStep = everyTick
            return try await Backtest.run(base: configuration, options: options, logger: logger)
        }
        let every = try await run("every", everyTick: true)
        let quiet = try await run("quiet", everyTick: false)
        let result = try #require(quiet.traders.first)
        // What the scenario is meant to cover: positions, flat stretches, the switch.
        #expect(result.trades >= 3)
        #expect(result.exposurePct > 20 && result.exposurePct < 80, "\(result.exposurePct)")
        #expect(result.maxDrawdownPct > 4)
        #expect(quiet.ticks < every.ticks * 2 / 3, "\(quiet.ticks) of \(every.ticks)")
        #expect(quiet.cycles == every.cycles && quiet.traders == every.traders)
        let everyFiles = try files(scratch.appendingPathComponent("every"))
        let quietFiles = try files(scratch.appendingPathComponent("quiet"))
        #expect(everyFiles.count >= 10)
        #expect(everyFiles.keys.sorted() == quietFiles.keys.sorted())
        for (name, data) in everyFiles { #expect(quietFiles[name] == data, "\(name) differs") }
    }

    /// Without `--record-prompts` a baseline's backtest cycle renders no prompt (and says so in the record); with
    /// it, the prompts are there and replay compares them too. Decisions, verdicts and orders are the same either
    /// way, and a changed risk rule shows on the prompt-less records.
    @Test func baselinePrompts_areRenderedOnlyWhenRecorded() async throws {
        let scratch = try TestPaths.makeScratch("backtest-prompts")
        let configuration = try configuration(scratch)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        var plain = options(scratch.appendingPathComponent("plain"), to: "2025-07-16T06:00:00Z")
        plain.traders = ["baseline-ema"]
        var recorded = options(scratch.appendingPathComponent("recorded"), to: "2025-07-16T06:00:00Z")
        recorded.traders = ["baseline-ema"]
        recorded.recordsPrompts = true
        let first = try await Backtest.run(base: configuration, options: plain, logger: logger)
        let second = try await Backtest.run(base: configuration, options: recorded, logger: logger)
        #expect(first == second)

        func records(_ options: Backtest.Options) throws -> [CycleRecord] {
            try JournalReplay.records(
                journal: JournalDirectory(root: (options.output as NSString).appendingPathComponent("journal")),
                trader: "baseline-ema"
            )
        }
        let without = try records(plain)
        let with = try records(recorded)
        #expect(without.count == 121 && with.count == 121)
        #expect(without.allSatisfy { $0.promptsSkipped == true && $0.userPrompt == nil && $0.templates.isEmpty })
        #expect(with.allSatisfy { $0.promptsSkipped == nil && $0.userPrompt?.contains("ALL ETH DATA") == true })
        #expect(without.map(\.decisions) == with.map(\.decisions))
        #expect(without.map(\.orders) == with.map(\.orders))
        #expect(without.contains { !$0.orders.isEmpty })

        let replayed = JournalReplay(
            configuration: try Backtest.configuration(configuration, options: recorded),
            templatesDirectory: nil
        )
        let full = try replayed.replay(trader: "baseline-ema", records: with)
        #expect(full.matched == 121 && full.withoutPrompts == 0)
        let bare = try replayed.replay(trader: "baseline-ema", records: without)
        #expect(bare.matched == 121 && bare.withoutPrompts == 121 && bare.skipped == 0)

        // A narrower trader (ETH dropped from its symbols: its decisions now refuse as UNKNOWN_SYMBOL) changes
        // what the prompt-less records replay to.
        var stricter = try Backtest.configuration(configuration, options: plain)
        let index = try #require(stricter.manager.traders.firstIndex { $0.id == "baseline-ema" })
        stricter.manager.traders[index].symbols = ["BTC", "SOL"]
        let changed = try JournalReplay(configuration: stricter, templatesDirectory: nil)
            .replay(trader: "baseline-ema", records: without)
        #expect(!changed.mismatchedCycles.isEmpty)
        #expect(changed.differences.contains { $0.field == "verdicts" })

        // A long journal is replayed in runs on every core: the summary is the one a record-by-record loop
        // gives, differences in record order (records tampered with across the runs).
        var long = (0..<4).flatMap { round in
            with.map { record in
                var copy = record
                copy.cycleID += "-\(round)"
                return copy
            }
        }
        for index in [3, 130, 260, 481] {
            long[index].userPrompt = (long[index].userPrompt ?? "") + "\ntampered"
        }
        long[200].systemPrompt = nil
        long[200].promptsSkipped = nil
        let joined = try replayed.replay(trader: "baseline-ema", records: long)
        var oneByOne = JournalReplay.TraderSummary(trader: "baseline-ema")
        for record in long {
            let one = try replayed.replay(trader: "baseline-ema", records: [record])
            oneByOne.cycles += one.cycles
            oneByOne.matched += one.matched
            oneByOne.skipped += one.skipped
            oneByOne.mismatchedCycles += one.mismatchedCycles
            oneByOne.differences += one.differences
        }
        #expect(joined.cycles == 483 && joined.skipped == 1 && joined.matched == 479)
        #expect(joined.mismatchedCycles == [3, 130, 260, 481].map { long[$0].cycleID })
        #expect(joined.mismatchedCycles == oneByOne.mismatchedCycles)
        #expect(joined.differences.map(\.description) == oneByOne.differences.map(\.description))
        #expect(
            (joined.cycles, joined.matched, joined.skipped) == (oneByOne.cycles, oneByOne.matched, oneByOne.skipped)
        )
    }

    @Test func configuration_movesEveryVenueToPaper_andNarrowsSymbols() throws {
        let scratch = try TestPaths.makeScratch("backtest-config")
        var options = options(scratch.appendingPathComponent("out"))
        options.symbols = ["ETH"]
        let derived = try Backtest.configuration(try configuration(scratch), options: options)
        // baseline-hold trades only BTC: left out; baseline-ema keeps ETH.
        #expect(derived.traders.map(\.id) == ["baseline-ema"])
        #expect(derived.traders.first?.symbols == ["ETH"])
        #expect(derived.exchange.providers.values.allSatisfy { $0.kind == .sim && $0.statePath == nil })
        #expect(derived.journal.path.hasPrefix(scratch.path))
        #expect(derived.dataPath.hasPrefix(scratch.path))
        #expect(derived.manager.statePath.hasPrefix(scratch.path))
        // Records go to disk in small batches (a long backtest's memory stays flat).
        #expect(derived.journal.queueCapacity == Backtest.journalBatch)
        // Rotated files are gzipped at the fast level unless the configuration names one.
        #expect(derived.journal.compressionLevel == ArenaConfiguration.Journal.backtestCompressionLevel)
        #expect(!derived.journal.syncsEveryBatch)
        var named = try configuration(scratch)
        named.journal.compressionLevel = 9
        #expect(try Backtest.configuration(named, options: options).journal.compressionLevel == 9)

        options.traders = ["nobody"]
        #expect(throws: Backtest.Failure.self) {
            try Backtest.configuration(try configuration(scratch), options: options)
        }
    }
}
