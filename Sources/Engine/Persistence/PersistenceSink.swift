import Foundation

/// What the manager hands to the optional stores (PostgreSQL, Redis) after a cycle and after each snapshot
/// export. Both calls return at once: a store queues the work and does it on its own task, so a slow or
/// unreachable database never delays a cycle.
protocol PersistenceSink: Sendable {
    func cycleRecorded(_ record: CycleRecord)
    func snapshotPublished(_ publication: SnapshotPublication)
}

/// One published snapshot generation and the live numbers behind it.
struct SnapshotPublication: Sendable {
    struct TraderLive: Sendable {
        var id: String
        var exchangeProvider: String
        var account: TraderAccount
    }

    var generation: Int
    /// Engine clock time of the export (Unix ms).
    var now: Int64
    /// The generation's files by name (`trades.json`, …).
    var files: [String: Data]
    var traders: [TraderLive]
    var prices: [String: Double]
}
