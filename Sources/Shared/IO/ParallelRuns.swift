import Dispatch
import Foundation
import Synchronization

/// Independent work over a range of items, split into contiguous runs spread over the machine's cores (a
/// journal's lines decoded for a replay). Results come back in item order, as one loop would give them.
package enum ParallelRuns {
    /// `body` over runs of `0..<count` (each at least `minimumPerRun` items), concatenated in order. When runs
    /// throw, the error of the earliest run is thrown — the error one loop over the items would have met first,
    /// when `body` stops at its first failing item.
    package static func map<U: Sendable, Failure: Error>(
        count: Int,
        minimumPerRun: Int = 64,
        _ body: @Sendable (Range<Int>) throws(Failure) -> [U]
    ) throws(Failure) -> [U] {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        // A few runs per core, so a core slowed by others does not hold the rest back.
        let runs = max(1, min(cores * 4, count / max(1, minimumPerRun)))
        guard runs > 1, cores > 1 else { return try body(0..<count) }
        let results = Mutex<[Result<[U], Failure>?]>(Array(repeating: nil, count: runs))
        DispatchQueue.concurrentPerform(iterations: runs) { run in
            let range = (count * run / runs)..<(count * (run + 1) / runs)
            let result: Result<[U], Failure>
            do throws(Failure) {
                result = .success(try body(range))
            } catch {
                result = .failure(error)
            }
            results.withLock { $0[run] = result }
        }
        var all: [U] = []
        all.reserveCapacity(count)
        for result in results.withLock({ $0 }) {
            guard let result else { continue }
            all += try result.get()
        }
        return all
    }
}
