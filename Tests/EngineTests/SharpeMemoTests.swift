import ArenaCore
import Testing

@testable import ArenaRuntime

/// The cycle's remembered Sharpe ratio is the one computed from scratch, as the history grows, is trimmed at
/// its start and gains a rebalance flow.
@Suite struct SharpeMemoTests {
    @Test func memo_agreesWithAFreshComputation() {
        let memo = SharpeMemo()
        var history: [TraderState.EquityPoint] = []
        var equity = 10_000.0
        #expect(memo.sharpe(history) == Performance.sharpe(history))
        for hour in 0..<300 {
            equity *= 1 + Double((hour * 7919) % 13 - 6) / 1000
            history.append(
                .init(marker: hour, time: Int64(hour) * 3_600_000, equity: equity, realizedPnL: 0, unrealizedPnL: 0)
            )
            if hour % 50 == 49 { history.removeFirst(10) }
            if hour % 70 == 69 { history[history.count - 1].flow = 500 }
            // Asked several times per point, as cycles do.
            for _ in 0..<3 { #expect(memo.sharpe(history) == Performance.sharpe(history), "hour \(hour)") }
        }
        #expect(Performance.sharpe(history) != 0)
    }
}
