import ArenaCore
import Foundation
import Shared

/// What `engine import` loads into PostgreSQL: a snapshot generation as rows (every document verbatim, and the
/// documents with a table of their own), and a journal cycle by cycle through the same writer as the sink's
/// catch-up. Idempotent: keys come from the inputs, so importing twice leaves the same rows.
package enum PostgresImporter {
    /// A snapshot directory (data directory, one generation, or a flat capture) as rows, and its generation id.
    package static func readSnapshot(_ path: String) throws -> (SnapshotRows, String) {
        guard let generation = SnapshotReader(root: path).resolve() else {
            throw ImportError(description: "\(path): no snapshot documents here (expected current/ or *.json)")
        }
        let names = (try FileManager.default.contentsOfDirectory(atPath: generation.directory)).filter {
            $0.hasSuffix(".json")
        }
        var files: [String: Data] = [:]
        for name in names {
            files[name] = FileManager.default.contents(
                atPath: (generation.directory as NSString).appendingPathComponent(name)
            )
        }
        var rows = SnapshotRows()
        try rows.add(
            files: files,
            generation: generation.id,
            at: UTCTime.milliseconds(generation.publishedAt)
        )
        return (rows, generation.id)
    }

    /// Every cycle of every trader in the journal, `batchSize` cycles per transaction (`postgres.batch_size`, as the
    /// engine's catch-up does).
    package static func importJournal(
        _ journal: JournalDirectory,
        into database: PostgresDatabase,
        batchSize: Int
    ) async throws -> Int {
        var total = 0
        for trader in journal.traders() {
            total += try await CycleRows.writeJournal(
                journal,
                trader: trader,
                after: 0,
                batchSize: batchSize,
                to: database,
                decodesInParallel: true,
                undecodable: { throw ImportError(description: "\($0)") }
            )
        }
        return total
    }

    package struct ImportError: Error, CustomStringConvertible {
        package let description: String
    }
}
