import ArenaTestSupport
import Foundation
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

/// The backtest report's measures, its equity-curve files, and backtests over data other than the bundled
/// 3-minute candles: coarser candles than the decision interval, no funding files, relative spans.
@Suite("Backtest reports", .serialized)
struct BacktestReportTests {
    /// The equity files' numbers: `%.4f` of the value rounded to ten-thousandths, trailing zeros cut (whole
    /// numbers as integers) — written from the integer now; the same text as that recipe on every value.
    @Test func fileNumbers_areThePrintfRecipesText() {
        func recipe(_ value: Double) -> String {
            guard value.isFinite else { return "0" }
            let rounded = (value * 10_000).rounded() / 10_000
            if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
            return String(format: "%.4f", rounded).replacingOccurrences(
                of: "0+$",
                with: "",
                options: .regularExpression
            )
        }
        var random = SeededRandom(seed: 44)
        var values: [Double] = [
            0, -0.0, 0.00004, -0.00004, 0.00005, -0.00005, 0.0001, -0.0001, 1.5, -1.5, 12.34005, 2999.99995,
            123_456.789_01, -98_765.432_1, 9.2e11, 9.0071992547e11, 1e15, 1.5e15, -3e16, .nan, .infinity,
        ]
        for _ in 0..<20_000 {
            let magnitude = pow(10, Double(random.int(below: 17)) - 5)
            let value = Double(random.next() % 2_000_000_000) / 1_000_000_000 * magnitude
            values.append(random.next() % 2 == 0 ? value : -value)
        }
        for value in values { #expect(BacktestFiles.number(value) == recipe(value), "\(value)") }
    }

    static func trade(
        _ id: Int64,
        symbol: String = "BTC",
        pnl: Double,
        entry: Int64,
        exit: Int64,
        fees: Double = 1,
        funding: Double = 0
    ) -> ClosedTrade {
        // Quantity 1 from 100: the gross PnL is the price move; net = gross − fees − funding.
        ClosedTrade(
            tradeID: id,
            trader: "t",
            symbol: symbol,
            quantity: 1,
            leverage: 1,
            confidence: 0.5,
            entryOrderID: id,
            exitOrderID: id,
            entryTime: entry,
            exitTime: exit,
            entryPrice: 100,
            exitPrice: 100 + pnl + fees + funding,
            entryFee: fees / 2,
            exitFee: fees / 2,
            fundingPaid: funding,
            wasLiquidated: false,
            exitPlan: nil
        )
    }

    @Test func tradeMeasures_profitFactorAveragesAndStreak() {
        let trades = [
            Self.trade(1, pnl: 30, entry: 0, exit: 10),
            Self.trade(2, pnl: -10, entry: 10, exit: 20),
            Self.trade(3, pnl: -5, entry: 20, exit: 30),
            Self.trade(4, pnl: 0, entry: 30, exit: 40),
            Self.trade(5, pnl: 20, entry: 40, exit: 50),
            Self.trade(6, pnl: -15, entry: 50, exit: 60),
        ]
        // Given out of order: measures follow the closing order.
        let summary = BacktestMetrics.trades(trades.reversed())
        #expect(abs((summary.profitFactor ?? 0) - 50.0 / 30.0) < 1e-9)
        #expect(abs(summary.averageWinUSD - 25) < 1e-9)
        #expect(abs(summary.averageLossUSD - (-30.0 / 4)) < 1e-9)
        #expect(summary.longestLosingStreak == 3)
        #expect(BacktestMetrics.trades([Self.trade(1, pnl: 5, entry: 0, exit: 1)]).profitFactor == nil)
        #expect(BacktestMetrics.trades([]).longestLosingStreak == 0)

        let rows = BacktestMetrics.symbols(
            trades + [Self.trade(7, symbol: "ETH", pnl: 4, entry: 0, exit: 5, fees: 2, funding: 0.5)]
        )
        #expect(rows.map(\.symbol) == ["BTC", "ETH"])
        #expect(rows[0].trades == 6 && rows[0].wins == 2)
        #expect(abs(rows[0].netPnLUSD - 20) < 1e-9)
        #expect(abs(rows[0].feesUSD - 6) < 1e-9)
        #expect(abs(rows[1].fundingUSD - 0.5) < 1e-9)
        #expect(abs(rows[1].winRatePct - 100) < 1e-9)
    }

    @Test func exposure_isTheUnionOfHoldingTimes_clippedToTheRange() {
        let trades = [
            Self.trade(1, pnl: 1, entry: -50, exit: 100),  // starts before the range
            Self.trade(2, symbol: "ETH", pnl: 1, entry: 50, exit: 150),  // overlaps the first
            Self.trade(3, pnl: 1, entry: 300, exit: 400),
        ]
        let open = Position(
            symbol: "SOL",
            quantity: 1,
            entryPrice: 1,
            leverage: 1,
            margin: 1,
            liquidationPrice: 0,
            markPrice: 1,
            openedAt: 900,
            entryOrderID: 9,
            confidence: 0.5,
            riskUSD: 0,
            invalidationCondition: "",
            entryFee: 0,
            fundingPaid: 0
        )
        // [0, 150] ∪ [300, 400] ∪ [900, 1000] = 150 + 100 + 100 of 1000.
        #expect(abs(BacktestMetrics.exposurePct(trades: trades, open: [open], range: 0...1000) - 35) < 1e-9)
        #expect(BacktestMetrics.exposurePct(trades: [], open: [], range: 0...1000) == 0)
    }

    /// Equity is cash plus margins plus unrealized PnL, summed in symbol order, to the bit: with no position, one
    /// (the path every tick takes, without an array) and several; a negative zero cash stays what the sums give.
    @Test func equity_isCashPlusMarginsPlusUnrealized_inSymbolOrder() {
        func position(_ symbol: String, margin: Double, mark: Double) -> Position {
            Position(
                symbol: symbol,
                quantity: 0.3,
                entryPrice: 0.7,
                leverage: 3,
                margin: margin,
                liquidationPrice: 0,
                markPrice: mark,
                openedAt: 0,
                entryOrderID: 1,
                confidence: 0.5,
                riskUSD: 0,
                invalidationCondition: "",
                entryFee: 0,
                fundingPaid: 0
            )
        }
        let held = [
            position("SOL", margin: 0.1, mark: 0.9), position("BTC", margin: 0.2, mark: 1.3),
            position("ETH", margin: 1e-17, mark: 0.1),
        ]
        for count in 0...3 {
            for cash in [1e16, 0.3, -0.0] {
                let positions = Dictionary(uniqueKeysWithValues: held.prefix(count).map { ($0.symbol, $0) })
                let account = TraderAccount(cash: cash, positions: positions, realizedPnL: 0, feesPaid: 0)
                let ordered = positions.keys.sorted().map { positions[$0]! }
                let expected =
                    cash + ordered.reduce(0) { $0 + $1.margin } + ordered.reduce(0) { $0 + $1.unrealizedPnL }
                #expect(account.equity.bitPattern == expected.bitPattern, "\(count) positions, cash \(cash)")
                #expect(account.equity == cash + account.marginUsed + account.unrealizedPnL)
            }
        }
    }

    @Test func sortinoAndCalmar_followTheirDefinitions() throws {
        let equities: [Double] = [1000, 1010, 1005, 1020, 1000, 1030]
        let history = equities.enumerated().map { index, equity in
            TraderState.EquityPoint(
                marker: index,
                time: Int64(index) * 3_600_000,
                equity: equity,
                realizedPnL: 0,
                unrealizedPnL: 0
            )
        }
        var returns: [Double] = []
        for index in 1..<equities.count { returns.append(equities[index] / equities[index - 1] - 1) }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let downside = (returns.map { min($0, 0) * min($0, 0) }.reduce(0, +) / Double(returns.count)).squareRoot()
        let sortino = try #require(BacktestMetrics.sortino(history))
        #expect(abs(sortino - mean / downside * (8760.0).squareRoot()) < 1e-9)
        // Only gains: unbounded.
        #expect(BacktestMetrics.sortino(Array(history.prefix(2))) == nil)

        // 10 % over half a year is 20 % a year; over a 5 % drawdown that is 4.
        let halfYear = Int64(365.25 * 86_400_000 / 2)
        let calmar = try #require(BacktestMetrics.calmar(returnPct: 10, spanMilliseconds: halfYear, maxDrawdownPct: 5))
        #expect(abs(calmar - 20.0 / 5) < 1e-9)
        #expect(BacktestMetrics.calmar(returnPct: 10, spanMilliseconds: halfYear, maxDrawdownPct: 0) == nil)
    }

    /// Hourly candles while the traders decide every 3 minutes, and no funding files: before, most cycles failed
    /// closed as stale (the last close up to an hour old) and funding went uncharged without a word. Now a trader
    /// decides once per close (unless asked), staleness follows the candles, and the missing funding is named —
    /// or refused.
    @Test func coarserCandles_decideOncePerClose_andMissingFundingIsNamed() async throws {
        let scratch = try TestPaths.makeScratch("backtest-hourly")
        let data = scratch.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let market = TestPaths.packageRoot.appendingPathComponent("data/market")
        for symbol in ["BTC", "ETH", "SOL"] {
            for interval in ["1h", "4h"] {
                let name = "hyperliquid_\(symbol)_\(interval).csv"
                try FileManager.default.copyItem(
                    at: market.appendingPathComponent(name),
                    to: data.appendingPathComponent(name)
                )
            }
        }
        let configuration = try BacktestTests().configuration(scratch)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        func options(_ name: String) -> Backtest.Options {
            var options = Backtest.Options(
                symbols: ["BTC", "ETH", "SOL"],
                dataDirectory: data.path,
                intradayInterval: "1h",
                traders: ["baseline-ema"],
                output: scratch.appendingPathComponent(name).path
            )
            options.last = 2 * 86_400_000
            return options
        }
        var announced: [String] = []
        let report = try await Backtest.run(
            base: configuration,
            options: options("hourly"),
            logger: logger,
            announce: { announced.append($0) }
        )
        let result = try #require(report.traders.first)
        #expect(result.failedCycles == 0)
        // Two days of hourly closes, both ends included: one decision per close.
        #expect(result.cycles == 49)
        #expect(report.fundingMissing == ["BTC", "ETH", "SOL"])
        #expect(announced.count == 1)
        #expect(announced.first?.contains("BTC, ETH, SOL") == true)
        #expect(announced.first?.contains("not charged") == true)
        // --last: the span ends where the data ends.
        let to = try #require(UTCTime.milliseconds(iso8601: report.to))
        #expect(try #require(UTCTime.milliseconds(iso8601: report.from)) == to - 2 * 86_400_000)

        var between = options("between")
        between.decidesBetweenCloses = true
        // Nothing worth a warning happens: not even the journal's queue filling, which is how a backtest batches.
        let tally = BacktestLogTally()
        let counting = Logger(label: "backtest") { BacktestLogHandler(label: $0, tally: tally) }
        let every = try #require(
            try await Backtest.run(base: configuration, options: between, logger: counting).traders.first
        )
        #expect(tally.snapshot.isEmpty, "\(tally.snapshot)")
        // Every 3 minutes between the closes, and none of them stale: the data is at most one candle old.
        #expect(every.cycles > 900)
        #expect(every.failedCycles == 0)

        var strict = options("strict")
        strict.requiresFunding = true
        await #expect(throws: Backtest.Failure.self) {
            _ = try await Backtest.run(base: configuration, options: strict, logger: logger)
        }
    }

    @Test func equityFiles_holdEveryPointOfEveryTrader() async throws {
        let scratch = try TestPaths.makeScratch("backtest-files")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let report = try await Backtest.run(
            base: try BacktestTests().configuration(scratch),
            options: BacktestTests().options(scratch.appendingPathComponent("out"), to: "2025-07-16T12:00:00Z"),
            logger: logger
        )
        #expect(report.traders.map(\.trader) == ["baseline-ema", "baseline-hold"])
        let csv = BacktestFiles.equityCSV(report).split(separator: "\n")
        #expect(csv.first == "time,timestamp_ms,trader,equity,return_pct,drawdown_pct")
        #expect(csv.count == 1 + report.curves.values.reduce(0) { $0 + $1.count })
        for trader in report.traders {
            let curve = try #require(report.curves[trader.trader])
            // Hourly points and the end: 12 hours.
            #expect(curve.count >= 12)
            let rows = csv.filter { $0.split(separator: ",")[2] == trader.trader }
            let last = try #require(rows.last?.split(separator: ","))
            // The end of the curve is the equity the report's return was computed from.
            #expect(abs(Double(last[4])! - trader.returnPct) < 1e-3)
            #expect(Double(last[5])! >= 0)
        }
        let svg = BacktestFiles.equitySVG(report)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.components(separatedBy: "<path ").count - 1 == report.traders.count)
        #expect(svg.contains("baseline-ema") && svg.contains("baseline-hold"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<").count == svg.components(separatedBy: ">").count)
        #expect(BacktestFiles.equitySVG(report) == svg)
    }

    @Test func command_takesDatesAndSpans_andTalliesWhatItLogs() {
        #expect(BacktestCommand.time("2025-07-22") == UTCTime.milliseconds(iso8601: "2025-07-22T00:00:00Z"))
        #expect(BacktestCommand.time("2025-07-22T06:30:00Z") == UTCTime.milliseconds(iso8601: "2025-07-22T06:30:00Z"))
        #expect(BacktestCommand.time("2025-7-22") == nil)
        #expect(BacktestCommand.time("yesterday") == nil)
        #expect(BacktestCommand.progressLine(0.5, now: 0, cycles: 10, elapsed: 30).contains("about 30 s left"))
        #expect(BacktestCommand.progressLine(0, now: 0, cycles: 0, elapsed: 0).contains("estimating"))

        let tally = BacktestLogTally()
        let logger = Logger(label: "t") { BacktestLogHandler(label: $0, tally: tally) }
        for _ in 0..<500 { logger.warning("cycle failed closed", metadata: ["trader": "x"]) }
        logger.error("journal unavailable")
        logger.info("not counted")
        #expect(tally.snapshot == ["warning: cycle failed closed": 500, "error: journal unavailable": 1])
    }
}
