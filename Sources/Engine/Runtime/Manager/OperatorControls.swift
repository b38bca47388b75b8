import ArenaCore
import Foundation
import Logging
import Shared

/// What an operator asks the running engine (`engine pause`, `resume`, `halt-entries`, `allow-entries`).
package struct OperatorRequest: Codable, Sendable, Equatable {
    package enum Action: String, Codable, Sendable {
        case pause, resume, flatten
        case haltEntries = "halt_entries"
        case allowEntries = "allow_entries"
    }

    package var action: Action
    package var trader: String?
    /// The OS user who asked.
    package var user: String
    /// Wall clock, Unix ms.
    package var requestedAt: Int64

    package init(action: Action, trader: String? = nil, user: String, requestedAt: Int64) {
        self.action = action
        self.trader = trader
        self.user = user
        self.requestedAt = requestedAt
    }

    enum CodingKeys: String, CodingKey {
        case action, trader, user
        case requestedAt = "requested_at"
    }
}

/// Operator requests reach the running engine as files: each request its own file under
/// `<state directory>/requests/`, written atomically with a unique name (concurrent requests never collide),
/// picked up in name (time) order on the engine's next tick, applied, journaled in `<journal>/operator.jsonl`
/// (who, when, what, the outcome) and removed. A request the engine never picks up (it is not running) stays
/// and applies when it starts.
package enum OperatorControls {
    package static func directory(statePath: String) -> String {
        ((statePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("requests")
    }

    package static func journalPath(journalRoot: String) -> String {
        (journalRoot as NSString).appendingPathComponent("operator.jsonl")
    }

    /// Writes the request; returns its path.
    package static func submit(_ request: OperatorRequest, statePath: String) throws -> String {
        let directory = directory(statePath: statePath)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Named by the wall clock in nanoseconds: requests are applied in the order they were written.
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let name = String(format: "%011ld%09ld-", now.tv_sec, now.tv_nsec) + UUID().uuidString + ".json"
        let path = (directory as NSString).appendingPathComponent(name)
        try AtomicFile.replace(path, with: try SortedJSONEncoder().encode(request))
        return path
    }

    /// The requests waiting, oldest first (temporary files of a write in progress are not requests yet).
    package static func pending(statePath: String) -> [String] {
        let directory = directory(statePath: statePath)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().map {
            (directory as NSString).appendingPathComponent($0)
        }
    }

    /// One line of the operator journal.
    package struct Entry: Codable, Sendable, Equatable {
        package var time: Int64
        package var request: OperatorRequest?
        package var file: String
        package var outcome: String
    }

    /// Applies every waiting request to `store`, journals each (fsynced) before removing its file.
    static func handle(store: ManagerStore, journalRoot: String?, now: Int64, logger: Logger) async {
        guard let statePath = store.path else { return }
        for path in pending(statePath: statePath) {
            let name = (path as NSString).lastPathComponent
            var entry = Entry(time: now, request: nil, file: name, outcome: "refused: not a request")
            if let data = FileManager.default.contents(atPath: path),
                let request = try? JSONDecoder().decode(OperatorRequest.self, from: data)
            {
                entry.request = request
                entry.outcome = store.apply(request, now: now)
            }
            if let journalRoot {
                do {
                    try append(entry, to: journalPath(journalRoot: journalRoot))
                } catch {
                    // Not journaled: the request stays and is tried again next tick (applying it twice is
                    // harmless: every action is idempotent).
                    logger.error("operator request not journaled", metadata: ["file": "\(name)", "error": "\(error)"])
                    continue
                }
            }
            unlink(path)
            logger.notice(
                "operator request",
                metadata: [
                    "action": "\(entry.request?.action.rawValue ?? "?")", "trader": "\(entry.request?.trader ?? "")",
                    "user": "\(entry.request?.user ?? "?")", "outcome": "\(entry.outcome)",
                ]
            )
        }
    }

    private static func append(_ entry: Entry, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        var line = try SortedJSONEncoder().encode(entry)
        line.append(UInt8(ascii: "\n"))
        try AtomicFile.appendAndSync(line, to: path)
    }
}
