import Foundation
import Shared
import Synchronization

/// The engine's notion of time: Unix milliseconds for logic and records, and a way to wait.
/// Production uses `WallClock`; the embedded default replays candles through `ReplayClock`; tests use `ManualClock`.
package protocol ArenaClock: Sendable {
    /// Unix milliseconds.
    func now() -> Int64
    /// Waits until `now() >= deadline` (in the clock's own time).
    func sleep(until deadline: Int64) async throws
}

package struct WallClock: ArenaClock {
    package func now() -> Int64 { UTCTime.nowMilliseconds() }

    package func sleep(until deadline: Int64) async throws {
        let wait = deadline - now()
        if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) }
    }

    package init() {}
}

/// Time that starts at `start` and runs `speed` times faster than the wall clock: replays history quickly while
/// keeping every component honest about what "now" is.
package struct ReplayClock: ArenaClock {
    package let start: Int64
    package let speed: Double
    private let origin: ContinuousClock.Instant

    package init(start: Int64, speed: Double) {
        self.start = start
        self.speed = speed
        self.origin = ContinuousClock.now
    }

    package func now() -> Int64 {
        let elapsed = (ContinuousClock.now - origin).secondsValueForClock
        return start + Int64((elapsed * 1000 * speed).rounded(.down))
    }

    package func sleep(until deadline: Int64) async throws {
        let wait = Double(deadline - now()) / speed
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait.rounded(.up)))) }
    }
}

/// A clock that moves only when told. `sleep` returns once `advance` has moved time past the deadline.
package final class ManualClock: ArenaClock {
    private let state: Mutex<Int64>

    package init(now: Int64) {
        state = Mutex(now)
    }

    package func now() -> Int64 { state.withLock { $0 } }

    package func advance(byMilliseconds delta: Int64) {
        state.withLock { $0 += delta }
    }

    package func set(_ value: Int64) {
        state.withLock { $0 = value }
    }

    package func sleep(until deadline: Int64) async throws {
        while now() < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// Backtest time: `sleep` returns at once with the clock moved to the deadline, and the runner may jump ahead to
/// the next event. Nothing in a backtest waits on the wall clock.
package final class VirtualClock: ArenaClock {
    private let state: Mutex<Int64>

    package init(start: Int64) {
        state = Mutex(start)
    }

    package func now() -> Int64 { state.withLock { $0 } }

    /// Moves time forward (never back).
    package func jump(to time: Int64) {
        state.withLock { $0 = max($0, time) }
    }

    package func sleep(until deadline: Int64) async throws {
        jump(to: deadline)
    }
}

extension Duration {
    fileprivate var secondsValueForClock: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds.
    package var milliseconds: Int64 {
        // The components once: each reading splits the 128-bit count again (every tick of a backtest reads several).
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
