import ArenaCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Alerts to `monitoring.alert_webhook` as a JSON POST, with retries, and de-duplicated per alert key: the same
/// key is sent at most once per `minimumInterval`. Delivery runs beside the caller (a trading cycle never waits
/// for a webhook). Every alert is also logged and counted.
package actor WebhookAlertSink: AlertSink {
    package let url: String
    package let httpClient: HTTPClient
    package let minimumInterval: Duration
    package let retries: Int
    package let logger: Logger
    package let metrics: EngineMetrics?
    private let clock: any ArenaClock
    private var lastSent: [String: Int64] = [:]
    private var deliveries: [Int: Task<Void, Never>] = [:]
    private var nextDelivery = 0
    package private(set) var suppressed = 0

    package init(
        url: String,
        httpClient: HTTPClient,
        minimumInterval: Duration = .seconds(900),
        retries: Int = 3,
        clock: any ArenaClock = WallClock(),
        metrics: EngineMetrics?,
        logger: Logger
    ) {
        self.url = url
        self.httpClient = httpClient
        self.minimumInterval = minimumInterval
        self.retries = retries
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    package func raise(key: String, message: String) async {
        logger.warning("alert", metadata: ["alert": "\(key)", "message": "\(message)"])
        metrics?.recordAlert(key: key)
        let now = clock.now()
        if let last = lastSent[key], now - last < minimumInterval.milliseconds {
            suppressed += 1
            return
        }
        lastSent[key] = now
        let body: [String: Any] = [
            "alert": key, "kind": String(key.prefix { $0 != ":" }), "message": message, "time_ms": now,
            "source": "arena-engine",
        ]
        let payload = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        nextDelivery += 1
        let id = nextDelivery
        deliveries[id] = Task { [url, httpClient, retries, logger] in
            await Self.deliver(payload, to: url, httpClient: httpClient, retries: retries, logger: logger)
            self.finished(id)
        }
    }

    private func finished(_ id: Int) { deliveries[id] = nil }

    /// Waits for deliveries in flight (shutdown, tests).
    package func drain() async {
        while let task = deliveries.values.first {
            await task.value
        }
    }

    private static func deliver(
        _ payload: Data,
        to url: String,
        httpClient: HTTPClient,
        retries: Int,
        logger: Logger
    )
        async
    {
        for attempt in 0...retries {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: payload))
            do {
                let response = try await httpClient.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 64 * 1024)
                if (200..<300).contains(response.status.code) { return }
                logger.warning(
                    "alert webhook answered \(response.status.code)",
                    metadata: ["attempt": "\(attempt + 1)"]
                )
            } catch {
                logger.warning(
                    "alert webhook unreachable",
                    metadata: ["attempt": "\(attempt + 1)", "error": "\(BoundedHTTP.describe(error))"]
                )
            }
            if attempt < retries { try? await Task.sleep(for: .milliseconds(200 << min(attempt, 6))) }
        }
        logger.error("alert webhook failed; the alert is in the log only")
    }
}
