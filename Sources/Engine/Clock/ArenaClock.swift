import Foundation
import Synchronization

/// The engine's notion of time: Unix milliseconds for logic and records, and a way to wait.
/// Production uses `WallClock`; the embedded default replays candles through `ReplayClock`; tests use `ManualClock`.
protocol ArenaClock: Sendable {
    /// Unix milliseconds.
    func now() -> Int64
    /// Waits until `now() >= deadline` (in the clock's own time).
    func sleep(until deadline: Int64) async throws
}

struct WallClock: ArenaClock {
    func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    func sleep(until deadline: Int64) async throws {
        let wait = deadline - now()
        if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) }
    }
}

/// Time that starts at `start` and runs `speed` times faster than the wall clock: replays history quickly while
/// keeping every component honest about what "now" is.
struct ReplayClock: ArenaClock {
    let start: Int64
    let speed: Double
    private let origin: ContinuousClock.Instant

    init(start: Int64, speed: Double) {
        self.start = start
        self.speed = speed
        self.origin = ContinuousClock.now
    }

    func now() -> Int64 {
        let elapsed = (ContinuousClock.now - origin).secondsValueForClock
        return start + Int64((elapsed * 1000 * speed).rounded(.down))
    }

    func sleep(until deadline: Int64) async throws {
        let wait = Double(deadline - now()) / speed
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait.rounded(.up)))) }
    }
}

/// A clock that moves only when told. `sleep` returns once `advance` has moved time past the deadline.
final class ManualClock: ArenaClock {
    private let state: Mutex<Int64>

    init(now: Int64) {
        state = Mutex(now)
    }

    func now() -> Int64 { state.withLock { $0 } }

    func advance(byMilliseconds delta: Int64) {
        state.withLock { $0 += delta }
    }

    func set(_ value: Int64) {
        state.withLock { $0 = value }
    }

    func sleep(until deadline: Int64) async throws {
        while now() < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// Backtest time: `sleep` returns at once with the clock moved to the deadline, and the runner may jump ahead to
/// the next event. Nothing in a backtest waits on the wall clock.
final class VirtualClock: ArenaClock {
    private let state: Mutex<Int64>

    init(start: Int64) {
        state = Mutex(start)
    }

    func now() -> Int64 { state.withLock { $0 } }

    /// Moves time forward (never back).
    func jump(to time: Int64) {
        state.withLock { $0 = max($0, time) }
    }

    func sleep(until deadline: Int64) async throws {
        jump(to: deadline)
    }
}

extension Duration {
    fileprivate var secondsValueForClock: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
