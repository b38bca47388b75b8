import ArenaAdapters
import ArenaCore
import Foundation
import Shared

/// The rebalance journal: `rebalances.jsonl` beside the traders' journal directories, one JSON line per
/// rebalance, appended and fsynced before any capital moves. After a crash the manager re-applies every entry;
/// the ledger and the manager state each remember the last rebalance they applied, so nothing moves twice.
package struct RebalanceLog: Sendable {
    let path: String

    static let fileName = "rebalances.jsonl"

    init(journalDirectory: String) {
        path = (journalDirectory as NSString).appendingPathComponent(Self.fileName)
    }

    func append(_ rebalance: RebalancesDocument.Rebalance) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var line = try SortedJSONEncoder().encodeEscapingSlashes(rebalance)
        line.append(0x0A)
        try AtomicFile.appendAndSync(line, to: path)
    }

    /// Every entry, oldest first. A torn last line (a crash mid-append: nothing was applied for it) is ignored;
    /// any other line that does not decode is an error.
    func entries() throws -> [RebalancesDocument.Rebalance] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        let decoder = JSONDecoder()
        var entries: [RebalancesDocument.Rebalance] = []
        for (index, line) in lines.enumerated() {
            do {
                entries.append(try decoder.decode(RebalancesDocument.Rebalance.self, from: Data(line)))
            } catch {
                let isTornTail = index == lines.count - 1 && data.last != 0x0A
                if isTornTail { break }
                throw RebalanceLogError(description: "\(path) line \(index + 1) does not decode: \(error)")
            }
        }
        return entries
    }
}

package struct RebalanceLogError: Error, CustomStringConvertible {
    package let description: String
}
