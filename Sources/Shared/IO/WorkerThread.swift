import Dispatch
import Foundation
import Glibc
import Synchronization

/// A thread of its own, at a lower scheduling priority, for long CPU-bound or blocking work: encoding a batch of
/// journal records, fsyncing and compressing a closed journal file. Run as tasks, such work holds one of the
/// cooperative pool's threads — as many as the machine has cores — for tens or hundreds of milliseconds; on a
/// 2-core machine a compression and an encoding left the trading loop no thread at all (a 3-minute backtest's
/// loop ran 77 % of the time while both were busy). Here the kernel shares the cores, and the loop, at the
/// normal priority, wins them when both want one. Jobs run one at a time, in the order they are given.
package final class WorkerThread: Sendable {
    /// The jobs not yet run, shared with the thread.
    private final class Jobs: Sendable {
        let waiting = Mutex<[@Sendable () -> Void]>([])
        let ready = DispatchSemaphore(value: 0)
    }

    private let jobs = Jobs()

    /// `name`: the thread's (cut to 15 bytes, the kernel's limit; a name that cannot be set is only cosmetic).
    /// `niceness`: added to the process's nice value for this thread (Linux schedules threads one by one; 19 at
    /// most). The thread lives as long as the process; make one per kind of work, not per job.
    package init(name: String, niceness: Int32) {
        let jobs = jobs
        let thread = Thread {
            // The kernel's name (`top -H`, `perf`); Glibc's `pthread_setname_np` is not imported.
            try? Data(name.utf8.prefix(15)).write(to: URL(fileURLWithPath: "/proc/thread-self/comm"))
            // Linux keeps a nice value per thread: `who` 0 is the calling thread, not the whole process.
            let which = __priority_which_t(PRIO_PROCESS.rawValue)
            _ = setpriority(which, 0, getpriority(which, 0) + niceness)
            while true {
                jobs.ready.wait()
                let job = jobs.waiting.withLock { $0.removeFirst() }
                job()
            }
        }
        thread.start()
    }

    /// Runs `job` on the thread, after the jobs given before it.
    package func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.waiting.withLock { $0.append(job) }
        jobs.ready.signal()
    }

    /// Drops `value` on the thread: something large and spent (a batch of journal records with their markets,
    /// their encoded lines) is freed here rather than on the caller's thread, the trading loop's (freeing a
    /// backtest's spent batches was 4 % of its loop). The caller hands over its last reference.
    package func release<T: Sendable>(_ value: consuming T) {
        let spent = Spent(value)
        submit { spent.drop() }
    }

    /// A value on its way to be dropped; only the thread touches it once it is handed over.
    private final class Spent<T>: @unchecked Sendable {
        private var value: T?

        init(_ value: consuming T) { self.value = value }

        func drop() { value = nil }
    }

    /// `work`'s result, computed on the thread; the caller suspends meanwhile (it holds no thread).
    package func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try work() }) }
        }
    }

    /// The same for work that cannot fail.
    package func perform<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: work()) }
        }
    }

    /// Queues `work` now — after the jobs given before this call, before those given after it, which `perform`
    /// called from a new task does not promise — and returns a task that ends with its result.
    package func schedule<T: Sendable>(_ work: @escaping @Sendable () -> T) -> Task<T, Never> {
        let outcome = Outcome<T>()
        submit { outcome.fulfil(work()) }
        return Task { await outcome.value() }
    }

    /// A job's result, handed from the thread to whoever awaits it (before or after it is there).
    private final class Outcome<T: Sendable>: Sendable {
        private enum State {
            case waiting(CheckedContinuation<T, Never>?)
            case done(T)
        }

        private let state = Mutex<State>(.waiting(nil))

        func fulfil(_ value: T) {
            let waiter = state.withLock { state -> CheckedContinuation<T, Never>? in
                guard case .waiting(let waiter) = state else { return nil }
                state = .done(value)
                return waiter
            }
            waiter?.resume(returning: value)
        }

        func value() async -> T {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> T? in
                    switch state {
                    case .done(let value):
                        return value
                    case .waiting:
                        state = .waiting(continuation)
                        return nil
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    /// Journal batches encoded beside a backtest's loop: one thread per core, a part of each batch on each (the
    /// loop, at the normal priority, still gets its core).
    package static let journalEncoding = (0..<max(1, ProcessInfo.processInfo.activeProcessorCount)).map {
        WorkerThread(name: "journal-enc-\($0)", niceness: 5)
    }
    /// Closed journal files fsynced and compressed. (The journal's spent batches are freed on the encoding threads.)
    package static let journalFiles = WorkerThread(name: "journal-files", niceness: 10)
}
