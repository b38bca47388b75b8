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
