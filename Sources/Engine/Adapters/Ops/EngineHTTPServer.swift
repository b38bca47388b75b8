import ArenaCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// When the manager loop last completed a tick (monotonic), for `/healthz` and the systemd watchdog.
package final class Heartbeat: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    package init() {}

    package func beat() { last.withLock { $0 = .now } }

    /// Time since the last tick; nil before the first.
    package var age: Duration? { last.withLock { $0.map { ContinuousClock.now - $0 } } }
}

/// The engine's own small HTTP server (default loopback): `/metrics` (Prometheus text) and `/healthz`
/// (200 while the manager loop ticks, 503 before the first tick or once it has stalled). It never stops
/// trading: a port that cannot be bound is logged and the engine runs without it.
package struct EngineHTTPServer: Service {
    package let host: String
    package let port: Int
    package let metrics: EngineMetrics
    package let heartbeat: Heartbeat
    /// `/healthz` fails when the last tick is older than this.
    package let stallAfter: Duration
    package let logger: Logger
    package var onServerRunning: @Sendable (Int) async -> Void = { _ in }

    package func makeApplication() -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: metrics.exposition())
            )
        }
        router.get("/healthz") { _, _ -> Response in
            let age = heartbeat.age
            let healthy = age.map { $0 < stallAfter } ?? false
            let state = age == nil ? "starting" : (healthy ? "ok" : "stalled")
            let ageField =
                age.map { String($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) }
                ?? "null"
            return Response(
                status: healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"\#(state)","last_tick_age_ms":\#(ageField)}"#))
            )
        }
        let announce = onServerRunning
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await announce(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    package func run() async throws {
        do {
            try await makeApplication().run()
        } catch {
            logger.error(
                "metrics server unavailable; trading continues without it",
                metadata: ["address": "\(host):\(port)", "error": "\(error)"]
            )
            try? await gracefulShutdown()
        }
    }

    package init(
        host: String,
        port: Int,
        metrics: EngineMetrics,
        heartbeat: Heartbeat,
        stallAfter: Duration,
        logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.stallAfter = stallAfter
        self.logger = logger
        self.onServerRunning = onServerRunning
    }
}
