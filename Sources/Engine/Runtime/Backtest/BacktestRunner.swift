import ArenaAdapters
import ArenaCore
import Foundation

/// Runs the manager's traders over history: the same cycle, risk and order code as a live run, on a virtual clock
/// that jumps from event to event.
package struct BacktestRunner {
    package let manager: ArenaManager
    /// Whether a trader whose decision interval is shorter than its candles' decides again before another candle
    /// has closed (on the same data); by default it waits for the next close.
    package var decidesBetweenCloses = false
    /// Whether ticks that would change nothing are left out (see `run`); off, every step ticks.
    package var leavesOutQuietTicks = true

    package init(manager: ArenaManager, decidesBetweenCloses: Bool = false) {
        self.manager = manager
        self.decidesBetweenCloses = decidesBetweenCloses
    }

    /// From the clock's time to `end`, tick, run every due trader one at a time (in id order, so the
    /// paper venue sees the same sequence every run), then jump straight to the next event: the next candle close
    /// or the next trader due, whichever is first. The same cycle, risk and order code as a live run; one snapshot
    /// and one state save at the end. `progress` is called after each step with the clock time and cycles run.
    ///
    /// While every account is flat, ticks that would change nothing are left out (`ArenaManager.quietUntil`): the
    /// clock jumps to the first candle close at or after the quiet's end, or to the next trader due, whichever is
    /// first, and ticks there as it would have — the same results, byte for byte.
    package func run(
        until end: Int64,
        clock: VirtualClock,
        progress: (Int64, Int) -> Void = { _, _ in }
    ) async throws -> (cycles: Int, ticks: Int) {
        try await manager.prepare()
        let replayMarkets = manager.markets.values.compactMap { $0 as? ReplayMarketProvider }
        // In id order with each one's replay market, looked up once (every tick asks every trader).
        let ordered = manager.traders.sorted { $0.configuration.id < $1.configuration.id }
            .filter(\.configuration.autoStart)
            .map { ($0, manager.markets[$0.configuration.marketProvider] as? ReplayMarketProvider) }
        // When each last decided: only its own model cycles change it (a close-out or a rebalance does not), so it
        // is read from the store once here and after each of its cycles, not every tick.
        var lastDecisions: [Int64?] = []
        for (trader, _) in ordered { lastDecisions.append(manager.store.lastDecisionAt(trader.configuration.id)) }
        let intervals = ordered.map { $0.0.configuration.decisionInterval.milliseconds }
        var cycles = 0
        var ticksMade = 0
        // Ticks before `quietUntil` change nothing, unless a trader is due (at `dueAt` or later).
        var quietUntil = Int64.min
        var dueAt = Int64.min
        while true {
            let now = clock.now()
            guard now <= end, !Task.isCancelled else { break }
            let ticks = now >= quietUntil || now >= dueAt
            // Whether this step's tick found every account flat, with no order sent since.
            var isFlat = false
            if ticks {
                ticksMade += 1
                isFlat = await manager.tick(now: now) && leavesOutQuietTicks
                quietUntil = .min
            }
            if manager.rebalancing != nil { await manager.rebalanceIfDue(now: now) }
            var nextDue = Int64.max
            for (index, (trader, market)) in ordered.enumerated() {
                let lastDecisionAt = lastDecisions[index]
                let interval = intervals[index]
                if let last = lastDecisionAt, now - last < interval {
                    nextDue = min(nextDue, last + interval)
                    continue
                }
                // Due, but no candle of its market has closed since it last decided: nothing new to decide on.
                if !decidesBetweenCloses, let last = lastDecisionAt, let market,
                    let close = market.nextClose(after: last), close > now
                {
                    nextDue = min(nextDue, close)
                    continue
                }
                // Due now: a cycle that sends an order ends the quiet (its account may change), and so does a claim
                // refused (it is asked again at the next close). One that sends none leaves every account as it was.
                guard manager.store.claim(trader.configuration.id, limit: .max) else {
                    (quietUntil, isFlat) = (.min, false)
                    continue
                }
                if await manager.runCycle(trader, now: now) { (quietUntil, isFlat) = (.min, false) }
                lastDecisions[index] = manager.store.lastDecisionAt(trader.configuration.id)
                cycles += 1
                nextDue = min(nextDue, now + interval)
            }
            if isFlat { quietUntil = await manager.quietUntil(after: now) ?? .min }
            progress(now, cycles)
            dueAt = nextDue
            // The next step as without the quiet: the next close or the next trader due.
            var next = nextDue
            for market in replayMarkets { next = min(next, market.nextClose(after: now) ?? .max) }
            if quietUntil > now, next <= end {
                // Quiet: each market's first close from the quiet's end on (or its next one when it has none by
                // then), or the next trader due; when that is past `end`, the last close by `end`, which ticks.
                var skip = nextDue
                for market in replayMarkets {
                    skip = min(skip, market.nextClose(after: quietUntil - 1) ?? market.nextClose(after: now) ?? .max)
                }
                if skip > end, let last = replayMarkets.compactMap({ $0.lastClose(atOrBefore: end) }).max() {
                    skip = last
                    quietUntil = .min
                }
                next = skip
            }
            // The last step ticks, as it would have (the snapshot shows its marks).
            if next > end || next <= now, !ticks {
                ticksMade += 1
                await manager.tick(now: now)
            }
            guard next != .max, next > now else { break }
            clock.jump(to: next)
        }
        let finish = min(clock.now(), end)
        // The snapshot, the state and the journal's last records are independent files (each reads the state under
        // its lock): written at once, on both cores.
        async let exported: Void = manager.export(now: finish)
        async let persisted: Void = manager.persist()
        try await manager.journal?.flush()
        _ = await (exported, persisted)
        return (cycles, ticksMade)
    }
}
