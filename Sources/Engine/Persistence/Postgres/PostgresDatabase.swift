import Foundation
import Logging
import PostgresNIO
import Shared

/// The engine's PostgreSQL connection: a postgres-nio pool built from `postgres.dsn`, with every operation under a
/// timeout (a database that does not answer must never hold a caller) and round trips timed for `/metrics`.
/// `client` runs as a `Service` beside the engine; commands use `withRunning`.
final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    let operationTimeout: Duration
    let slowQueryThreshold: Duration
    let metrics: EngineMetrics?
    /// The DSN with the password masked, for messages.
    let displayName: String

    struct DSNError: Error, CustomStringConvertible {
        let description: String
    }

    init(
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
    }

    /// `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`. Loopback and an explicit
    /// `sslmode=disable` connect in the clear; anything else asks for TLS when the server offers it.
    static func configuration(dsn: String) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: dsn), ["postgres", "postgresql"].contains(url.scheme ?? ""),
            let host = url.host, !host.isEmpty
        else {
            throw DSNError(description: "postgres.dsn: expected postgres://user:password@host:port/database")
        }
        let user = url.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = url.password.flatMap { $0.removingPercentEncoding }
        let database = String(url.path.drop { $0 == "/" })
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: host,
            port: url.port ?? 5432,
            username: user,
            password: password,
            database: database.isEmpty ? nil : database,
            tls: tls
        )
    }

    /// The DSN for logs: user, host, port and database; never the password.
    static func masked(_ dsn: String) -> String {
        guard var url = URLComponents(string: dsn) else { return "postgres://?" }
        if url.password != nil { url.password = "***" }
        url.query = nil
        return url.string ?? "postgres://?"
    }

    /// Runs `body` with the pool running, then stops it: for commands (`migrate`, `import`) and tests.
    func withRunning<T: Sendable>(_ body: @Sendable (PostgresDatabase) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(self)
        }
    }

    /// `body` on one pooled connection inside a transaction, under the operation timeout; its time is recorded.
    func transaction<T: Sendable>(
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
    func query(_ label: String, _ query: PostgresQuery) async throws -> [PostgresRow] {
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
struct TimedOut: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit)" }
}

func withDeadline<T: Sendable>(_ limit: Duration, _ body: @Sendable @escaping () async throws -> T) async throws -> T {
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
enum PostgresQueryText {
    static func count(_ table: String) -> PostgresQuery {
        precondition(table.allSatisfy { $0.isLetter || $0 == "_" }, "table name")
        return PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM \(table)")
    }
}
