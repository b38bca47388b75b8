import ArenaAdapters
import ArenaCore
import Foundation
import Shared
import Synchronization

/// The manager's mutable state (a `ManagerBook`) behind a lock, persisted atomically to `state_path`. Each method
/// is the book's method of the same name, taken under the lock.
///
/// A lock, not an actor: every call is a few microseconds on the book, and a backtest makes one every tick and
/// several every cycle — as an actor, each switched executors twice. The state file is written outside the lock
/// (the state is copied under it), so a save never holds up a tick.
package final class ManagerStore: Sendable {
    package let path: String?
    private let book: Mutex<ManagerBook>
    /// The newest save written to `path`: a save that finds a newer one written does not write its older state.
    private let written = Mutex<Int>(0)
    /// Conversations kept per trader in state (the API shows the newest few).
    static let conversationLimit = 5
    /// Hourly equity points kept per trader (90 days).
    static let historyLimit = 24 * 90
    static let outcomeWindow = 50
    static let venueWindow = 100
    /// Keeps the newest rebalances for the export (once each).
    static let rebalanceLimit = 50

    /// What a tick needs to know of a trader once its account is observed, read without copying its state.
    package struct TickObservation: Sendable, Equatable {
        /// The drawdown switch has just fired: the trader's positions must be closed.
        var closeAll: Bool
        var isDrawdownLimitHit: Bool
        var isDailyLossLimitHit: Bool
        var isPaused: Bool
        var isFlattenRequested: Bool
    }

    package init(path: String?) throws {
        self.path = path
        var state = ManagerState()
        if let path, let data = FileManager.default.contents(atPath: path) {
            do {
                state = try JSONDecoder().decode(ManagerState.self, from: data)
            } catch {
                throw ManagerStateError(path: path, reason: "\(error)")
            }
        }
        book = Mutex(ManagerBook(state: state))
    }

    var state: ManagerState { book.withLock { $0.state } }
    var runningCount: Int { book.withLock { $0.running.count } }
    var suspended: [String: String] { book.withLock { $0.suspended } }
    var lastRebalanceAt: Int64? { book.withLock { $0.state.lastRebalanceAt } }
    var nextRebalanceID: Int { book.withLock { $0.nextRebalanceID } }

    func suspend(_ trader: String, reason: String) -> Bool {
        book.withLock { $0.suspend(trader, reason: reason) }
    }
    func apply(_ request: OperatorRequest, now: Int64) -> String { book.withLock { $0.apply(request, now: now) } }
    func flattenDone(_ trader: String) { book.withLock { $0.flattenDone(trader) } }
    func resume(_ trader: String) -> Bool { book.withLock { $0.resume(trader) } }
    func recordOrders(venue: String, failures: [Bool]) -> (rate: Double, count: Int) {
        book.withLock { $0.recordOrders(venue: venue, failures: failures) }
    }
    func recordOutcome(_ trader: String, failed: Bool) -> (rate: Double, count: Int) {
        book.withLock { $0.recordOutcome(trader, failed: failed) }
    }
    func state(_ trader: String) -> TraderState { book.withLock { $0.state.traders[trader] ?? TraderState() } }
    /// When the trader last decided (without copying its state: the backtest asks after every cycle).
    func lastDecisionAt(_ trader: String) -> Int64? { book.withLock { $0.state.traders[trader]?.lastDecisionAt } }
    package func begin(trader: String, capital: Double, now: Int64) {
        book.withLock { $0.begin(trader: trader, capital: capital, now: now) }
    }
    func advanceCycle(_ trader: String, to cycle: Int) -> Bool { book.withLock { $0.advanceCycle(trader, to: cycle) } }
    func claim(_ trader: String, limit: Int) -> Bool { book.withLock { $0.claim(trader, limit: limit) } }
    func release(_ trader: String) { book.withLock { $0.release(trader) } }
    func takeDirty() -> Bool { book.withLock { $0.takeDirty() } }
    func apply(_ record: CycleRecord, configuration: TraderConfiguration, now: Int64, remembers: Bool = false) {
        book.withLock { $0.apply(record, configuration: configuration, now: now, remembers: remembers) }
    }
    /// Updates equity history, cooldowns (from trades closed since last seen) and kill switches. Returns true
    /// when the drawdown switch has just fired and the trader's positions must be closed.
    package func observe(
        trader configuration: TraderConfiguration,
        account: TraderAccount,
        trades: [ClosedTrade],
        now: Int64,
        remembers: Bool = false
    ) -> Bool {
        observeTick(
            trader: configuration.id,
            risk: configuration.riskParams,
            account: account,
            trades: trades,
            now: now,
            remembers: remembers
        ).closeAll
    }
    /// `observe` for a tick (`ManagerBook.observeTick`).
    package func observeTick(
        trader id: String,
        risk limits: RiskParameters,
        account: TraderAccount,
        trades: [ClosedTrade],
        now: Int64,
        remembers: Bool = false
    ) -> TickObservation {
        book.withLock {
            $0.observeTick(trader: id, risk: limits, account: account, trades: trades, now: now, remembers: remembers)
        }
    }
    func claimSummary(day: Int64) -> Bool { book.withLock { $0.claimSummary(day: day) } }
    func quietUntil(traders ids: [String], after now: Int64) -> Int64? {
        book.withLock { $0.quietUntil(traders: ids, after: now) }
    }
    func armRebalancing(at time: Int64) { book.withLock { $0.armRebalancing(at: time) } }
    func applyTransfer(trader id: String, amount: Double, rebalance: Int) {
        book.withLock { $0.applyTransfer(trader: id, amount: amount, rebalance: rebalance) }
    }
    func recordRebalance(_ rebalance: RebalancesDocument.Rebalance) { book.withLock { $0.recordRebalance(rebalance) } }

    /// Writes the state as it is now (its clock time raised to `clockTime`) to `path`. The state is copied under the
    /// lock and written outside it; of two saves racing, the older state is never written over the newer.
    func save(clockTime: Int64) throws {
        try write(stage(clockTime: clockTime))
    }

    /// A copy of the state to save, numbered in the order saves were asked for.
    struct StagedSave {
        let state: ManagerState
        let generation: Int
    }

    /// The state as it is now, its clock time raised to `clockTime`, numbered after every save before it.
    func stage(clockTime: Int64) -> StagedSave {
        book.withLock { book in
            book.state.clockTime = max(book.state.clockTime, clockTime)
            book.saves += 1
            return StagedSave(state: book.state, generation: book.saves)
        }
    }

    /// Writes a staged state to `path`, unless a newer one was written already.
    func write(_ staged: StagedSave) throws {
        guard let path else { return }
        try written.withLock { written in
            guard staged.generation > written else { return }
            try AtomicFile.replaceJSON(path, with: staged.state)
            written = staged.generation
        }
    }
}

/// The manager's mutable state and what it books in memory only; `ManagerStore` holds it behind its lock.
package struct ManagerBook: Sendable {
    var state: ManagerState
    var running: Set<String> = []
    var dirty = false
    /// Saves asked for so far (`ManagerStore.save` orders them).
    var saves = 0

    /// Traders paused for failing too often, with why. In memory only: a restart resumes them, as does
    /// `engine resume`.
    var suspended: [String: String] = [:]
    /// The last outcomes per trader (true = failed closed), for the failure rate.
    private var recentOutcomes: [String: [Bool]] = [:]

    init(state: ManagerState) { self.state = state }

    mutating func suspend(_ trader: String, reason: String) -> Bool {
        guard suspended[trader] == nil else { return false }
        suspended[trader] = reason
        return true
    }

    /// Applies an operator's request; returns what became of it, for the operator journal.
    mutating func apply(_ request: OperatorRequest, now: Int64) -> String {
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
    mutating func flattenDone(_ trader: String) {
        guard state.traders[trader]?.flattenRequest != nil else { return }
        state.traders[trader]?.flattenRequest = nil
        dirty = true
    }

    mutating func resume(_ trader: String) -> Bool {
        recentOutcomes[trader] = nil
        return suspended.removeValue(forKey: trader) != nil
    }

    /// The last order outcomes per venue (true = the venue failed it), for the venue error rate.
    private var venueOutcomes: [String: [Bool]] = [:]

    /// Books a cycle's orders at a venue and returns its error rate over the window and the window's size.
    mutating func recordOrders(venue: String, failures: [Bool]) -> (rate: Double, count: Int) {
        var outcomes = venueOutcomes[venue] ?? []
        outcomes += failures
        if outcomes.count > ManagerStore.venueWindow { outcomes.removeFirst(outcomes.count - ManagerStore.venueWindow) }
        venueOutcomes[venue] = outcomes
        guard !outcomes.isEmpty else { return (0, 0) }
        return (Double(outcomes.filter { $0 }.count) / Double(outcomes.count), outcomes.count)
    }

    /// Books an outcome and returns the failure rate over the window and how many outcomes it holds.
    mutating func recordOutcome(_ trader: String, failed: Bool) -> (rate: Double, count: Int) {
        var outcomes = recentOutcomes[trader] ?? []
        outcomes.append(failed)
        if outcomes.count > ManagerStore.outcomeWindow {
            outcomes.removeFirst(outcomes.count - ManagerStore.outcomeWindow)
        }
        recentOutcomes[trader] = outcomes
        return (Double(outcomes.filter { $0 }.count) / Double(outcomes.count), outcomes.count)
    }

    /// Changes the trader's state where it lies in the table (started on first sight), its id looked up once: a
    /// copy held while it changes would make every change to its long lists (equity history, invocation times,
    /// signal samples) copy them whole.
    private mutating func modify<Result>(_ trader: String, _ body: (inout TraderState) -> Result) -> Result {
        if let index = state.traders.index(forKey: trader) { return body(&state.traders.values[index]) }
        var fresh = TraderState()
        defer { state.traders[trader] = fresh }
        return body(&fresh)
    }

    /// Starts a trader's state on first sight; a restored trader keeps what it had.
    package mutating func begin(trader: String, capital: Double, now: Int64) {
        guard state.traders[trader] == nil else { return }
        var fresh = TraderState()
        fresh.startedAt = now
        fresh.inceptionCapital = capital
        fresh.peakEquity = capital
        fresh.dayStartEquity = capital
        fresh.day = Self.day(at: now)
        fresh.equityHistory = [
            .init(marker: 0, time: now, equity: capital, realizedPnL: 0, unrealizedPnL: 0)
        ]
        fresh.arenaHold = state.entriesHalt
        state.traders[trader] = fresh
        dirty = true
    }

    /// Raises a trader's cycle count to `cycle` when it is behind; true when it was.
    mutating func advanceCycle(_ trader: String, to cycle: Int) -> Bool {
        guard var state = state.traders[trader], state.cycle < cycle else { return false }
        state.cycle = cycle
        self.state.traders[trader] = state
        dirty = true
        return true
    }

    /// Marks a trader as running; false when it already is, or when `limit` cycles are already running.
    mutating func claim(_ trader: String, limit: Int) -> Bool {
        guard running.count < limit else { return false }
        return running.insert(trader).inserted
    }

    /// Marks a claimed trader as not running again (its cycle did not start).
    mutating func release(_ trader: String) { running.remove(trader) }

    mutating func takeDirty() -> Bool {
        defer { dirty = false }
        return dirty
    }

    /// Records a finished cycle.
    /// `remembers`: the trader's templates read its memory, kept up here (`TraderMemory`).
    mutating func apply(_ record: CycleRecord, configuration: TraderConfiguration, now: Int64, remembers: Bool = false)
    {
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
                        answer: record.rawAnswer?.text ?? (record.error ?? ""),
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
                if trader.conversations.count > ManagerStore.conversationLimit {
                    trader.conversations.removeFirst(trader.conversations.count - ManagerStore.conversationLimit)
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

    /// `observe`, returning what the tick reads next (its kill switches, pause and flatten request) in the same
    /// step: every tick of a backtest (every candle) does this for every trader.
    /// (The trader's id and risk limits, not its whole configuration: every tick of a backtest calls this, and a
    /// configuration is copied, every field retained, when handed across.)
    package mutating func observeTick(
        trader id: String,
        risk limits: RiskParameters,
        account: TraderAccount,
        trades: [ClosedTrade],
        now: Int64,
        remembers: Bool = false
    ) -> ManagerStore.TickObservation {
        let (observation, changed) = modify(id) { trader -> (ManagerStore.TickObservation, Bool) in
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
            let marker = Int(Self.equityMarker(at: now, startedAt: trader.startedAt))
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
                if trader.equityHistory.count > ManagerStore.historyLimit {
                    trader.equityHistory.removeFirst(trader.equityHistory.count - ManagerStore.historyLimit)
                }
                changed = true
            }
            let day = Self.day(at: now)
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
            let observation = ManagerStore.TickObservation(
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

    /// When `observeTick` at `now` has just seen each trader's account (flat), the time before which seeing the
    /// same account again changes nothing: no new closed trade, the same equity against the same peak and the
    /// same limits, in the same hour (its equity point taken) and the same day (its start equity taken). Nil
    /// while an operator's flatten waits, or when the state is not what that tick leaves.
    func quietUntil(traders ids: [String], after now: Int64) -> Int64? {
        guard now >= 0 else { return nil }
        let day = Self.day(at: now)
        var until = (day + 1) * Self.dayLength
        for id in ids {
            guard let trader = state.traders[id], trader.flattenRequest == nil, trader.day == day,
                now >= trader.startedAt
            else { return nil }
            let marker = Self.equityMarker(at: now, startedAt: trader.startedAt)
            guard let last = trader.equityHistory.last?.marker, last >= Int(marker) else { return nil }
            until = min(until, trader.startedAt + (marker + 1) * Self.equityPointSpacing)
        }
        return until
    }

    /// The UTC day of `now` (a trader's daily loss limit and start equity go by it).
    static func day(at now: Int64) -> Int64 { now / dayLength }
    /// The hourly equity point a tick at `now` falls in, counted from the trader's start.
    static func equityMarker(at now: Int64, startedAt: Int64) -> Int64 { (now - startedAt) / equityPointSpacing }
    private static let dayLength: Int64 = 86_400_000
    private static let equityPointSpacing: Int64 = 3_600_000

    // MARK: Rebalancing

    /// Marks `day`'s summary as sent; false when it already was.
    mutating func claimSummary(day: Int64) -> Bool {
        guard state.lastSummaryDay != day else { return false }
        state.lastSummaryDay = day
        dirty = true
        return true
    }

    mutating func armRebalancing(at time: Int64) {
        state.lastRebalanceAt = time
        dirty = true
    }

    /// The id the next rebalance takes.
    var nextRebalanceID: Int { (state.rebalances?.last?.id ?? 0) + 1 }

    /// Books a rebalance transfer in the trader's measures, once per rebalance: what came in raises (and what
    /// left lowers) the inception capital, the peak and the day's starting equity alike, so returns, drawdown
    /// and daily loss see no gain or loss in it.
    mutating func applyTransfer(trader id: String, amount: Double, rebalance: Int) {
        guard var trader = state.traders[id], (trader.lastRebalance ?? 0) < rebalance else { return }
        trader.inceptionCapital += amount
        trader.peakEquity += amount
        trader.dayStartEquity += amount
        trader.pendingFlow = (trader.pendingFlow ?? 0) + amount
        trader.lastRebalance = rebalance
        state.traders[id] = trader
        dirty = true
    }

    mutating func recordRebalance(_ rebalance: RebalancesDocument.Rebalance) {
        var kept = state.rebalances ?? []
        guard !kept.contains(where: { $0.id == rebalance.id }) else { return }
        kept.append(rebalance)
        kept.sort { $0.id < $1.id }
        if kept.count > ManagerStore.rebalanceLimit { kept.removeFirst(kept.count - ManagerStore.rebalanceLimit) }
        state.rebalances = kept
        state.lastRebalanceAt = max(state.lastRebalanceAt ?? rebalance.timestamp, rebalance.timestamp)
        dirty = true
    }
}

package struct ManagerStateError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    package var description: String { "manager state \(path) is unreadable: \(reason)" }
}
