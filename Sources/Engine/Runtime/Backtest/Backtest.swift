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

        enum CodingKeys: String, CodingKey {
            case trader, model, cycles, sharpe, trades
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

    package struct Report: Sendable, Codable, Equatable {
        var from: String
        var to: String
        package var candles: Int
        package var cycles: Int
        package var traders: [TraderResult]
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

        var replayIDs: [String] = []
        for (id, var provider) in configuration.market.providers where provider.kind == .replay {
            if let directory = options.dataDirectory { provider.dataDirectory = directory }
            if let interval = options.intradayInterval { provider.intradayInterval = interval }
            if let symbols = options.symbols { provider.symbols = symbols }
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
    package static func run(
        base: ArenaConfiguration,
        options: Options,
        logger: Logger,
        progress: @escaping (Double, Int64, Int) -> Void = { _, _, _ in }
    ) async throws -> Report {
        let configuration = try configuration(base, options: options)
        let clock = VirtualClock(start: 0)
        let assembly = try await EngineAssembly.make(
            configuration: configuration,
            logger: logger,
            clockOverride: clock,
            persistsEveryCycle: false,
            rendersInProcessPrompts: options.recordsPrompts
        )
        do {
            let report = try await run(assembly: assembly, clock: clock, options: options, progress: progress)
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
        progress: @escaping (Double, Int64, Int) -> Void
    ) async throws -> Report {
        let manager = assembly.manager
        let markets = manager.markets.values.compactMap { $0 as? ReplayMarketProvider }
        guard let earliest = markets.compactMap({ $0.earliestCompleteTime() }).max(),
            let latest = markets.compactMap({ $0.latestCompleteTime() }).min()
        else {
            throw Failure(description: "the replay data has no range where every symbol has full history")
        }
        let from = max(options.from ?? earliest, earliest)
        let to = min(options.to ?? latest, latest)
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
        let cycles = try await BacktestRunner(manager: manager).run(until: to, clock: clock) { now, cycles in
            let fraction = Double(now - from) / span
            if fraction - lastReported >= 0.05 || now >= to {
                lastReported = fraction
                progress(min(1, fraction), now, cycles)
            }
        }
        let candles = markets.reduce(0) { $0 + $1.candleCount(in: from...to) }
        var results: [TraderResult] = []
        for trader in manager.traders.sorted(by: { $0.configuration.id < $1.configuration.id }) {
            let id = trader.configuration.id
            guard let exchange = manager.exchanges[trader.configuration.exchangeProvider] else { continue }
            let state = await manager.store.state(id)
            let account = try await exchange.account(trader: id)
            let trades = try await exchange.closedTrades(trader: id)
            let usage = state.llmUsage.map { table in table.keys.sorted().compactMap { table[$0] } }
            let capital = state.inceptionCapital
            let equity = account.equity
            results.append(
                TraderResult(
                    trader: id,
                    model: trader.configuration.model,
                    cycles: state.cycle,
                    failedCycles: state.totalFailures,
                    returnPct: capital > 0 ? (equity / capital - 1) * 100 : 0,
                    maxDrawdownPct: state.maxDrawdownPct ?? 0,
                    sharpe: Performance.sharpe(state.equityHistory),
                    trades: trades.count,
                    winRatePct: trades.isEmpty
                        ? 0 : Double(trades.filter { $0.netPnL > 0 }.count) / Double(trades.count) * 100,
                    feesUSD: account.feesPaid,
                    promptTokens: usage?.reduce(0) { $0 + $1.promptTokens } ?? 0,
                    completionTokens: usage?.reduce(0) { $0 + $1.completionTokens } ?? 0,
                    llmCostUSD: state.llmCostUSD,
                    pnlNetOfLLMUSD: equity - capital - state.llmCostUSD
                )
            )
        }
        return Report(
            from: UTCTime.iso8601(from),
            to: UTCTime.iso8601(to),
            candles: candles,
            cycles: cycles,
            traders: results
        )
    }

    /// The report as the terminal shows it.
    package static func format(_ report: Report, seconds: Double) -> String {
        var lines = [
            "backtest \(report.from) → \(report.to): \(report.candles) candles, \(report.cycles) cycles in "
                + String(format: "%.2f s (%.0f candles/s)", seconds, Double(report.candles) / max(seconds, 1e-9))
        ]
        let header = [
            "trader", "model", "return %", "max DD %", "sharpe", "trades", "win %", "fees $", "tokens", "LLM $",
            "net of LLM $", "failed",
        ]
        var rows = [header]
        for result in report.traders {
            rows.append([
                result.trader, result.model, String(format: "%.2f", result.returnPct),
                String(format: "%.2f", result.maxDrawdownPct), String(format: "%.3f", result.sharpe),
                String(result.trades), String(format: "%.1f", result.winRatePct),
                String(format: "%.2f", result.feesUSD),
                String(result.promptTokens + result.completionTokens), String(format: "%.4f", result.llmCostUSD),
                String(format: "%.2f", result.pnlNetOfLLMUSD), "\(result.failedCycles)/\(result.cycles)",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(
                row.indices.map { column in
                    let cell = row[column]
                    let pad = String(repeating: " ", count: widths[column] - cell.count)
                    return column < 2 ? cell + pad : pad + cell
                }.joined(separator: "  ")
            )
        }
        return lines.joined(separator: "\n")
    }
}
