import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Snapshot analytics from trades")
struct AnalyticsTests {
    static func trade(_ id: Int64, quantity: Double, entry: Double, exit: Double, minutes: Int64) -> ClosedTrade {
        ClosedTrade(
            tradeID: id,
            trader: "t",
            symbol: "BTC",
            quantity: quantity,
            leverage: 2,
            confidence: 0.7,
            entryOrderID: id * 10,
            exitOrderID: id * 10 + 1,
            entryTime: 0,
            exitTime: minutes * 60_000,
            entryPrice: entry,
            exitPrice: exit,
            entryFee: 1,
            exitFee: 1,
            fundingPaid: 0,
            wasLiquidated: false,
            exitPlan: .init(
                stopLoss: entry * 0.98,
                takeProfit: entry * 1.04,
                confidence: 0.7,
                riskUSD: 10,
                invalidationCondition: ""
            )
        )
    }

    @Test func tables_matchHandComputedValues() {
        // A long that gains 100 gross (98 net) over 60 min; a short that loses 50 gross (52 net) over 30 min.
        let trades = [
            Self.trade(1, quantity: 1, entry: 1000, exit: 1100, minutes: 60),
            Self.trade(2, quantity: -2, entry: 500, exit: 525, minutes: 30),
        ]
        let builder = ArenaSnapshotBuilder(traders: [], prices: [:], now: 0)
        let fees = builder.feeTable(trades)
        #expect(fees.totalFeesPaid == 4)
        #expect(fees.overallPnLWithoutFees == 50)
        #expect(fees.overallPnLWithFees == 46)
        #expect(fees.biggestNetGain == 98)
        #expect(fees.biggestNetLoss == -52)
        #expect(fees.totalFeesAsPctOfPnL == 8)
        let winners = builder.winnersLosers(trades)
        #expect(winners.winRate == 50)
        #expect(winners.avgWinnersHoldingPeriod == 60)
        #expect(winners.avgLosersNetPnL == -52)
        #expect(winners.avgLosersNotional == 1000)
        let sides = builder.longsShorts(trades)
        #expect(sides.numLongTrades == 1)
        #expect(sides.numShortTrades == 1)
        #expect(sides.longShortTradesRatio == 0.5)
        #expect(sides.avgShortsHoldingPeriod == 30)
        #expect(builder.invocationTable([0, 180_000, 540_000]).avgInvocationBreakMins == 4.5)
    }
}

@Suite("Sharpe ratio")
struct SharpeTests {
    /// The two-pass definition the README states, for comparison.
    static func reference(_ history: [TraderState.EquityPoint]) -> Double {
        guard history.count >= 3 else { return 0 }
        var returns: [Double] = []
        for index in 1..<history.count where history[index - 1].equity > 0 {
            returns.append(history[index].equity / history[index - 1].equity - 1)
        }
        guard returns.count >= 2 else { return 0 }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
        guard variance > 0 else { return 0 }
        return mean / variance.squareRoot() * (8760.0).squareRoot()
    }

    @Test func series_matchesTheDefinitionForEveryPrefix() {
        var equity = 1000.0
        let history = (0..<300).map { hour -> TraderState.EquityPoint in
            equity *= 1 + sin(Double(hour) * 0.7) * 0.01 + 0.0005
            return .init(marker: hour, time: Int64(hour) * 3_600_000, equity: equity, realizedPnL: 0, unrealizedPnL: 0)
        }
        let series = Performance.sharpeSeries(history)
        #expect(series.count == history.count)
        for index in history.indices {
            let expected = Self.reference(Array(history[...index]))
            #expect(abs(series[index] - expected) <= 1e-9 * max(1, abs(expected)), "\(index)")
        }
        #expect(series[0] == 0 && series[1] == 0)
        #expect(Performance.sharpe(history) == series.last)
        let flat = (0..<10).map {
            TraderState.EquityPoint(marker: $0, time: 0, equity: 500, realizedPnL: 0, unrealizedPnL: 0)
        }
        #expect(Performance.sharpe(flat) == 0)
    }
}
