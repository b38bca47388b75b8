import ArenaCore
import Shared
import Synchronization

/// Picks the model each trader asks. A trader has a chain: its model, then its fallbacks (the trader's
/// `fallback_models`, else the model's `fallbacks`, else every other remote model by `priority`, lower first).
/// The router moves down the chain after `failover_after` consecutive failures of the model in use, moves to the
/// cheapest model of the chain while the budget is past its alert threshold, probes the primary again every
/// `recovery_probe_interval`, and moves back once the primary's success rate over `success_window` is above
/// `recovery_success_rate_pct` and the budget is not under pressure. Times are wall-clock milliseconds.
///
/// The lanes are behind a lock, not an actor: every cycle selects and books once (a backtest's hundreds of
/// thousands of cycles included), microseconds each, which as actor calls cost two executor switches apiece.
package final class ModelRouter: Sendable {
    package typealias Reason = ModelRoute

    package struct Selection: Sendable, Equatable {
        package let alias: String
        package let reason: Reason
    }

    /// A switch of the model in use, for logs, metrics and alerts.
    package struct Switch: Sendable, Equatable {
        package let trader: String
        package let from: String
        package let to: String
        package let reason: String
    }

    private struct Lane: Sendable {
        var chain: [String]
        var current = 0
        var consecutiveFailures = 0
        var lastProbeAt: Int64?
        var switchedAt: Int64?
        /// The primary's outcomes in the window: `outcomes[outcomesStart...]` (the ones before it are dropped, and
        /// removed once they are as many as the limit: removing one from the front at every call moved the rest).
        var outcomes: [(time: Int64, success: Bool)] = []
        var outcomesStart = 0
        var primaryOutcomes: ArraySlice<(time: Int64, success: Bool)> { outcomes[outcomesStart...] }
    }

    package let routing: LLMConfiguration.Routing
    package let models: [String: LLMConfiguration.Model]
    private let lanes = Mutex<[String: Lane]>([:])

    package init(routing: LLMConfiguration.Routing, models: [String: LLMConfiguration.Model]) {
        self.routing = routing
        self.models = models
    }

    /// The model chain of a trader, primary first, without duplicates or unknown aliases.
    package static func chain(
        primary: String,
        traderFallbacks: [String],
        models: [String: LLMConfiguration.Model],
        remote: (LLMConfiguration.Model) -> Bool
    ) -> [String] {
        var fallbacks = traderFallbacks
        if fallbacks.isEmpty { fallbacks = models[primary]?.fallbacks ?? [] }
        if fallbacks.isEmpty, let model = models[primary], remote(model) {
            fallbacks = models.values.filter { $0.alias != primary && remote($0) }
                .sorted { ($0.priority, $0.alias) < ($1.priority, $1.alias) }.map(\.alias)
        }
        var chain = [primary]
        for alias in fallbacks where models[alias] != nil && !chain.contains(alias) { chain.append(alias) }
        return chain
    }

    package func register(trader: String, chain: [String]) {
        lanes.withLock { $0[trader] = Lane(chain: chain) }
    }

    package func chain(trader: String) -> [String] { lanes.withLock { $0[trader]?.chain ?? [] } }

    /// The model in use (not counting probes).
    package func current(trader: String) -> String? {
        lanes.withLock { lanes in
            guard let lane = lanes[trader] else { return nil }
            return lane.chain[lane.current]
        }
    }

    /// The model to ask this cycle, and a switch when budget pressure moved the trader to a cheaper model.
    package func select(trader: String, now: Int64, underBudgetPressure: Bool) -> (Selection, Switch?) {
        lanes.withLock { lanes in
            guard var lane = lanes[trader], !lane.chain.isEmpty else {
                return (Selection(alias: "", reason: .primary), nil)
            }
            defer { lanes[trader] = lane }
            var change: Switch?
            if underBudgetPressure, let cheapest = cheapestIndex(lane.chain),
                price(lane.chain[cheapest]) < price(lane.chain[lane.current])
            {
                change = Switch(
                    trader: trader,
                    from: lane.chain[lane.current],
                    to: lane.chain[cheapest],
                    reason: "budget past its alert threshold"
                )
                lane.current = cheapest
                lane.consecutiveFailures = 0
                lane.switchedAt = now
            }
            if lane.current == 0 { return (Selection(alias: lane.chain[0], reason: .primary), change) }
            let lastLook = lane.lastProbeAt ?? lane.switchedAt ?? now
            if !underBudgetPressure, now - lastLook >= routing.recoveryProbeInterval.milliseconds {
                lane.lastProbeAt = now
                return (Selection(alias: lane.chain[0], reason: .probe), change)
            }
            return (
                Selection(alias: lane.chain[lane.current], reason: underBudgetPressure ? .budget : .fallback),
                change
            )
        }
    }

    /// Books an answer from `alias`; moves back to the primary when it has recovered.
    package func recordSuccess(trader: String, alias: String, now: Int64, underBudgetPressure: Bool) -> Switch? {
        lanes.withLock { lanes in
            // Taken out of the table while it changes: a copy left there would make each append copy the outcomes.
            guard var lane = lanes.removeValue(forKey: trader) else { return nil }
            defer { lanes[trader] = lane }
            if alias == lane.chain[lane.current] { lane.consecutiveFailures = 0 }
            guard alias == lane.chain[0] else { return nil }
            lane.outcomes.append((now, true))
            trim(&lane, now: now)
            guard lane.current != 0, !underBudgetPressure else { return nil }
            let rate = successRatePct(lane)
            guard rate > routing.recoverySuccessRatePct else { return nil }
            let change = Switch(
                trader: trader,
                from: lane.chain[lane.current],
                to: lane.chain[0],
                reason:
                    "primary recovered (\(Int(rate)) % success over \(ConfigDuration.format(routing.successWindow)))"
            )
            lane.current = 0
            lane.consecutiveFailures = 0
            lane.lastProbeAt = nil
            lane.switchedAt = now
            return change
        }
    }

    /// Books a failure of `alias`; returns the switch when it moved the trader down the chain.
    package func recordFailure(trader: String, alias: String, now: Int64) -> Switch? {
        lanes.withLock { lanes in
            guard var lane = lanes.removeValue(forKey: trader) else { return nil }
            defer { lanes[trader] = lane }
            if alias == lane.chain[0] {
                lane.outcomes.append((now, false))
                trim(&lane, now: now)
            }
            // A failed probe changes nothing but the primary's record.
            guard alias == lane.chain[lane.current] else { return nil }
            lane.consecutiveFailures += 1
            guard lane.consecutiveFailures >= routing.failoverAfter, lane.current + 1 < lane.chain.count else {
                return nil
            }
            let change = Switch(
                trader: trader,
                from: alias,
                to: lane.chain[lane.current + 1],
                reason: "\(lane.consecutiveFailures) consecutive failures"
            )
            lane.current += 1
            lane.consecutiveFailures = 0
            lane.switchedAt = now
            lane.lastProbeAt = nil
            return change
        }
    }

    /// The primary's success rate over the window, in percent (100 with no calls).
    package func primarySuccessRatePct(trader: String, now: Int64) -> Double {
        lanes.withLock { lanes in
            guard var lane = lanes.removeValue(forKey: trader) else { return 100 }
            trim(&lane, now: now)
            lanes[trader] = lane
            return successRatePct(lane)
        }
    }

    private func successRatePct(_ lane: Lane) -> Double {
        guard !lane.primaryOutcomes.isEmpty else { return 100 }
        return Double(lane.primaryOutcomes.filter(\.success).count) / Double(lane.primaryOutcomes.count) * 100
    }

    /// Outcomes are appended in time order: the ones older than the window are a prefix. At most the newest
    /// `outcomeLimit` are kept — live, a window holds a few dozen calls; a backtest, whose model calls all fall
    /// within one window of wall time, would otherwise keep one per cycle and scan them all on every call.
    private func trim(_ lane: inout Lane, now: Int64) {
        let horizon = now - routing.successWindow.milliseconds
        let old = lane.primaryOutcomes.prefix { $0.time < horizon }.count
        lane.outcomesStart += max(old, lane.primaryOutcomes.count - Self.outcomeLimit)
        if lane.outcomesStart >= Self.outcomeLimit {
            lane.outcomes.removeFirst(lane.outcomesStart)
            lane.outcomesStart = 0
        }
    }

    static let outcomeLimit = 1_000

    private func price(_ alias: String) -> Double { models[alias]?.blendedUSDPerMillionTokens ?? .infinity }

    private func cheapestIndex(_ chain: [String]) -> Int? {
        chain.indices.min { (price(chain[$0]), $0) < (price(chain[$1]), $1) }
    }
}
