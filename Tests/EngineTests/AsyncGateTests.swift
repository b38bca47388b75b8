import Synchronization
import Testing

@testable import ArenaRuntime

/// The manager's commit gate: one holder at a time, however the holders suspend inside, and waiters served in the
/// order they came.
@Suite("Async gate")
struct AsyncGateTests {
    /// Shared by the tasks (a `Mutex` alone cannot be captured by them).
    final class Box<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func with<Result>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
    }

    @Test func oneHolderAtATime_evenWhenHoldersSuspendInside() async {
        let gate = AsyncGate()
        let inside = Box((now: 0, most: 0, entries: 0))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    await gate.lock()
                    inside.with {
                        $0.now += 1
                        $0.most = max($0.most, $0.now)
                        $0.entries += 1
                    }
                    // Suspends while holding the gate: without it, other tasks would come in here.
                    for _ in 0..<3 { await Task.yield() }
                    inside.with { $0.now -= 1 }
                    gate.unlock()
                }
            }
        }
        let seen = inside.with { $0 }
        #expect(seen.entries == 40)
        #expect(seen.most == 1)
        #expect(gate.waiting == 0)
    }

    @Test func waitersAreServedInTheOrderTheyCame() async throws {
        let gate = AsyncGate()
        let order = Box<[Int]>([])
        await gate.lock()
        var waiters: [Task<Void, Never>] = []
        for index in 0..<5 {
            waiters.append(
                Task {
                    await gate.lock()
                    order.with { $0.append(index) }
                    gate.unlock()
                }
            )
            // The next waiter starts only once this one is queued (a gate that lets it in fails here, not hangs).
            var looks = 0
            while gate.waiting < index + 1, looks < 30_000 {
                try await Task.sleep(for: .milliseconds(1))
                looks += 1
            }
            try #require(gate.waiting == index + 1, "waiter \(index) never queued")
        }
        #expect(order.with { $0 }.isEmpty)
        gate.unlock()
        for waiter in waiters { await waiter.value }
        #expect(order.with { $0 } == [0, 1, 2, 3, 4])
        // Given back by the last one: free again.
        await gate.lock()
        #expect(gate.waiting == 0)
        gate.unlock()
    }
}
