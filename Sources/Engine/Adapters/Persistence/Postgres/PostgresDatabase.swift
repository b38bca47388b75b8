import ArenaCore
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Shared

/// The engine's PostgreSQL connection: a postgres-nio pool built from `postgres.dsn`, with every operation under a
/// timeout (a database that does not answer must never hold a caller) and round trips timed for `/metrics`.
/// `client` runs as a `Service` beside the engine; commands use `withRunning`.
package final class PostgresDatabase: Sendable {
    package let client: PostgresClient
    package let logger: Logger
    package let operationTimeout: Duration
    package let slowQueryThreshold: Duration
    package let metrics: EngineMetrics?
    /// The DSN with the password masked, for messages.
    package let displayName: String
    private let dsnText: String
    private let connectTimeout: Duration

    package struct DSNError: Error, CustomStringConvertible {
        package let description: String
    }

    package init(
        dsn: String,
        poolSize: Int,
        connectTimeout: Duration = .seconds(5),
        operationTimeout: Duration = .seconds(30),
        slowQueryThreshold: Duration = .milliseconds(500),
        metrics: EngineMetrics? = nil,
        logger: Logger
    ) throws {
        var configuration = try Self.configuration(dsn: dsn)
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = connectTimeout
        configuration.options.keepAliveBehavior = nil
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.operationTimeout = operationTimeout
        self.slowQueryThreshold = slowQueryThreshold
        self.metrics = metrics
        self.displayName = Self.masked(dsn)
        self.dsnText = dsn
        self.connectTimeout = connectTimeout
    }

    /// `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`. Loopback and an explicit
    /// `sslmode=disable` connect in the clear; anything else asks for TLS when the server offers it.
    package struct DSN {
        package let host: String
        package let port: Int
        package let user: String
        package let password: String?
        package let database: String?
        package let mode: String

        package init(_ dsn: String) throws {
            guard let url = URLComponents(string: dsn), ["postgres", "postgresql"].contains(url.scheme ?? ""),
                let host = url.host, !host.isEmpty
            else {
                throw DSNError(description: "postgres.dsn: expected postgres://user:password@host:port/database")
            }
            self.host = host
            port = url.port ?? 5432
            user = url.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
            password = url.password.flatMap { $0.removingPercentEncoding }
            let name = String(url.path.drop { $0 == "/" })
            database = name.isEmpty ? nil : name
            mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        }

        package var requiresTLS: Bool { ["require", "verify-ca", "verify-full"].contains(mode) }

        package var clientTLS: PostgresClient.Configuration.TLS {
            mode == "disable"
                ? .disable : requiresTLS ? .require(.makeClientConfiguration()) : .prefer(.makeClientConfiguration())
        }

        package func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
            if mode == "disable" { return .disable }
            let context = try NIOSSLContext(configuration: .makeClientConfiguration())
            return requiresTLS ? .require(context) : .prefer(context)
        }
    }

    package static func configuration(dsn: String) throws -> PostgresClient.Configuration {
        let dsn = try DSN(dsn)
        return PostgresClient.Configuration(
            host: dsn.host,
            port: dsn.port,
            username: dsn.user,
            password: dsn.password,
            database: dsn.database,
            tls: dsn.clientTLS
        )
    }

    /// One connection, opened and closed, within the connect timeout: a command learns at once and in plain words
    /// that the server is not there (the pool would retry for a minute and then report a tripped breaker).
    package func probe() async throws {
        let dsn = try DSN(dsnText)
        var configuration = PostgresConnection.Configuration(
            host: dsn.host,
            port: dsn.port,
            username: dsn.user,
            password: dsn.password,
            database: dsn.database,
            tls: try dsn.connectionTLS()
        )
        configuration.options.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw Unavailable(description: Self.describe(error))
        }
    }

    package struct Unavailable: Error, CustomStringConvertible {
        package let description: String
    }

    /// An error in words an operator can act on, without the DSN's password: the server's own message and SQLSTATE,
    /// or what went wrong with the connection.
    package static func describe(_ error: any Error) -> String {
        switch error {
        case let error as Unavailable:
            return error.description
        case let error as PSQLError:
            if let info = error.serverInfo, let message = info[.message] {
                return "server says: \(message)" + (info[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            if let underlying = error.underlying { return "\(error.code): \(describe(underlying))" }
            return "\(error.code)"
        case let error as NIOConnectionError:
            let reasons = error.connectionErrors.map { "\($0.target): \($0.error)" }
            return reasons.isEmpty ? "cannot connect" : "cannot connect (\(reasons.joined(separator: "; ")))"
        default:
            return String(describing: error).replacingOccurrences(of: "\n", with: " ")
        }
    }

    /// The DSN for logs: user, host, port and database; never the password.
    package static func masked(_ dsn: String) -> String {
        guard var url = URLComponents(string: dsn) else { return "postgres://?" }
        if url.password != nil { url.password = "***" }
        url.query = nil
        return url.string ?? "postgres://?"
    }

    /// Runs `body` with the pool running, then stops it: for commands (`migrate`, `import`) and tests. A server
    /// that is not there fails at once (`probe`).
    package func withRunning<T: Sendable>(_ body: @Sendable (PostgresDatabase) async throws -> T) async throws -> T {
        try await probe()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(self)
        }
    }

    /// `body` on one pooled connection inside a transaction, under the operation timeout; its time is recorded.
    package func transaction<T: Sendable>(
        _ label: String,
        _ body: @Sendable @escaping (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await timed(label) {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await body(connection)
            }
        }
    }

    /// One statement (rows collected), under the timeout.
    @discardableResult
    package func query(_ label: String, _ query: PostgresQuery) async throws -> [PostgresRow] {
        try await timed(label) {
            var rows: [PostgresRow] = []
            for try await row in try await self.client.query(query, logger: self.logger) { rows.append(row) }
            return rows
        }
    }

    private func timed<T: Sendable>(_ label: String, _ body: @Sendable @escaping () async throws -> T) async throws -> T
    {
        let started = ContinuousClock.now
        do {
            let value = try await withDeadline(operationTimeout, body)
            let elapsed = ContinuousClock.now - started
            metrics?.recordPersistence(store: "postgres", operation: label, duration: elapsed, failed: false)
            if elapsed > slowQueryThreshold {
                logger.warning(
                    "slow PostgreSQL operation",
                    metadata: [
                        "operation": "\(label)",
                        "ms":
                            "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
                    ]
                )
            }
            return value
        } catch {
            metrics?.recordPersistence(
                store: "postgres",
                operation: label,
                duration: ContinuousClock.now - started,
                failed: true
            )
            throw error
        }
    }
}

/// `body`, or `TimedOut` once `limit` has passed (the body is cancelled).
package struct TimedOut: Error, CustomStringConvertible {
    package let limit: Duration
    package var description: String { "no answer within \(limit)" }
}

package func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ body: @Sendable @escaping () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(limit: limit)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}

/// Statements built from names the code owns (never from input).
package enum PostgresQueryText {
    package static func count(_ table: String) -> PostgresQuery {
        precondition(table.allSatisfy { $0.isLetter || $0 == "_" }, "table name")
        return PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM \(table)")
    }
}
