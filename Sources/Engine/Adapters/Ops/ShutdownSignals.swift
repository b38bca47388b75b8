import ArenaCore
import Synchronization
import UnixSignals

/// Counts SIGTERM and SIGINT for the whole run. The first starts the graceful shutdown (the service group hears
/// it too); a second one means "now": in-flight cycles are cancelled at once instead of getting the rest of
/// `manager.shutdown_grace`. Trapped from the start, so a second signal never falls through to the default action
/// (killing the process before the journal is flushed).
package final class ShutdownSignals: Sendable {
    private let count = Mutex(0)
    private let listener = Mutex<Task<Void, Never>?>(nil)

    package init() {}

    /// Whether a second signal has arrived.
    package var isUrgent: Bool { count.withLock { $0 >= 2 } }

    /// Starts listening; `onUrgent` runs once, when the second signal arrives.
    package func start(onUrgent: @escaping @Sendable () -> Void = {}) async {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let task = Task { [self] in
            for await _ in signals {
                let seen = self.count.withLock { value -> Int in
                    value += 1
                    return value
                }
                if seen == 2 { onUrgent() }
            }
        }
        listener.withLock { $0 = task }
    }

    package func stop() {
        listener.withLock { $0?.cancel() }
    }
}
