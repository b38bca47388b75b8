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

    package init(manager: ArenaManager, decidesBetweenCloses: Bool = false) {
        self.manager = manager
        self.decidesBetweenCloses = decidesBetweenCloses
    }

    /// From the clock's time to `end`, tick, run every due trader one at a time (in id order, so the
    /// paper venue sees the same sequence every run), then jump straight to the next event: the next candle close
    /// or the next trader due, whichever is first. The same cycle, risk and order code as a live run; one snapshot
    /// and one state save at the end. `progress` is called after each tick with the clock time and cycles run.
    package func run(
        until end: Int64,
        clock: VirtualClock,
        progress: (Int64, Int) -> Void = { _, _ in }
    ) async throws -> Int {
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
        while true {
            let now = clock.now()
            guard now <= end, !Task.isCancelled else { break }
            await manager.tick(now: now)
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
                guard manager.store.claim(trader.configuration.id, limit: .max) else { continue }
                await manager.runCycle(trader, now: now)
                lastDecisions[index] = manager.store.lastDecisionAt(trader.configuration.id)
                cycles += 1
                nextDue = min(nextDue, now + interval)
            }
            progress(now, cycles)
            var next = nextDue
            for market in replayMarkets { next = min(next, market.nextClose(after: now) ?? .max) }
            guard next != .max, next > now else { break }
            clock.jump(to: next)
        }
        let finish = min(clock.now(), end)
        await manager.export(now: finish)
        await manager.persist()
        try await manager.journal?.flush()
        return cycles
    }
}
