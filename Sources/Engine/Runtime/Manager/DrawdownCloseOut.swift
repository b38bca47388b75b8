import ArenaAdapters
import ArenaCore
import Foundation
import Logging
import Shared
import Synchronization

/// The drawdown switch's close-out of a trader's positions, level-triggered: the manager calls it every tick while
/// the switch is on and a position remains, and it runs at most once per `retry` of clock time per trader.
package final class DrawdownCloseOut: Sendable {
    let store: ManagerStore
    let clock: any ArenaClock
    /// Clock milliseconds between two close-outs of the same trader (a minute, or five ticks): clock time, so a
    /// backtest stays deterministic.
    let retry: Int64
    let logger: Logger
    /// When each trader's last close-out ran.
    private let lastRun = Mutex<[String: Int64]>([:])

    init(store: ManagerStore, clock: any ArenaClock, tickInterval: Int64, logger: Logger) {
        self.store = store
        self.clock = clock
        self.retry = max(60_000, 5 * tickInterval)
        self.logger = logger
    }

    /// The drawdown switch closing a trader's positions: an engine cycle of its own (`origin` `drawdown_switch`, no
    /// prompts), journaled like a model's — intents first in a live run, then the orders (each position's
    /// protection cancelled, then a reduce-only market close), then the record — so the journal holds every order
    /// the venue books. Waits for a cycle in flight to finish, and after a close-out waits `retry` before
    /// trying again for what is left.
    /// `origin` and `reason` name who closes: the drawdown switch (default) or an operator (`engine flatten`).
    func run(
        _ trader: ArenaManager.Trader,
        account: TraderAccount,
        now: Int64,
        exchange: any ExchangeProvider,
        intentLog: DecisionCycle.IntentLog?,
        origin: CycleRecord.Origin = .drawdownSwitch,
        reason: ReasonCode = .drawdownLimit,
        commit: (CycleRecord) async -> Void
    ) async {
        let id = trader.configuration.id
        guard lastRun.withLock({ $0[id].map { now - $0 >= retry } ?? true }),
            store.claim(id, limit: .max)
        else { return }
        lastRun.withLock { $0[id] = now }
        let cycle = store.state(id).cycle + 1
        var record = CycleRecord(
            traderID: id,
            cycle: cycle,
            cycleID: "\(id)-\(cycle)",
            startedAt: now,
            endedAt: now,
            outcome: .completed,
            reason: reason,
            modelAsked: "",
            account: account
        )
        record.origin = origin
        let closes = account.positions.values.sorted { $0.symbol < $1.symbol }.map {
            OrderPlanner.close(
                $0,
                trader: trader.cycle.view,
                cycle: cycle,
                leg: origin == .drawdownSwitch ? "drawdown" : "flatten"
            )
        }
        if let failure = await DecisionCycle.journalIntents(record, adding: closes, to: intentLog, logger: logger) {
            record.outcome = .failedClosed
            record.reason = .journalUnavailable
            record.error = failure
        } else {
            for failure in await DecisionCycle.sendCloses(closes, recordingIn: &record, exchange: exchange) {
                logger.error("drawdown close failed", metadata: ["trader": "\(id)", "error": "\(failure)"])
            }
        }
        record.endedAt = clock.now()
        await commit(record)
    }
}
