import ArenaAdapters
import ArenaCore
import Foundation
import Logging
import Shared

/// `engine backtest`: the configured traders over a candle range, on the replay market and the paper exchange,
/// with a virtual clock that jumps from event to event. It writes a journal and a snapshot generation under its
/// output directory exactly as a live run would, and reports each trader's result. Only the wiring differs from
/// a live run; the cycle, the risk checks and the order logic are the same code.
package struct Backtest {
    package struct Options: Sendable {
        package var from: Int64?
        package var to: Int64?
        package var symbols: [String]?
        package var dataDirectory: String?
        package var intradayInterval: String?
        package var traders: [String]?
        package var output: String
        /// Render and journal the prompts of in-process baseline traders too (they never read them).
        package var recordsPrompts = false
        /// Only this span before the end (`--last 7d`), instead of `from`.
        package var last: Int64?
        /// Ask a trader to decide again before another candle has closed (its decision interval is shorter than
        /// the candles'); by default it waits for the next close.
        package var decidesBetweenCloses = false
        /// Refuse to start when a symbol has no funding file, instead of naming it and charging no funding.
        package var requiresFunding = false
        /// Tick at every step, quiet or not (`--every-tick`): slower, the same results (what shows that leaving
        /// the quiet ticks out changes nothing).
        package var ticksEveryStep = false
        /// Templates from this directory in place of `prompts/` (the same file names), as `--compare-templates`.
        package var templatesDirectory: String?

        package init(
            from: Int64? = nil,
            to: Int64? = nil,
            symbols: [String]? = nil,
            dataDirectory: String? = nil,
            intradayInterval: String? = nil,
            traders: [String]? = nil,
            output: String
        ) {
            self.from = from
            self.to = to
            self.symbols = symbols
            self.dataDirectory = dataDirectory
            self.intradayInterval = intradayInterval
            self.traders = traders
            self.output = output
        }
    }

    package struct TraderResult: Sendable, Codable, Equatable {
        var trader: String
        var model: String
        package var cycles: Int
        var failedCycles: Int
        var returnPct: Double
        var maxDrawdownPct: Double
        var sharpe: Double
        var trades: Int
        var winRatePct: Double
        var feesUSD: Double
        var promptTokens: Int
        var completionTokens: Int
        var llmCostUSD: Double
        var pnlNetOfLLMUSD: Double
        /// Nil when unbounded (no losing trade, no negative hour, no drawdown) or undefined.
        var profitFactor: Double?
        var calmar: Double?
        var sortino: Double?
        var exposurePct: Double
        var averageWinUSD: Double
        var averageLossUSD: Double
        var longestLosingStreak: Int
        var symbols: [SymbolResult]

        enum CodingKeys: String, CodingKey {
            case trader, model, cycles, sharpe, trades, calmar, sortino, symbols
            case profitFactor = "profit_factor"
            case exposurePct = "exposure_pct"
            case averageWinUSD = "average_win_usd"
            case averageLossUSD = "average_loss_usd"
            case longestLosingStreak = "longest_losing_streak"

            case failedCycles = "failed_cycles"
            case returnPct = "return_pct"
            case maxDrawdownPct = "max_drawdown_pct"
            case winRatePct = "win_rate_pct"
            case feesUSD = "fees_usd"
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case llmCostUSD = "llm_cost_usd"
            case pnlNetOfLLMUSD = "pnl_net_of_llm_usd"
        }
    }

    /// One symbol's closed trades of one trader.
    package struct SymbolResult: Sendable, Codable, Equatable {
        var symbol: String
        var trades: Int
        var wins: Int
        var winRatePct: Double
        var netPnLUSD: Double
        var feesUSD: Double
        var fundingUSD: Double

        enum CodingKeys: String, CodingKey {
            case symbol, trades, wins
            case winRatePct = "win_rate_pct"
            case netPnLUSD = "net_pnl_usd"
            case feesUSD = "fees_usd"
            case fundingUSD = "funding_usd"
        }
    }

    package struct Report: Sendable, Codable, Equatable {
        var from: String
        var to: String
        package var candles: Int
        package var cycles: Int
        package var traders: [TraderResult]
        /// Symbols whose replay data has no funding file: no funding was charged on them.
        package var fundingMissing: [String] = []
        /// Warnings and errors the run logged, by message (printed once each, counted here).
        package var logCounts: [String: Int] = [:]
        /// Each trader's hourly equity, ending with its equity at the end (for the equity-curve files).
        package var curves: [String: [TraderState.EquityPoint]] = [:]
        /// Ticks made (at candle closes and due times; the quiet ones are left out: `BacktestRunner`). Not in
        /// `report.json`: how the run went, not what it found.
        package var ticks = 0

        enum CodingKeys: String, CodingKey {
            case from, to, candles, cycles, traders
            case fundingMissing = "funding_missing"
            case logCounts = "log_counts"
        }
    }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        package init(description: String) { self.description = description }
    }

    /// The journal records a backtest queues before it writes them (one write and one fsync per batch).
    package static let journalBatch = 256

    /// The live configuration turned into a backtest's: runtime paths under `output`, every venue a paper venue
    /// kept in memory, every trader on a replay market (the `--data` directory when given), symbols narrowed.
    package static func configuration(_ base: ArenaConfiguration, options: Options) throws -> ArenaConfiguration {
        var configuration = base
        let output = options.output
        configuration.dataPath = (output as NSString).appendingPathComponent("mcp-data")
        configuration.journal.path = (output as NSString).appendingPathComponent("journal")
        configuration.manager.statePath = (output as NSString).appendingPathComponent("state/manager.json")
        // A backtest produces records as fast as it can: a short queue keeps them in small batches (each one
        // write and one fsync), which halved the peak memory of a long run and cost no time.
        configuration.journal.queueCapacity = min(configuration.journal.queueCapacity, Self.journalBatch)
        configuration.journal.fillsQueueByDesign = true
        configuration.journal.encodesInBackground = true
        // Most of a record is its market's series, and each cycle's repeat the last one's but for a candle: written
        // as continuations they are a fifth of the bytes to encode and compress.
        configuration.journal.continuesSeries = true
        // One fsync per file (when it is rotated out, and at the end), not per batch: 0.6 s of the side-by-side
        // backtest's 5.4 s was the trading loop waiting for fsyncs.
        configuration.journal.syncsEveryBatch = false
        // gzip was a quarter of a backtest's CPU at zlib's default level; the configuration's level still wins.
        if configuration.journal.compressionLevel == nil {
            configuration.journal.compressionLevel = ArenaConfiguration.Journal.backtestCompressionLevel
        }
        // Its trades, days and kill switches are simulated: nothing goes to Telegram, Discord or the alert webhook
        // (alerts are logged and counted in the report). A live run's channels got every simulated trade before.
        configuration.manager.notifications.channels = []
        configuration.manager.monitoring.alertWebhook = nil
        if let directory = options.templatesDirectory {
            for (id, var template) in configuration.executor.templates {
                template.path = ExecutorConfiguration.relocated(template.path, to: directory)
                configuration.executor.templates[id] = template
            }
        }

        var replayIDs: [String] = []
        for (id, var provider) in configuration.market.providers where provider.kind == .replay {
            if let directory = options.dataDirectory { provider.dataDirectory = directory }
            if let interval = options.intradayInterval { provider.intradayInterval = interval }
            if let symbols = options.symbols { provider.symbols = symbols }
            // Staleness follows the candles in use: data one candle old is the newest there is between closes.
            if let interval = CandleInterval(provider.intradayInterval) {
                provider.maxStaleness = max(provider.maxStaleness, .milliseconds(interval.milliseconds))
            }
            configuration.market.providers[id] = provider
            replayIDs.append(id)
        }
        replayIDs.sort()
        guard
            let fallbackMarket = configuration.market.defaultProvider.flatMap({ replayIDs.contains($0) ? $0 : nil })
                ?? replayIDs.first
        else {
            throw Failure(description: "a backtest needs a replay market provider (market.yaml, type: replay)")
        }
        for (id, var venue) in configuration.exchange.providers {
            venue.kind = .sim
            venue.statePath = nil
            configuration.exchange.providers[id] = venue
        }

        var traders: [TraderConfiguration] = []
        for var trader in configuration.manager.traders where trader.isEnabled {
            if let selected = options.traders, !selected.contains(trader.id) { continue }
            if configuration.market.providers[trader.marketProvider]?.kind != .replay {
                trader.marketProvider = fallbackMarket
            }
            if let symbols = options.symbols {
                let narrowed = trader.symbols.isEmpty ? symbols : trader.symbols.filter(symbols.contains)
                guard !narrowed.isEmpty else { continue }
                trader.symbols = narrowed
            }
            traders.append(trader)
        }
        if let selected = options.traders {
            let unknown = selected.filter { id in !traders.contains { $0.id == id } }
            if !unknown.isEmpty {
                throw Failure(
                    description: "unknown, disabled or symbol-less trader(s): \(unknown.joined(separator: ", "))"
                )
            }
        }
        guard !traders.isEmpty else { throw Failure(description: "no enabled trader to backtest") }
        configuration.manager.traders = traders
        return configuration
    }

    /// Runs the backtest and returns its report. `progress` receives (fraction done, clock time, cycles).
    /// `announce` receives what the user should know before the run starts (funding that will not be charged).
    package static func run(
        base: ArenaConfiguration,
        options: Options,
        logger: Logger,
        announce: (String) -> Void = { _ in },
        progress: @escaping (Double, Int64, Int) -> Void = { _, _, _ in }
    ) async throws -> Report {
        let configuration = try configuration(base, options: options)
        let clock = VirtualClock(start: 0)
        let assembly = try await EngineAssembly.make(
            configuration: configuration,
            logger: logger,
            clockOverride: clock,
            persistsEveryCycle: false,
            rendersInProcessPrompts: options.recordsPrompts,
            // Nothing serves a backtest's metrics: they are not recorded.
            recordsMetrics: false
        )
        do {
            let report = try await run(
                assembly: assembly,
                clock: clock,
                options: options,
                announce: announce,
                progress: progress
            )
            try await assembly.journal.close()
            _ = await assembly.flushPersistence(logger: logger)
            try await assembly.httpClient.shutdown()
            return report
        } catch {
            try? await assembly.journal.close()
            try? await assembly.httpClient.shutdown()
            throw error
        }
    }

    private static func run(
        assembly: EngineAssembly,
        clock: VirtualClock,
        options: Options,
        announce: (String) -> Void,
        progress: @escaping (Double, Int64, Int) -> Void
    ) async throws -> Report {
        let manager = assembly.manager
        let markets = manager.markets.values.compactMap { $0 as? ReplayMarketProvider }
        let traded = Set(manager.traders.flatMap(\.configuration.symbols))
        let fundingMissing = Set(markets.flatMap(\.symbolsWithoutFunding)).filter(traded.contains).sorted()
        if !fundingMissing.isEmpty {
            let names = fundingMissing.joined(separator: ", ")
            if options.requiresFunding {
                throw Failure(description: "no funding data for \(names) (hyperliquid_<SYMBOL>_funding_1h.csv)")
            }
            announce("no funding data for \(names): funding is not charged on them (--require-funding refuses)")
        }
        guard let earliest = markets.compactMap({ $0.earliestCompleteTime() }).max(),
            let latest = markets.compactMap({ $0.latestCompleteTime() }).min()
        else {
            throw Failure(description: "the replay data has no range where every symbol has full history")
        }
        let to = min(options.to ?? latest, latest)
        let from = max(options.last.map { to - $0 } ?? options.from ?? earliest, earliest)
        if let requested = options.from, requested < earliest {
            assembly.manager.logger.notice(
                "backtest starts when every symbol has full history",
                metadata: ["requested": "\(UTCTime.iso8601(requested))", "start": "\(UTCTime.iso8601(earliest))"]
            )
        }
        guard from < to else {
            throw Failure(
                description:
                    "empty range: the data covers \(UTCTime.iso8601(earliest)) to \(UTCTime.iso8601(latest)) (with indicator warm-up)"
            )
        }
        clock.jump(to: from)
        let span = Double(to - from)
        var lastReported = -1.0
        var runner = BacktestRunner(manager: manager, decidesBetweenCloses: options.decidesBetweenCloses)
        runner.leavesOutQuietTicks = !options.ticksEveryStep
        let run = try await runner.run(until: to, clock: clock) { now, cycles in
            let fraction = Double(now - from) / span
            if fraction - lastReported >= 0.002 || now >= to {
                lastReported = fraction
                progress(min(1, fraction), now, cycles)
            }
        }
        let candles = markets.reduce(0) { $0 + $1.candleCount(in: from...to) }
        var results: [TraderResult] = []
        var curves: [String: [TraderState.EquityPoint]] = [:]
        for trader in manager.traders.sorted(by: { $0.configuration.id < $1.configuration.id }) {
            let id = trader.configuration.id
            guard let exchange = manager.exchanges[trader.configuration.exchangeProvider] else { continue }
            let state = manager.store.state(id)
            let account = try await exchange.account(trader: id)
            let trades = try await exchange.closedTrades(trader: id)
            let usage = state.llmUsage.map { table in table.keys.sorted().compactMap { table[$0] } }
            let capital = state.inceptionCapital
            let equity = account.equity
            let returnPct = capital > 0 ? (equity / capital - 1) * 100 : 0
            let summary = BacktestMetrics.trades(trades)
            var curve = state.equityHistory
            if let last = curve.last, last.time < to {
                curve.append(
                    .init(
                        marker: last.marker + 1,
                        time: to,
                        equity: equity,
                        realizedPnL: account.realizedNetPnL(closedTrades: trades),
                        unrealizedPnL: account.unrealizedPnL
                    )
                )
            }
            curves[id] = curve
            results.append(
                TraderResult(
                    trader: id,
                    model: trader.configuration.model,
                    cycles: state.cycle,
                    failedCycles: state.totalFailures,
                    returnPct: returnPct,
                    maxDrawdownPct: state.maxDrawdownPct ?? 0,
                    sharpe: Performance.sharpe(state.equityHistory),
                    trades: trades.count,
                    winRatePct: trades.isEmpty
                        ? 0 : Double(trades.filter { $0.netPnL > 0 }.count) / Double(trades.count) * 100,
                    feesUSD: account.feesPaid,
                    promptTokens: usage?.reduce(0) { $0 + $1.promptTokens } ?? 0,
                    completionTokens: usage?.reduce(0) { $0 + $1.completionTokens } ?? 0,
                    llmCostUSD: state.llmCostUSD,
                    pnlNetOfLLMUSD: equity - capital - state.llmCostUSD,
                    profitFactor: summary.profitFactor,
                    calmar: BacktestMetrics.calmar(
                        returnPct: returnPct,
                        spanMilliseconds: to - from,
                        maxDrawdownPct: state.maxDrawdownPct ?? 0
                    ),
                    sortino: BacktestMetrics.sortino(curve),
                    exposurePct: BacktestMetrics.exposurePct(
                        trades: trades,
                        open: account.orderedPositions,
                        range: from...to
                    ),
                    averageWinUSD: summary.averageWinUSD,
                    averageLossUSD: summary.averageLossUSD,
                    longestLosingStreak: summary.longestLosingStreak,
                    symbols: BacktestMetrics.symbols(trades)
                )
            )
        }
        return Report(
            from: UTCTime.iso8601(from),
            to: UTCTime.iso8601(to),
            candles: candles,
            cycles: run.cycles,
            traders: results,
            fundingMissing: fundingMissing,
            curves: curves,
            ticks: run.ticks
        )
    }

    /// The report as the terminal shows it: the results per trader, their risk and trade measures, the results
    /// per symbol, what was not charged and what the run logged.
    package static func format(_ report: Report, seconds: Double) -> String {
        var lines = [
            "backtest \(report.from) → \(report.to): \(report.candles) candles, \(report.cycles) cycles, "
                + "\(report.ticks) ticks in "
                + String(format: "%.2f s (%.0f candles/s)", seconds, Double(report.candles) / max(seconds, 1e-9))
        ]
        func optional(_ value: Double?, _ format: String) -> String {
            value.map { String(format: format, $0) } ?? "∞"
        }
        lines += table(
            header: [
                "trader", "model", "return %", "max DD %", "sharpe", "trades", "win %", "fees $", "tokens", "LLM $",
                "net of LLM $", "failed",
            ],
            rows: report.traders.map { result in
                [
                    result.trader, result.model, String(format: "%.2f", result.returnPct),
                    String(format: "%.2f", result.maxDrawdownPct), String(format: "%.3f", result.sharpe),
                    String(result.trades), String(format: "%.1f", result.winRatePct),
                    String(format: "%.2f", result.feesUSD),
                    String(result.promptTokens + result.completionTokens), String(format: "%.4f", result.llmCostUSD),
                    String(format: "%.2f", result.pnlNetOfLLMUSD), "\(result.failedCycles)/\(result.cycles)",
                ]
            },
            textColumns: 2
        )
        lines.append("")
        lines += table(
            header: [
                "trader", "profit factor", "calmar", "sortino", "exposure %", "avg win $", "avg loss $",
                "losing streak",
            ],
            rows: report.traders.map { result in
                [
                    result.trader, result.trades == 0 ? "–" : optional(result.profitFactor, "%.2f"),
                    result.maxDrawdownPct == 0 ? "–" : optional(result.calmar, "%.2f"),
                    optional(result.sortino, "%.3f"), String(format: "%.1f", result.exposurePct),
                    String(format: "%.2f", result.averageWinUSD), String(format: "%.2f", result.averageLossUSD),
                    String(result.longestLosingStreak),
                ]
            },
            textColumns: 1
        )
        let symbolRows = report.traders.flatMap { result in
            result.symbols.map { row in
                [
                    result.trader, row.symbol, String(row.trades), String(format: "%.1f", row.winRatePct),
                    String(format: "%.2f", row.netPnLUSD), String(format: "%.2f", row.feesUSD),
                    String(format: "%.2f", row.fundingUSD),
                ]
            }
        }
        if !symbolRows.isEmpty {
            lines.append("")
            lines += table(
                header: ["trader", "symbol", "trades", "win %", "net PnL $", "fees $", "funding $"],
                rows: symbolRows,
                textColumns: 2
            )
        }
        if !report.fundingMissing.isEmpty {
            lines.append("")
            lines.append("funding not charged (no data): \(report.fundingMissing.joined(separator: ", "))")
        }
        if !report.logCounts.isEmpty {
            lines.append("")
            lines.append("logged during the run (each printed once):")
            for (message, count) in report.logCounts.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                lines.append("  \(count) × \(message)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Two reports over the same candles side by side (`--compare-templates`): per trader, each measure as
    /// `current → compared`.
    package static func formatComparison(_ current: Report, _ compared: Report, directory: String) -> String {
        var lines = ["templates compared on the same candles: current → \(directory)"]
        let byTrader = Dictionary(compared.traders.map { ($0.trader, $0) }) { first, _ in first }
        func pair(_ a: Double, _ b: Double?, _ format: String) -> String {
            String(format: format, a) + " → " + (b.map { String(format: format, $0) } ?? "–")
        }
        lines += table(
            header: ["trader", "return %", "max DD %", "sharpe", "trades", "win %", "LLM $", "net of LLM $"],
            rows: current.traders.map { result in
                let other = byTrader[result.trader]
                return [
                    result.trader, pair(result.returnPct, other?.returnPct, "%.2f"),
                    pair(result.maxDrawdownPct, other?.maxDrawdownPct, "%.2f"),
                    pair(result.sharpe, other?.sharpe, "%.3f"),
                    pair(Double(result.trades), other.map { Double($0.trades) }, "%.0f"),
                    pair(result.winRatePct, other?.winRatePct, "%.1f"),
                    pair(result.llmCostUSD, other?.llmCostUSD, "%.4f"),
                    pair(result.pnlNetOfLLMUSD, other?.pnlNetOfLLMUSD, "%.2f"),
                ]
            },
            textColumns: 1
        )
        return lines.joined(separator: "\n")
    }

    /// Columns padded to their widest cell: the first `textColumns` left-aligned, numbers right-aligned.
    package static func table(header: [String], rows: [[String]], textColumns: Int) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                let cell = row[column]
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column < textColumns ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
    }
}
