import ArenaAdapters
import ArenaCore
import ArgumentParser
import Foundation
import Logging
import Shared

/// `engine migrate`: applies the database migrations not yet applied, each in its own transaction.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the PostgreSQL schema migrations (postgres.dsn)."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        let database = try PersistenceCommand.database(configuration, command: "migrate")
        do {
            let (applied, version) = try await database.withRunning { database in
                let applied = try await Migrations.apply(database)
                return (applied, try await Migrations.currentVersion(database))
            }
            if applied.isEmpty {
                print("schema is current (version \(version)) on \(database.displayName)")
            } else {
                for number in applied {
                    let name = Migrations.all.first { $0.version == number }?.name ?? ""
                    print("applied \(number): \(name)")
                }
                print("schema at version \(version) on \(database.displayName)")
            }
        } catch {
            PersistenceCommand.fail("migrate", error, database: database)
        }
    }
}

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
                (snapshotRows, generationID) = try Self.readSnapshot(snapshot)
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
                    let cycles = try await Self.importJournal(
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

    static func readSnapshot(_ path: String) throws -> (SnapshotRows, String) {
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
            at: Int64(generation.publishedAt.timeIntervalSince1970 * 1000)
        )
        return (rows, generation.id)
    }

    /// Every cycle of every trader in the journal, `batchSize` cycles per transaction (`postgres.batch_size`, as the
    /// engine's catch-up does).
    static func importJournal(
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
                undecodable: { throw ImportError(description: "\($0)") }
            )
        }
        return total
    }

    struct ImportError: Error, CustomStringConvertible {
        let description: String
    }
}

/// What `migrate` and `import` share: the database from the configuration, row counts, one-line failures.
enum PersistenceCommand {
    static let tables = [
        "traders", "trader_versions", "decision_cycles", "llm_conversations", "llm_attempts", "risk_verdicts",
        "orders", "fills", "account_snapshots", "trader_positions", "trades", "performance_snapshots", "assets",
        "indicators", "api_documents",
    ]

    static func database(_ configuration: ArenaConfiguration, command: String) throws -> PostgresDatabase {
        guard configuration.postgres.isEnabled else {
            FileHandle.standardError.write(
                Data("engine \(command): postgres.dsn is empty (set ARENA_POSTGRES_DSN or postgres.dsn)\n".utf8)
            )
            throw ExitCode(1)
        }
        var logger = Logger(label: "engine.\(command)")
        logger.logLevel = .warning
        do {
            return try PostgresDatabase(
                dsn: configuration.postgres.dsn.revealed,
                poolSize: 2,
                connectTimeout: configuration.postgres.connectTimeout,
                operationTimeout: max(configuration.postgres.queryTimeout, .seconds(120)),
                slowQueryThreshold: .seconds(3600),
                logger: logger
            )
        } catch {
            FileHandle.standardError.write(Data("engine \(command): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func rowCounts(_ database: PostgresDatabase) async throws -> [(String, Int)] {
        var counts: [(String, Int)] = []
        for table in tables {
            let rows = try await database.query("count", PostgresQueryText.count(table))
            counts.append((table, Int(try rows.first?.decode(Int64.self) ?? 0)))
        }
        return counts
    }

    static func fail(_ command: String, _ error: any Error, database: PostgresDatabase) -> Never {
        let text = PostgresDatabase.describe(error)
        FileHandle.standardError.write(Data("engine \(command): \(database.displayName): \(text)\n".utf8))
        Foundation.exit(1)
    }
}
