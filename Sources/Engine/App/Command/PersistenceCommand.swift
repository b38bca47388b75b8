import ArenaAdapters
import ArgumentParser
import Foundation
import Logging
import Shared

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
