import ArenaAdapters
import ArenaCore
import ArenaRuntime
import Foundation
import Logging
import Shared
import Synchronization

/// Measures the engine's own time per decision cycle with a model that answers instantly: prompt rendering,
/// parsing, risk and orders on the paper exchange. Export is measured separately. Used by `engine bench`.
struct CycleBenchmark {
    struct Result: Sendable {
        var cycles: Int
        var symbols: Int
        var medianCycleMicroseconds: Double
        var p99CycleMicroseconds: Double
        var exportMilliseconds: Double
        var exportTraders: Int
        var tickMicrosecondsPerTrader: Double
        var journalRecordsPerSecond: Double
        var journalMegabytesPerSecond: Double
        var journalRecordBytes: Int
        var unsyncedJournalRecordsPerSecond: Double
        var unsyncedJournalMegabytesPerSecond: Double
        /// Encoded beside the loop on every core, as a backtest writes it; fsync per batch.
        var backgroundJournalRecordsPerSecond: Double
        var backgroundJournalMegabytesPerSecond: Double
        /// The same records encoded on every core and written nowhere: what any append could reach on this CPU.
        var encodingCeilingRecordsPerSecond: Double
        var encodingCeilingMegabytesPerSecond: Double
        var replayCyclesPerSecond: Double
        /// As `engine replay` runs: the same records read back from journal files (a file at a time), decoded and
        /// replayed.
        var replayFromFilesCyclesPerSecond: Double
        /// One journal record decoded by Foundation's `JSONDecoder` and by the journal's reader (same record).
        var foundationDecodeMicroseconds: Double
        var readerDecodeMicroseconds: Double
        /// One journal record encoded by Foundation's `JSONEncoder` and by `SortedJSONEncoder` (same bytes).
        var foundationEncodeMicroseconds: Double
        var sortedEncodeMicroseconds: Double

        /// Traders one engine sustains on a 3-minute interval within half a core: each trader costs one cycle,
        /// 180 ticks of bookkeeping and its share of the exports in every 3 minutes.
        var tradersAtHalfACore: Int {
            let perTraderPerInterval =
                medianCycleMicroseconds + 180 * tickMicrosecondsPerTrader
                + exportMilliseconds * 1000 / Double(max(exportTraders, 1)) * 12
            return Int(0.5 * 180_000_000 / perTraderPerInterval)
        }
    }

    /// A model that answers at once, alternating between opening two positions and closing them, so every
    /// cycle sends orders. Its answer is written with the journal's encoder, whose cost is a small part of a
    /// cycle (Foundation's `JSONEncoder` was a quarter of the measured time).
    struct InstantModel: LLMClient {
        /// The texts of the answers given lately (the bench's cycles alternate between two).
        final class Answers: Sendable {
            private let recent = Mutex<[(decisions: [Decision], text: String)]>([])

            func text(for decisions: [Decision], _ make: () -> String) -> String {
                if let known = recent.withLock({ $0.first { $0.decisions == decisions }?.text }) { return known }
                let text = make()
                recent.withLock { recent in
                    recent.append((decisions, text))
                    if recent.count > 8 { recent.removeFirst() }
                }
                return text
            }
        }

        let answers = Answers()

        func complete(_ request: LLMRequest) async throws(LLMError) -> LLMResponse {
            let input = request.input
            let decisions: [Decision] = input.symbols.prefix(2).map { symbol in
                let price = input.market.symbols[symbol]?.price ?? 1
                if input.account.positions[symbol] != nil {
                    return Decision(symbol: symbol, signal: .closePosition, confidence: 0.9)
                }
                return Decision(
                    symbol: symbol,
                    signal: .buyToEnter,
                    leverage: 2,
                    positionSizeUSD: 1000,
                    stopLoss: BaselinePolicy.round(price * 0.99),
                    takeProfit: BaselinePolicy.round(price * 1.03),
                    confidence: 0.8,
                    riskUSD: 10,
                    invalidationCondition: "bench",
                    reasoning: "bench"
                )
            }
            // A baseline's answer text (`JSONEncoder`'s sorted-keys bytes), once per distinct answer: the fake
            // model's own encoding is not the engine's time (it was 8 % of the measure).
            let text = answers.text(for: decisions) { (try? AnswerText.text(of: decisions)) ?? "" }
            return LLMResponse(
                text: text,
                modelName: "instant",
                promptTokens: 0,
                completionTokens: 0,
                latencyMilliseconds: 0
            )
        }
    }

    /// Six symbols: the five bundled ones and a sixth made from DOGE's data.
    struct SixSymbolMarket: MarketProvider {
        let id = "bench"
        let replay: ReplayMarketProvider
        var symbols: [String] { ["BTC", "ETH", "SOL", "DOGE", "HYPE", "XRP"] }

        func snapshot(symbols requested: [String], now: Int64) async throws -> MarketSnapshot {
            var snapshot = try await replay.snapshot(symbols: ["BTC", "ETH", "SOL", "DOGE", "HYPE"], now: now)
            if var xrp = snapshot.symbols["DOGE"] {
                xrp.symbol = "XRP"
                snapshot.symbols["XRP"] = xrp
            }
            snapshot.symbols = snapshot.symbols.filter { requested.contains($0.key) }
            return snapshot
        }
    }

    let configuration: ArenaConfiguration
    let cycles: Int

    func run() async throws -> Result {
        guard let replayConfiguration = configuration.market.providers.values.first(where: { $0.kind == .replay }),
            let base = configuration.traders.first
        else {
            throw EngineAssembly.Failure(
                message: "bench needs a replay market provider and a trader in the configuration"
            )
        }
        let replay = try ReplayMarketProvider.load(configuration: replayConfiguration)
        let market = SixSymbolMarket(replay: replay)
        guard let now = replay.earliestCompleteTime().map({ $0 + 86_400_000 }) else {
            throw EngineAssembly.Failure(message: "bench: the replay market has no complete data")
        }
        let trader = TraderConfiguration(
            id: "bench",
            name: "bench",
            exchangeProvider: base.exchangeProvider,
            marketProvider: replayConfiguration.id,
            orderStyle: .marketIOC,
            marketIOCSlippageBps: 50,
            promptTemplate: base.promptTemplate,
            executorPromptTemplate: base.executorPromptTemplate,
            model: base.model,
            fallbackModels: [],
            decisionInterval: .seconds(180),
            allocationPct: 10,
            autoStart: true,
            symbols: market.symbols,
            riskParams: base.riskParams,
            disabledReason: nil,
            keyPath: "bench"
        )
        let exchange = SimExchange(
            id: "paper",
            ledger: SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2),
            statePath: nil
        )
        try exchange.openAccount(trader: "bench", capital: 100_000)
        let initial = try await market.snapshot(symbols: market.symbols, now: now)
        try exchange.updateMarket(prices: initial.symbols.mapValues(\.markPrice), funding: [:], now: now)
        let pipeline = try TraderPipeline.make(
            trader: trader,
            configuration: configuration,
            decisionSchema: try TraderPipeline.decisionSchema(configuration)
        )
        guard let model = configuration.llm.models[base.model] else {
            throw EngineAssembly.Failure(message: "unknown model \(base.model)")
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let cycle = DecisionCycle(
            pipeline: pipeline,
            market: market,
            maxStaleness: 600_000,
            exchange: exchange,
            model: model,
            gateway: .direct(model: model, client: InstantModel(), logger: logger),
            decisionTimeout: .seconds(5),
            assets: AssetInfo.catalog,
            logger: logger
        )
        let clock = ManualClock(now: now)
        var state = TraderState()
        state.startedAt = now
        state.inceptionCapital = 100_000
        var durations: [Double] = []
        durations.reserveCapacity(cycles)
        var placed = 0
        var records: [CycleRecord] = []
        for index in 1...cycles {
            let started = ContinuousClock.now
            let record = await cycle.run(cycle: index, now: now, state: state, clock: clock)
            durations.append((ContinuousClock.now - started).microseconds)
            placed += record.ordersPlaced
            if records.count < 1000 { records.append(record) }
            guard record.outcome == .completed else {
                throw EngineAssembly.Failure(message: "bench cycle \(index) failed: \(record.error ?? "")")
            }
        }
        guard placed > 0 else { throw EngineAssembly.Failure(message: "bench cycles placed no orders") }
        durations.sort()

        // Export: a snapshot of 100 traders like the bench trader, built and published.
        let account = try exchange.account(trader: "bench")
        let trades = exchange.closedTrades(trader: "bench")
        let views = (0..<100).map { _ in
            ArenaSnapshotBuilder.TraderView(
                configuration: trader,
                state: state,
                account: account,
                trades: Array(trades.suffix(50))
            )
        }
        let directory = NSTemporaryDirectory() + "arena-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let publisher = SnapshotPublisher(root: directory, keepGenerations: 2, gracePeriod: .zero)
        var exportDurations: [Double] = []
        for _ in 0..<20 {
            let started = ContinuousClock.now
            let files = try ArenaSnapshotBuilder(traders: views, prices: exchange.marks, now: now).encodedFiles()
            try publisher.publish(files)
            exportDurations.append((ContinuousClock.now - started).microseconds / 1000)
        }
        exportDurations.sort()

        // Tick bookkeeping per trader: account sync and state observation.
        let store = try ManagerStore(path: nil)
        store.begin(trader: "bench", capital: 100_000, now: now)
        let tickStarted = ContinuousClock.now
        let ticks = 2000
        for tick in 0..<ticks {
            let fresh = try exchange.account(trader: "bench")
            let closed = exchange.closedTrades(trader: "bench")
            _ = store.observe(trader: trader, account: fresh, trades: closed, now: now + Int64(tick) * 1000)
        }
        let tickMicroseconds = (ContinuousClock.now - tickStarted).microseconds / Double(ticks)

        // Journal: realistic records (full prompts, snapshots, decisions, orders), batched, with and without the
        // fsync of each batch; each form writes the same number of them.
        let journalRecords = 20_000
        // `inBackground`: as a backtest writes it — batches of `Backtest.journalBatch` encoded beside the loop on
        // every core, the previous batch written meanwhile.
        func journalThroughput(
            syncing: Bool,
            inBackground: Bool = false
        ) async throws -> (recordsPerSecond: Double, bytesPerSecond: Double, bytes: Int) {
            let journalDirectory = directory + "-journal-\(syncing)-\(inBackground)"
            defer { try? FileManager.default.removeItem(atPath: journalDirectory) }
            var settings = JournalWriter.Settings(
                root: journalDirectory,
                maxFileBytes: 256 << 20,
                rotateInterval: .seconds(86_400),
                fsyncInterval: .milliseconds(200),
                queueCapacity: inBackground ? Backtest.journalBatch : 4096
            )
            settings.syncsEveryBatch = syncing
            settings.encodesInBackground = inBackground
            settings.fillsQueueByDesign = inBackground
            let writer = JournalWriter(settings: settings, logger: logger)
            let started = ContinuousClock.now
            for index in 0..<journalRecords { try await writer.append(records[index % records.count]) }
            try await writer.close()
            let seconds = (ContinuousClock.now - started).microseconds / 1_000_000
            let bytes = JournalDirectory(root: journalDirectory).files(trader: "bench").reduce(0) { total, file in
                total + ((try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0)
            }
            return (Double(journalRecords) / seconds, Double(bytes) / seconds, bytes / journalRecords)
        }
        let synced = try await journalThroughput(syncing: true)
        let unsynced = try await journalThroughput(syncing: false)
        let background = try await journalThroughput(syncing: true, inBackground: true)

        // The ceiling of any append here: the same records, in the same batches, encoded on every core at once
        // (`JournalWriter.linesBeside`, as a backtest encodes) and written nowhere. An fsync'd append cannot beat
        // it whatever the disk: against a disk faster than this, the CPU is the limit.
        let ceilingStarted = ContinuousClock.now
        var ceilingBytes = 0
        for start in stride(from: 0, to: journalRecords, by: Backtest.journalBatch) {
            let batch = (start..<min(start + Backtest.journalBatch, journalRecords)).map { records[$0 % records.count] }
            let lines = try await JournalWriter.linesBeside(batch, encoder: SortedJSONEncoder(), continuing: nil)
            ceilingBytes += lines.reduce(0) { $0 + $1.line.count }
        }
        let ceilingSeconds = (ContinuousClock.now - ceilingStarted).microseconds / 1_000_000

        // Encoding alone: the journal's encoder against Foundation's, on the same records (the bytes are equal).
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let sorted = SortedJSONEncoder()
        func timeEncoding(_ encode: (CycleRecord) throws -> Data) throws -> Double {
            let rounds = 2_000
            let started = ContinuousClock.now
            var total = 0
            for index in 0..<rounds { total &+= try encode(records[index % records.count]).count }
            precondition(total > 0)
            return (ContinuousClock.now - started).microseconds / Double(rounds)
        }
        let foundationEncode = try timeEncoding { try foundation.encode($0) }
        let sortedEncode = try timeEncoding { try sorted.encode($0) }

        // Replay: prompts, parse, risk and intents of the recorded cycles, ten times over (a long journal: runs of
        // it on every core; long enough that starting them is not the measure).
        let journalReplay = JournalReplay(configuration: configuration, templatesDirectory: nil)
        let replayed = Array(repeatElement(records, count: 10).joined())
        let replayStarted = ContinuousClock.now
        let summary = try journalReplay.replay(trader: trader, records: replayed)
        let replaySeconds = (ContinuousClock.now - replayStarted).microseconds / 1_000_000
        guard summary.mismatchedCycles.isEmpty, summary.matched == replayed.count else {
            throw EngineAssembly.Failure(
                message: "bench replay differs: \(summary.differences.first.map { "\($0)" } ?? "")"
            )
        }

        // Decoding alone: JSONDecoder against the journal's reader, on the same lines (the records are equal).
        let lines = try records.map { try sorted.encode($0) }
        func timeDecoding(rounds: Int, _ decode: (Data) throws -> CycleRecord) throws -> Double {
            let started = ContinuousClock.now
            var total = 0
            for index in 0..<rounds { total &+= try decode(lines[index % lines.count]).cycle }
            precondition(total > 0)
            return (ContinuousClock.now - started).microseconds / Double(rounds)
        }
        let foundationDecode = try timeDecoding(rounds: 500) { try JSONDecoder().decode(CycleRecord.self, from: $0) }
        let readerDecode = try timeDecoding(rounds: 2_000) { try CycleRecord.read(from: $0) }

        // As `engine replay` runs: the ten-fold records written as a journal (plain files of 64 MiB), then read,
        // decoded and replayed a file at a time.
        let replayDirectory = directory + "-replay"
        defer { try? FileManager.default.removeItem(atPath: replayDirectory) }
        let replayWriter = JournalWriter(
            settings: JournalWriter.Settings(
                root: replayDirectory,
                maxFileBytes: 64 << 20,
                rotateInterval: .seconds(86_400),
                fsyncInterval: .milliseconds(200),
                queueCapacity: 4096
            ),
            logger: logger
        )
        for record in replayed { try await replayWriter.append(record) }
        try await replayWriter.close()
        let fromFilesStarted = ContinuousClock.now
        let fromFiles = try journalReplay.replay(journal: JournalDirectory(root: replayDirectory), trader: trader)
        let fromFilesSeconds = (ContinuousClock.now - fromFilesStarted).microseconds / 1_000_000
        guard fromFiles.mismatchedCycles.isEmpty, fromFiles.matched == replayed.count else {
            throw EngineAssembly.Failure(message: "bench replay from files differs or misses records")
        }

        return Result(
            cycles: cycles,
            symbols: market.symbols.count,
            medianCycleMicroseconds: durations[durations.count / 2],
            p99CycleMicroseconds: durations[min(durations.count - 1, durations.count * 99 / 100)],
            exportMilliseconds: exportDurations[exportDurations.count / 2],
            exportTraders: views.count,
            tickMicrosecondsPerTrader: tickMicroseconds,
            journalRecordsPerSecond: synced.recordsPerSecond,
            journalMegabytesPerSecond: synced.bytesPerSecond / 1_000_000,
            journalRecordBytes: synced.bytes,
            unsyncedJournalRecordsPerSecond: unsynced.recordsPerSecond,
            unsyncedJournalMegabytesPerSecond: unsynced.bytesPerSecond / 1_000_000,
            backgroundJournalRecordsPerSecond: background.recordsPerSecond,
            backgroundJournalMegabytesPerSecond: background.bytesPerSecond / 1_000_000,
            encodingCeilingRecordsPerSecond: Double(journalRecords) / ceilingSeconds,
            encodingCeilingMegabytesPerSecond: Double(ceilingBytes) / ceilingSeconds / 1_000_000,
            replayCyclesPerSecond: Double(summary.cycles) / replaySeconds,
            replayFromFilesCyclesPerSecond: Double(fromFiles.cycles) / fromFilesSeconds,
            foundationDecodeMicroseconds: foundationDecode,
            readerDecodeMicroseconds: readerDecode,
            foundationEncodeMicroseconds: foundationEncode,
            sortedEncodeMicroseconds: sortedEncode
        )
    }
}

extension Duration {
    var microseconds: Double {
        Double(components.seconds) * 1_000_000 + Double(components.attoseconds) / 1_000_000_000_000
    }
}
