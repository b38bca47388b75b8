import Synchronization

/// Bodies of filtered responses (`?limit=`, `?lastHourlyMarker=`) for one generation, built on first use.
/// Bounded: when full it is cleared, which costs a rebuild, never a wrong answer.
final class QueryCache: Sendable {
    private let entries: Mutex<[String: PreparedDocument]>
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        self.entries = Mutex([:])
    }

    func document(for key: String, build: () throws -> PreparedDocument) rethrows -> PreparedDocument {
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let built = try build()
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = built
        }
        return built
    }
}
