import ArenaAdapters
import ArenaCore
import ArgumentParser
import Foundation
import Logging
import Shared

/// `engine import`: loads a snapshot generation and/or a journal into PostgreSQL. Idempotent: importing the same
/// input twice leaves the same rows. With `--snapshot`, every document is stored verbatim and the trades, account
/// totals, leaderboard, since-inception values and prices as rows; with `--journal`, every cycle becomes its
/// decision, conversation, attempts, verdicts, orders, fills, account and positions rows.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Rebuild PostgreSQL from a snapshot generation and/or a journal (idempotent)."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "A snapshot: the data directory, a generation directory, or a flat capture of the nine documents.")
    var snapshot: String?

    @Option(help: "A journal directory (one sub-directory per trader).")
    var journal: String?

    func validate() throws {
        if snapshot == nil && journal == nil {
            throw ValidationError("give --snapshot DIR, --journal DIR, or both")
        }
    }

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        // Read the inputs before touching the database: a bad path fails with nothing written.
        var snapshotRows: SnapshotRows?
        var generationID = ""
        if let snapshot {
            do {
                (snapshotRows, generationID) = try PostgresImporter.readSnapshot(snapshot)
            } catch {
                FileHandle.standardError.write(Data("engine import: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        var journalDirectory: JournalDirectory?
        if let journal {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: journal, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                FileHandle.standardError.write(Data("engine import: \(journal): no such directory\n".utf8))
                throw ExitCode(1)
            }
            journalDirectory = JournalDirectory(root: journal)
        }
        let database = try PersistenceCommand.database(configuration, command: "import")
        let batchSize = configuration.postgres.batchSize
        do {
            let counts = try await database.withRunning {
                [snapshotRows, generationID, journalDirectory, batchSize] database in
                try await Migrations.apply(database)
                if let snapshotRows {
                    try await snapshotRows.write(to: database)
                    let read = snapshotRows.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    print("snapshot \(generationID): read \(read.joined(separator: ", "))")
                }
                if let journalDirectory {
                    let cycles = try await PostgresImporter.importJournal(
                        journalDirectory,
                        into: database,
                        batchSize: batchSize
                    )
                    print("journal: read \(cycles) cycles of \(journalDirectory.traders().count) traders")
                }
                return try await PersistenceCommand.rowCounts(database)
            }
            print("rows now in \(database.displayName):")
            for (table, count) in counts {
                print("  \(table.padding(toLength: 22, withPad: " ", startingAt: 0)) \(count)")
            }
        } catch {
            PersistenceCommand.fail("import", error, database: database)
        }
    }
}
