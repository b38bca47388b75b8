import Foundation
import Glibc
import Synchronization
import Testing

@testable import Shared

/// The threads that encode journal batches and compress closed files beside the loop: jobs in order, on a thread
/// of the worker's own at its lower priority, results and errors handed back to the awaiting task.
@Suite("Worker thread")
struct WorkerThreadTests {
    struct Failed: Error, Equatable { let job: Int }

    /// What a job saw of the thread it ran on.
    struct Seen: Sendable, Equatable {
        let job: Int
        let name: String
        let nice: Int32

        final class Log: Sendable {
            private let entries = Mutex<[Seen]>([])
            func append(_ seen: Seen) { entries.withLock { $0.append(seen) } }
            var all: [Seen] { entries.withLock { $0 } }
        }
    }

    /// The calling thread's name as the kernel knows it.
    static func threadName() -> String {
        let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "(unreadable)"
        return comm.trimmingCharacters(in: .newlines)
    }

    @Test func jobsRunInOrder_onTheWorkersOwnThread_atItsLowerPriority() async {
        let worker = WorkerThread(name: "test-worker", niceness: 7)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let callerNice = getpriority(which, 0)
        let shared = Seen.Log()
        for job in 0..<50 {
            // The first job holds the thread while the others are given: they wait their turn.
            worker.submit {
                if job == 0 { usleep(20_000) }
                shared.append(Seen(job: job, name: WorkerThreadTests.threadName(), nice: getpriority(which, 0)))
            }
        }
        let before = await worker.perform { shared.all.count }
        #expect(before == 50, "perform ran before the jobs given earlier")
        let seen = shared.all
        #expect(seen.map(\.job) == Array(0..<50))
        #expect(seen.allSatisfy { $0.name == "test-worker" })
        #expect(seen.allSatisfy { $0.nice == min(19, callerNice + 7) })
        // Only the worker's thread is lowered, not the caller's (the process's other threads).
        #expect(getpriority(which, 0) == callerNice)
    }

    /// `schedule` queues its job at the call, in order with `submit`'s, and its task ends with the result — awaited
    /// before the job ran or after.
    @Test func schedule_queuesAtTheCall_andItsTaskEndsWithTheResult() async {
        let worker = WorkerThread(name: "test-worker-3", niceness: 1)
        let order = Mutex<[Int]>([])
        let gate = DispatchSemaphore(value: 0)
        worker.submit { gate.wait() }
        var tasks: [Task<Int, Never>] = []
        for job in 0..<20 {
            if job % 2 == 0 {
                tasks.append(
                    worker.schedule {
                        order.withLock { $0.append(job) }
                        return job * job
                    }
                )
            } else {
                worker.submit { order.withLock { $0.append(job) } }
            }
        }
        // Awaited while the jobs are still held back, and then after they ran.
        let early = tasks[0]
        let waiting = Task { await early.value }
        try? await Task.sleep(for: .milliseconds(20))
        #expect(order.withLock { $0 }.isEmpty)
        gate.signal()
        #expect(await waiting.value == 0)
        var results: [Int] = []
        for task in tasks { results.append(await task.value) }
        #expect(results == stride(from: 0, to: 20, by: 2).map { $0 * $0 })
        #expect(order.withLock { $0 } == Array(0..<20))
        #expect(await worker.schedule { 7 }.value == 7)
    }

    @Test func perform_returnsTheResult_andThrowsTheJobsError() async throws {
        let worker = WorkerThread(name: "test-worker-2", niceness: 1)
        let value = try await worker.perform { () throws -> Int in 6 * 7 }
        #expect(value == 42)
        await #expect(throws: Failed(job: 3)) {
            try await worker.perform { () throws -> Int in throw Failed(job: 3) }
        }
        // The thread goes on after a failed job.
        #expect(await worker.perform { WorkerThreadTests.threadName() } == "test-worker-2")
    }

    /// Something that records the thread it was freed on.
    final class Freed: Sendable {
        let log: Seen.Log
        let job: Int

        init(_ job: Int, log: Seen.Log) {
            self.job = job
            self.log = log
        }

        deinit { log.append(Seen(job: job, name: WorkerThreadTests.threadName(), nice: 0)) }
    }

    /// A value handed over with its last reference is freed on the worker's thread, not the caller's; the
    /// worker's earlier jobs run first.
    @Test func release_freesTheValueOnTheWorkersThread() async {
        let worker = WorkerThread(name: "test-worker-3", niceness: 1)
        let log = Seen.Log()
        worker.submit { usleep(20_000) }
        var batch = (0..<8).map { Freed($0, log: log) }
        worker.release(consume batch)
        batch = []
        #expect(log.all.isEmpty, "freed before the worker's earlier job ended")
        await worker.perform {}
        #expect(log.all.map(\.job) == Array(0..<8))
        #expect(log.all.allSatisfy { $0.name == "test-worker-3" })
    }
}
