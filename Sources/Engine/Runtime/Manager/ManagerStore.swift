import ArenaAdapters
import ArenaCore
import Foundation
import Shared

/// The manager's mutable state, behind an actor, persisted atomically to `state_path`.
package actor ManagerStore {
    private(set) var state: ManagerState
    nonisolated let path: String?
    private var running: Set<String> = []
    private var dirty = false
    /// Conversations kept per trader in state (the API shows the newest few).
    static let conversationLimit = 5
    /// Hourly equity points kept per trader (90 days).
    static let historyLimit = 24 * 90

    package init(path: String?) throws {
        self.path = path
        if let path, let data = FileManager.default.contents(atPath: path) {
            do {
                state = try JSONDecoder().decode(ManagerState.self, from: data)
            } catch {
                throw ManagerStateError(path: path, reason: "\(error)")
            }
        } else {
            state = ManagerState()
        }
    }

    var runningCount: Int { running.count }

    /// Traders paused for failing too often, with why. In memory only: a restart resumes them, as does
    /// `engine resume`.
    private(set) var suspended: [String: String] = [:]
    /// The last outcomes per trader (true = failed closed), for the failure rate.
    private var recentOutcomes: [String: [Bool]] = [:]
    static let outcomeWindow = 50

    func suspend(_ trader: String, reason: String) -> Bool {
        guard suspended[trader] == nil else { return false }
        suspended[trader] = reason
        return true
    }

    /// Applies an operator's request; returns what became of it, for the operator journal.
    func apply(_ request: OperatorRequest, now: Int64) -> String {
        let label = "\(request.user) at \(UTCTime.iso8601(request.requestedAt))"
        switch request.action {
        case .flatten:
            guard let id = request.trader, state.traders[id] != nil else {
                return "refused: unknown trader \(request.trader ?? "(none)")"
            }
            let pending = state.traders[id]?.flattenRequest
            state.traders[id]?.flattenRequest = pending ?? "flattened by \(label)"
            dirty = true
            return pending == nil ? "flatten requested" : "flatten already requested"
        case .pause, .resume:
            guard let id = request.trader, var trader = state.traders[id] else {
                return "refused: unknown trader \(request.trader ?? "(none)")"
            }
            var outcome: String
            if request.action == .pause {
                outcome = trader.operatorHold == nil ? "paused" : "already paused"
                trader.operatorHold = trader.operatorHold ?? "entries paused by \(label)"
            } else {
                let wasSuspended = resume(id)
                outcome = trader.operatorHold != nil || wasSuspended ? "resumed" : "was not paused"
                trader.operatorHold = nil
            }
            state.traders[id] = trader
            dirty = true
            return outcome
        case .haltEntries, .allowEntries:
            let halt = request.action == .haltEntries ? state.entriesHalt ?? "entries halted by \(label)" : nil
            let outcome =
                request.action == .haltEntries
                ? (state.entriesHalt == nil ? "entries halted" : "already halted")
                : (state.entriesHalt == nil ? "entries were not halted" : "entries allowed")
            state.entriesHalt = halt
            for id in state.traders.keys { state.traders[id]?.arenaHold = halt }
            dirty = true
            return outcome
        }
    }

    /// The trader holds no position any more: its flatten request is done.
    func flattenDone(_ trader: String) {
        guard state.traders[trader]?.flattenRequest != nil else { return }
        state.traders[trader]?.flattenRequest = nil
        dirty = true
    }

    func resume(_ trader: String) -> Bool {
        recentOutcomes[trader] = nil
        return suspended.removeValue(forKey: trader) != nil
    }

    /// The last order outcomes per venue (true = the venue failed it), for the venue error rate.
    private var venueOutcomes: [String: [Bool]] = [:]
    static let venueWindow = 100

    /// Books a cycle's orders at a venue and returns its error rate over the window and the window's size.
    func recordOrders(venue: String, failures: [Bool]) -> (rate: Double, count: Int) {
        var outcomes = venueOutcomes[venue] ?? []
        outcomes += failures
        if outcomes.count > Self.venueWindow { outcomes.removeFirst(outcomes.count - Self.venueWindow) }
        venueOutcomes[venue] = outcomes
        guard !outcomes.isEmpty else { return (0, 0) }
        return (Double(outcomes.filter { $0 }.count) / Double(outcomes.count), outcomes.count)
    }

    /// Books an outcome and returns the failure rate over the window and how many outcomes it holds.
    func recordOutcome(_ trader: String, failed: Bool) -> (rate: Double, count: Int) {
        var outcomes = recentOutcomes[trader] ?? []
        outcomes.append(failed)
        if outcomes.count > Self.outcomeWindow { outcomes.removeFirst(outcomes.count - Self.outcomeWindow) }
        recentOutcomes[trader] = outcomes
        return (Double(outcomes.filter { $0 }.count) / Double(outcomes.count), outcomes.count)
    }

    func state(_ trader: String) -> TraderState { state.traders[trader] ?? TraderState() }

    /// When the trader last decided (without copying its state: the backtest asks for every trader every tick).
    func lastDecisionAt(_ trader: String) -> Int64? { state.traders[trader]?.lastDecisionAt }

    /// Changes the trader's state where it lies in the table (started on first sight), its id looked up once: a
    /// copy held while it changes would make every change to its long lists (equity history, invocation times,
    /// signal samples) copy them whole.
    private func modify<Result>(_ trader: String, _ body: (inout TraderState) -> Result) -> Result {
        if let index = state.traders.index(forKey: trader) { return body(&state.traders.values[index]) }
        var fresh = TraderState()
        defer { state.traders[trader] = fresh }
        return body(&fresh)
    }

    /// Starts a trader's state on first sight; a restored trader keeps what it had.
    package func begin(trader: String, capital: Double, now: Int64) {
        guard state.traders[trader] == nil else { return }
        var fresh = TraderState()
        fresh.startedAt = now
        fresh.inceptionCapital = capital
        fresh.peakEquity = capital
        fresh.dayStartEquity = capital
        fresh.day = now / 86_400_000
        fresh.equityHistory = [
            .init(marker: 0, time: now, equity: capital, realizedPnL: 0, unrealizedPnL: 0)
        ]
        fresh.arenaHold = state.entriesHalt
        state.traders[trader] = fresh
        dirty = true
    }

    /// Raises a trader's cycle count to `cycle` when it is behind; true when it was.
    func advanceCycle(_ trader: String, to cycle: Int) -> Bool {
        guard var state = state.traders[trader], state.cycle < cycle else { return false }
        state.cycle = cycle
        self.state.traders[trader] = state
        dirty = true
        return true
    }

    /// Marks a trader as running; false when it already is, or when `limit` cycles are already running.
    func claim(_ trader: String, limit: Int) -> Bool {
        guard running.count < limit else { return false }
        return running.insert(trader).inserted
    }

    /// Marks a claimed trader as not running again (its cycle did not start).
    func release(_ trader: String) { running.remove(trader) }

    func takeDirty() -> Bool {
        defer { dirty = false }
        return dirty
    }

    /// Records a finished cycle.
    /// `remembers`: the trader's templates read its memory, kept up here (`TraderMemory`).
    func apply(_ record: CycleRecord, configuration: TraderConfiguration, now: Int64, remembers: Bool = false) {
        running.remove(record.traderID)
        modify(record.traderID) { trader in
            trader.cycle = record.cycle
            if remembers {
                if trader.memory == nil { trader.memory = TraderMemory() }
                trader.memory?.record(record)
            }
            if record.origin != nil {
                // The engine's own cycle (a close-out): it takes a cycle number, nothing a model cycle counts.
                trader.lastOutcome = record.reason?.rawValue ?? record.outcome.rawValue
                return
            }
            trader.lastDecisionAt = record.startedAt
            trader.recordInvocation(at: record.startedAt)
            trader.lastOutcome = record.reason?.rawValue ?? record.outcome.rawValue
            trader.lastModel = record.modelAnswered ?? record.modelAsked
            if record.outcome == .failedClosed {
                trader.consecutiveFailures += 1
                trader.totalFailures += 1
            } else {
                trader.consecutiveFailures = 0
            }
            for decision in record.decisions { trader.signals.record(decision) }
            trader.recordPromptVersion(record)
            for attempt in record.attempts {
                var usage = trader.llmUsage ?? [:]
                usage[attempt.model, default: .init()].book(attempt)
                trader.llmUsage = usage
            }
            if let system = record.systemPrompt, let user = record.userPrompt {
                trader.conversations.append(
                    .init(
                        cycleID: record.cycleID,
                        time: record.startedAt,
                        model: record.modelAnswered ?? record.modelAsked,
                        system: system,
                        user: user,
                        answer: record.rawAnswer ?? (record.error ?? ""),
                        outcome: record.outcome.rawValue,
                        reason: record.reason?.rawValue,
                        verdicts: record.verdicts.map(\.summary),
                        orders: record.orders.map { order in
                            let result = record.results.first { $0.cloid == order.cloid }
                            return .init(
                                symbol: order.symbol,
                                side: order.isBuy ? "buy" : "sell",
                                kind: order.kind.rawValue,
                                size: order.size,
                                reduceOnly: order.isReduceOnly,
                                status: result?.status.rawValue,
                                filledSize: result?.filledSize,
                                averagePrice: result.flatMap { $0.filledSize > 0 ? $0.averagePrice : nil },
                                reason: result?.reason?.rawValue
                            )
                        }
                    )
                )
                if trader.conversations.count > Self.conversationLimit {
                    trader.conversations.removeFirst(trader.conversations.count - Self.conversationLimit)
                }
            }
            // Sharpe gating: a trader whose recent Sharpe falls below its threshold pauses entries for a while.
            if let threshold = configuration.riskParams.sharpePauseThreshold, trader.equityHistory.count >= 24,
                (trader.pausedUntil ?? 0) <= now,
                Performance.sharpe(Array(trader.equityHistory.suffix(24 * 7))) < threshold
            {
                trader.pausedUntil = now + configuration.riskParams.pauseDurationOnBreach.milliseconds
            }
        }
        dirty = true
    }

    /// Updates equity history, cooldowns (from trades closed since last seen) and kill switches. Returns true
    /// when the drawdown switch has just fired and the trader's positions must be closed.
    package func observe(
        trader configuration: TraderConfiguration,
        account: TraderAccount,
        trades: [ClosedTrade],
        now: Int64,
        remembers: Bool = false
    )
        -> Bool
    {
        observeTick(
            trader: configuration.id,
            risk: configuration.riskParams,
            account: account,
            trades: trades,
            now: now,
            remembers: remembers
        ).closeAll
    }

    /// What a tick needs to know of a trader once its account is observed, read without copying its state.
    package struct TickObservation: Sendable, Equatable {
        /// The drawdown switch has just fired: the trader's positions must be closed.
        var closeAll: Bool
        var isDrawdownLimitHit: Bool
        var isDailyLossLimitHit: Bool
        var isPaused: Bool
        var isFlattenRequested: Bool
    }

    /// `observe`, returning what the tick reads next (its kill switches, pause and flatten request) in the same
    /// step: every tick of a backtest (every candle) does this for every trader.
    /// (The trader's id and risk limits, not its whole configuration: every tick of a backtest calls this, and a
    /// configuration is copied, every field retained, when handed across.)
    package func observeTick(
        trader id: String,
        risk limits: RiskParameters,
        account: TraderAccount,
        trades: [ClosedTrade],
        now: Int64,
        remembers: Bool = false
    ) -> TickObservation {
        let (observation, changed) = modify(id) { trader -> (TickObservation, Bool) in
            let equity = account.equity
            var changed = false
            if trades.count > trader.closedTradesSeen {
                let cooldown = limits.cooldownAfterClose.milliseconds
                for trade in trades[trader.closedTradesSeen...] {
                    trader.recordPromptVersion(trade)
                    if remembers {
                        if trader.memory == nil { trader.memory = TraderMemory() }
                        trader.memory?.record(trade)
                    }
                    guard cooldown > 0 else { continue }
                    trader.cooldownUntil[trade.symbol] = max(
                        trader.cooldownUntil[trade.symbol] ?? 0,
                        trade.exitTime + cooldown
                    )
                }
                trader.closedTradesSeen = trades.count
                changed = true
            }
            let marker = Int((now - trader.startedAt) / 3_600_000)
            if marker > (trader.equityHistory.last?.marker ?? -1) {
                if let previous = trader.equityHistory.last, previous.equity > 0 {
                    trader.recordPromptVersionReturn((equity - (trader.pendingFlow ?? 0)) / previous.equity - 1)
                }
                trader.equityHistory.append(
                    .init(
                        marker: marker,
                        time: now,
                        equity: equity,
                        realizedPnL: account.realizedNetPnL(closedTrades: trades),
                        unrealizedPnL: account.unrealizedPnL,
                        llmCostUSD: trader.llmCostUSD,
                        flow: trader.pendingFlow,
                        marginUsed: account.marginUsed
                    )
                )
                trader.pendingFlow = nil
                if trader.equityHistory.count > Self.historyLimit {
                    trader.equityHistory.removeFirst(trader.equityHistory.count - Self.historyLimit)
                }
                changed = true
            }
            let day = now / 86_400_000
            if day != trader.day {
                trader.day = day
                trader.dayStartEquity = equity
                trader.isDailyLossLimitHit = false
                changed = true
            }
            if !trader.isDailyLossLimitHit, equity < trader.dayStartEquity * (1 - limits.maxDailyLossPct / 100) {
                trader.isDailyLossLimitHit = true
                changed = true
            }
            trader.peakEquity = max(trader.peakEquity, equity)
            if trader.peakEquity > 0 {
                let drawdown = (1 - equity / trader.peakEquity) * 100
                if drawdown > (trader.maxDrawdownPct ?? 0) { trader.maxDrawdownPct = drawdown }
            }
            var closeAll = false
            if !trader.isDrawdownLimitHit, equity < trader.peakEquity * (1 - limits.maxDrawdownPct / 100) {
                trader.isDrawdownLimitHit = true
                closeAll = true
                changed = true
            }
            let observation = TickObservation(
                closeAll: closeAll,
                isDrawdownLimitHit: trader.isDrawdownLimitHit,
                isDailyLossLimitHit: trader.isDailyLossLimitHit,
                isPaused: trader.isPaused(at: now),
                isFlattenRequested: trader.flattenRequest != nil
            )
            return (observation, changed)
        }
        if changed { dirty = true }
        return observation
    }

    // MARK: Rebalancing

    var lastRebalanceAt: Int64? { state.lastRebalanceAt }

    /// Marks `day`'s summary as sent; false when it already was.
    func claimSummary(day: Int64) -> Bool {
        guard state.lastSummaryDay != day else { return false }
        state.lastSummaryDay = day
        dirty = true
        return true
    }

    func armRebalancing(at time: Int64) {
        state.lastRebalanceAt = time
        dirty = true
    }

    /// The id the next rebalance takes.
    var nextRebalanceID: Int { (state.rebalances?.last?.id ?? 0) + 1 }

    /// Books a rebalance transfer in the trader's measures, once per rebalance: what came in raises (and what
    /// left lowers) the inception capital, the peak and the day's starting equity alike, so returns, drawdown
    /// and daily loss see no gain or loss in it.
    func applyTransfer(trader id: String, amount: Double, rebalance: Int) {
        guard var trader = state.traders[id], (trader.lastRebalance ?? 0) < rebalance else { return }
        trader.inceptionCapital += amount
        trader.peakEquity += amount
        trader.dayStartEquity += amount
        trader.pendingFlow = (trader.pendingFlow ?? 0) + amount
        trader.lastRebalance = rebalance
        state.traders[id] = trader
        dirty = true
    }

    /// Keeps the newest rebalances for the export (once each).
    static let rebalanceLimit = 50

    func recordRebalance(_ rebalance: RebalancesDocument.Rebalance) {
        var kept = state.rebalances ?? []
        guard !kept.contains(where: { $0.id == rebalance.id }) else { return }
        kept.append(rebalance)
        kept.sort { $0.id < $1.id }
        if kept.count > Self.rebalanceLimit { kept.removeFirst(kept.count - Self.rebalanceLimit) }
        state.rebalances = kept
        state.lastRebalanceAt = max(state.lastRebalanceAt ?? rebalance.timestamp, rebalance.timestamp)
        dirty = true
    }

    func save(clockTime: Int64) throws {
        state.clockTime = max(state.clockTime, clockTime)
        guard let path else { return }
        try AtomicFile.replaceJSON(path, with: state)
    }
}

package struct ManagerStateError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    package var description: String { "manager state \(path) is unreadable: \(reason)" }
}
