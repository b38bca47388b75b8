import ArenaCore
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Shared
import Synchronization

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

/// `body`'s answer, or `TimedOut` once `limit` has passed, or `CancellationError` when the caller is cancelled —
/// whichever comes first. The body is then cancelled but not waited for: a body that does not answer its
/// cancellation (a pool's wait for a connection after its server was killed) is left to end on its own instead of
/// holding its caller — the database writer's loop, and with it the engine's shutdown — for ever.
package func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ body: @Sendable @escaping () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, limit: limit, body: body)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first of the body's answer, the deadline and the caller's cancellation; the others are ignored.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var outcome: Result<T, any Error>?
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())

    func start(
        _ continuation: CheckedContinuation<T, any Error>,
        limit: Duration,
        body: @Sendable @escaping () async throws -> T
    ) {
        // Cancelled before it started: the outcome is already there.
        if let outcome = state.withLock({ state -> Result<T, any Error>? in
            if state.outcome == nil { state.continuation = continuation }
            return state.outcome
        }) {
            continuation.resume(with: outcome)
            return
        }
        let work = Task {
            do {
                finish(.success(try await body()))
            } catch {
                finish(.failure(error))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            if !Task.isCancelled { finish(.failure(TimedOut(limit: limit))) }
        }
        let finished = state.withLock { state in
            state.tasks = [work, timer]
            return state.outcome != nil
        }
        if finished {
            work.cancel()
            timer.cancel()
        }
    }

    func finish(_ outcome: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock {
            state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard state.outcome == nil else { return (nil, []) }
            state.outcome = outcome
            let continuation = state.continuation
            state.continuation = nil
            return (continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: outcome)
    }
}

/// Statements built from names the code owns (never from input).
package enum PostgresQueryText {
    package static func count(_ table: String) -> PostgresQuery {
        precondition(table.allSatisfy { $0.isLetter || $0 == "_" }, "table name")
        return PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM \(table)")
    }
}
