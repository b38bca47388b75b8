import Synchronization

/// Bodies of filtered responses (`?limit=`, `?lastHourlyMarker=`) for one generation, built on first use.
/// Bounded: when full, the oldest entry makes room (one rebuild later, never a wrong answer, and never the whole
/// cache at once, so a scan of many keys cannot turn every request into a rebuild).
final class QueryCache: Sendable {
    private struct Entries {
        var bodies: [String: PreparedDocument] = [:]
        var order: [String] = []
    }

    private let entries: Mutex<Entries>
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        self.entries = Mutex(Entries())
    }

    var count: Int { entries.withLock { $0.bodies.count } }

    func document(for key: String, build: () throws -> PreparedDocument) rethrows -> PreparedDocument {
        if let hit = entries.withLock({ $0.bodies[key] }) { return hit }
        let built = try build()
        entries.withLock { entries in
            guard entries.bodies[key] == nil else { return }
            if entries.bodies.count >= limit, !entries.order.isEmpty {
                entries.bodies[entries.order.removeFirst()] = nil
            }
            entries.bodies[key] = built
            entries.order.append(key)
        }
        return built
    }
}
