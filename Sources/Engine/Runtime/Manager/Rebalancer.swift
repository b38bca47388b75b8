import ArenaAdapters
import ArenaCore
import Foundation
import Shared

/// `allocation_strategy: performance_based`: how much capital each trader should hold, from its KPIs, within the
/// configured bounds. A plan only redistributes the participating traders' own equity, so the reserve (capital
/// never allocated to any trader) is never touched; no trader is taken below its open margin; a halted trader
/// only gives. Pure: the manager gathers the inputs, journals the plan, then applies it.
package struct Rebalancer {
    let bounds: ManagerConfiguration.RebalanceBounds
    /// `total_equity_usd`: the bounds are percentages of it.
    let totalEquityUSD: Double

    struct Candidate: Sendable, Equatable {
        var id: String
        var equity: Double
        /// Cash not locked as margin, and the open positions' unrealised PnL and margin.
        var cash: Double
        var unrealizedPnL: Double
        var marginUsed: Double
        /// Annualised Sharpe of the last week of hourly equity.
        var sharpe: Double
        /// Current fall from the peak, percent.
        var drawdownPct: Double
        /// Average share of equity locked as margin over the last week, 0…1.
        var utilisation: Double
        /// False for a trader halted by a kill switch or paused: it may give capital, never receive it.
        var mayReceive: Bool = true

        /// What may leave without taking equity below the open margin or cash below zero.
        var withdrawable: Double { max(0, min(cash, cash + unrealizedPnL)) }
    }

    struct Move: Sendable, Equatable {
        var id: String
        var amount: Double
        var targetPct: Double
        var score: Double
    }

    /// The KPI score: 1 for a flat, fully used trader with no drawdown; Sharpe adds or takes up to 0.5, each
    /// 10 % of drawdown takes 0.2, and a trader using under half its capital as margin is scaled down towards
    /// half its score. Never below 0.05, so no trader is starved to nothing by the score alone.
    static func score(sharpe: Double, drawdownPct: Double, utilisation: Double) -> Double {
        let clampedSharpe = min(2, max(-2, sharpe.isFinite ? sharpe : 0))
        let drawdown = max(0, drawdownPct) / 100
        let performance = max(0.05, 1 + 0.25 * clampedSharpe - 2 * drawdown)
        let use = min(1, max(0, utilisation) * 2)
        return performance * (0.5 + 0.5 * use)
    }

    /// The transfers that move the candidates toward their score-weighted shares: amounts in USD, positive in,
    /// negative out, summing to zero (to the cent). Empty when fewer than two traders take part or when the
    /// whole plan would move less than 0.1 % of the pool.
    func plan(_ candidates: [Candidate]) -> [Move] {
        guard candidates.count >= 2 else { return [] }
        let pool = candidates.reduce(0) { $0 + $1.equity }
        guard pool > 0, totalEquityUSD > 0 else { return [] }
        let scores = candidates.map {
            Self.score(sharpe: $0.sharpe, drawdownPct: $0.drawdownPct, utilisation: $0.utilisation)
        }
        let targets = boundedTargets(scores: scores, pool: pool)
        let step = bounds.maxStepPct / 100 * totalEquityUSD
        var deltas = candidates.indices.map { index -> Double in
            var delta = min(step, max(-step, targets[index] - candidates[index].equity))
            delta = max(delta, -candidates[index].withdrawable)
            if !candidates[index].mayReceive { delta = min(delta, 0) }
            return delta
        }
        // What leaves must equal what arrives: scale down the larger side.
        let leaving = deltas.filter { $0 < 0 }.reduce(0) { $0 - $1 }
        let arriving = deltas.filter { $0 > 0 }.reduce(0, +)
        guard leaving > 0, arriving > 0 else { return [] }
        if arriving > leaving {
            deltas = deltas.map { $0 > 0 ? $0 * leaving / arriving : $0 }
        } else {
            deltas = deltas.map { $0 < 0 ? $0 * arriving / leaving : $0 }
        }
        // Cents, rounded toward zero (a withdrawal never grows past its limit), then the largest receiver takes
        // exactly what the others do not.
        deltas = deltas.map { ($0 * 100).rounded(.towardZero) / 100 }
        let paid = deltas.filter { $0 < 0 }.reduce(0) { $0 - $1 }
        guard let largest = deltas.indices.filter({ deltas[$0] > 0 }).max(by: { deltas[$0] < deltas[$1] }) else {
            return []
        }
        let others = deltas.indices.filter { $0 != largest && deltas[$0] > 0 }.reduce(0) { $0 + deltas[$1] }
        deltas[largest] = ((paid - others) * 100).rounded() / 100
        guard paid >= max(1, pool * 0.001) else { return [] }
        return candidates.indices.compactMap { index in
            guard deltas[index] != 0 else { return nil }
            return Move(
                id: candidates[index].id,
                amount: deltas[index],
                targetPct: targets[index] / totalEquityUSD * 100,
                score: scores[index]
            )
        }
    }

    /// The pool split by score, each share held within [min, max] of `total_equity_usd` (water-filling: a share
    /// that hits a bound is fixed there and the rest is split again among the others).
    func boundedTargets(scores: [Double], pool: Double) -> [Double] {
        let low = bounds.minAllocationPct / 100 * totalEquityUSD
        let high = bounds.maxAllocationPct / 100 * totalEquityUSD
        var fixed: [Int: Double] = [:]
        var targets = [Double](repeating: 0, count: scores.count)
        for _ in 0...scores.count {
            let free = scores.indices.filter { fixed[$0] == nil }
            let remaining = pool - fixed.values.reduce(0, +)
            let weight = free.reduce(0) { $0 + scores[$1] }
            var changed = false
            for index in scores.indices {
                if let value = fixed[index] {
                    targets[index] = value
                } else {
                    targets[index] = weight > 0 ? remaining * scores[index] / weight : 0
                }
            }
            for index in free {
                if targets[index] < low {
                    fixed[index] = low
                    changed = true
                } else if targets[index] > high {
                    fixed[index] = high
                    changed = true
                }
            }
            if !changed || free.isEmpty { break }
        }
        return targets
    }
}
