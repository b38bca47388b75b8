import ArenaCore
import Foundation

/// The measures a backtest report adds to return, drawdown and Sharpe: from the closed trades (profit factor,
/// average win and loss, longest losing streak, per-symbol rows), from the hourly equity (Sortino), from both
/// (Calmar, exposure). Pure functions of their inputs; the definitions are in the README ("Backtests").
package enum BacktestMetrics {
    package struct TradeSummary: Sendable, Equatable {
        /// Gross profit of winning trades over the gross loss of losing ones (net of fees and funding); nil with
        /// no losing trade (unbounded) or no trade at all.
        package var profitFactor: Double?
        package var averageWinUSD: Double
        package var averageLossUSD: Double
        /// Most losing trades in a row, in the order they closed.
        package var longestLosingStreak: Int
    }

    /// A trade is a loss when its net PnL is not positive (as the leaderboard counts it).
    package static func trades(_ trades: [ClosedTrade]) -> TradeSummary {
        let ordered = trades.sorted { ($0.exitTime, $0.tradeID) < ($1.exitTime, $1.tradeID) }
        var wins: [Double] = []
        var losses: [Double] = []
        var streak = 0
        var longest = 0
        for trade in ordered {
            let pnl = trade.netPnL
            if pnl > 0 {
                wins.append(pnl)
                streak = 0
            } else {
                losses.append(pnl)
                streak += 1
                longest = max(longest, streak)
            }
        }
        let gained = wins.reduce(0, +)
        let lost = -losses.reduce(0, +)
        return TradeSummary(
            profitFactor: lost > 0 ? gained / lost : nil,
            averageWinUSD: wins.isEmpty ? 0 : gained / Double(wins.count),
            averageLossUSD: losses.isEmpty ? 0 : -lost / Double(losses.count),
            longestLosingStreak: longest
        )
    }

    /// Mean hourly return over the root mean square of the negative ones (zero counts as not negative),
    /// annualised like the Sharpe ratio (× √8760); capital moved by a rebalance is not a return. Nil when no
    /// hourly return was negative (unbounded) or there are fewer than two returns.
    package static func sortino(_ history: [TraderState.EquityPoint]) -> Double? {
        var returns: [Double] = []
        for index in history.indices.dropFirst() where history[index - 1].equity > 0 {
            returns.append((history[index].equity - (history[index].flow ?? 0)) / history[index - 1].equity - 1)
        }
        guard returns.count >= 2 else { return nil }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let downside = returns.reduce(0) { $0 + min($1, 0) * min($1, 0) } / Double(returns.count)
        guard downside > 0 else { return nil }
        return mean / downside.squareRoot() * (8760.0).squareRoot()
    }

    /// The return scaled to a year (simple, not compounded: compounding a short span's return over a year
    /// explodes) over the maximum drawdown, both in percent. Nil without a drawdown or over an empty span.
    package static func calmar(returnPct: Double, spanMilliseconds: Int64, maxDrawdownPct: Double) -> Double? {
        guard maxDrawdownPct > 0, spanMilliseconds > 0 else { return nil }
        let years = Double(spanMilliseconds) / (365.25 * 86_400_000)
        return returnPct / years / maxDrawdownPct
    }

    /// The share of `range` during which the trader held at least one position, percent: the union of its
    /// closed trades' holding times and its open positions (up to the end), clipped to the range.
    package static func exposurePct(trades: [ClosedTrade], open: [Position], range: ClosedRange<Int64>) -> Double {
        let span = range.upperBound - range.lowerBound
        guard span > 0 else { return 0 }
        var intervals = trades.map { (max($0.entryTime, range.lowerBound), min($0.exitTime, range.upperBound)) }
        intervals += open.map { (max($0.openedAt, range.lowerBound), range.upperBound) }
        intervals = intervals.filter { $0.0 < $0.1 }.sorted { $0.0 < $1.0 }
        var covered: Int64 = 0
        var current: (Int64, Int64)?
        for interval in intervals {
            if let open = current, interval.0 <= open.1 {
                current = (open.0, max(open.1, interval.1))
            } else {
                if let done = current { covered += done.1 - done.0 }
                current = interval
            }
        }
        if let done = current { covered += done.1 - done.0 }
        return Double(covered) / Double(span) * 100
    }

    /// One row per symbol traded: trades, wins, win rate, net PnL, fees and funding.
    package static func symbols(_ trades: [ClosedTrade]) -> [Backtest.SymbolResult] {
        Dictionary(grouping: trades, by: \.symbol).sorted { $0.key < $1.key }.map { symbol, trades in
            let wins = trades.filter { $0.netPnL > 0 }.count
            return Backtest.SymbolResult(
                symbol: symbol,
                trades: trades.count,
                wins: wins,
                winRatePct: Double(wins) / Double(trades.count) * 100,
                netPnLUSD: trades.reduce(0) { $0 + $1.netPnL },
                feesUSD: trades.reduce(0) { $0 + $1.entryFee + $1.exitFee },
                fundingUSD: trades.reduce(0) { $0 + $1.fundingPaid }
            )
        }
    }
}
