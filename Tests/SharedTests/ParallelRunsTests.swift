import Foundation
import Synchronization
import Testing

@testable import Shared

@Suite("Work split into parallel runs")
struct ParallelRunsTests {
    struct Bad: Error, Equatable { let index: Int }

    @Test func results_comeBackInItemOrder_everyItemOnce() throws {
        for count in [0, 1, 63, 64, 129, 1000, 4097] {
            let calls = Mutex(0)
            let result = ParallelRuns.map(count: count) { range in
                calls.withLock { $0 += 1 }
                return range.map { $0 * 3 }
            }
            #expect(result == (0..<count).map { $0 * 3 }, "\(count) items")
            // Split when there is enough work on a machine with several cores, one run otherwise.
            let cores = ProcessInfo.processInfo.activeProcessorCount
            #expect(calls.withLock { $0 } == (cores > 1 && count >= 128 ? min(cores * 4, count / 64) : 1))
        }
    }

    /// The error thrown is the one a single loop would have met first, whichever run finished first.
    @Test func theEarliestFailingItem_isReported() {
        for bad in [[5], [700, 90], [999, 998], [0, 999]] {
            #expect(throws: Bad(index: bad.min()!)) {
                try ParallelRuns.map(count: 1000) { range in
                    try range.map { index in
                        if bad.contains(index) { throw Bad(index: index) }
                        return index
                    }
                }
            }
        }
    }
}
