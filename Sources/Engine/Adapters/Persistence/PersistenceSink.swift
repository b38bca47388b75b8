import ArenaCore
import Foundation

/// What the manager hands to the optional stores (PostgreSQL, Redis) after a cycle and after each snapshot
/// export. Both calls return at once: a store queues the work and does it on its own task, so a slow or
/// unreachable database never delays a cycle.
package protocol PersistenceSink: Sendable {
    func cycleRecorded(_ record: CycleRecord)
    func snapshotPublished(_ publication: SnapshotPublication)
}

/// One published snapshot generation and the live numbers behind it.
package struct SnapshotPublication: Sendable {
    package struct TraderLive: Sendable {
        package var id: String
        package var exchangeProvider: String
        package var account: TraderAccount

        package init(id: String, exchangeProvider: String, account: TraderAccount) {
            self.id = id
            self.exchangeProvider = exchangeProvider
            self.account = account
        }
    }

    package var generation: Int
    /// Engine clock time of the export (Unix ms).
    package var now: Int64
    /// The generation's files by name (`trades.json`, …).
    package var files: [String: Data]
    package var traders: [TraderLive]
    package var prices: [String: Double]

    package init(
        generation: Int,
        now: Int64,
        files: [String: Data],
        traders: [TraderLive],
        prices: [String: Double]
    ) {
        self.generation = generation
        self.now = now
        self.files = files
        self.traders = traders
        self.prices = prices
    }
}
