import ArenaCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Shared

/// Messages to Telegram (Bot API `sendMessage`) and Discord (a webhook), each channel getting the events it was
/// configured for. Sending never blocks the caller: each channel delivers its messages one after another on a task
/// of its own, honours a 429's `retry_after`, retries a failure a bounded number of times, and counts what it
/// delivered, dropped and failed (`engine_notifications_total`). The text is escaped for each channel's format;
/// the secrets (Telegram's token is in its URL, Discord's in the webhook address) never reach a log or an error.
package actor Notifier {
    package typealias Event = ManagerConfiguration.Notifications.Event

    package struct Channel: Sendable {
        package let configuration: ManagerConfiguration.Notifications.Channel
        package var name: String { configuration.kind.rawValue }
    }

    package let channels: [Channel]
    private let httpClient: HTTPClient
    private let metrics: EngineMetrics?
    private let logger: Logger
    private let retries: Int
    private let backoff: Duration
    private let maxWait: Duration
    /// Messages waiting per channel, and the task delivering them.
    private var queues: [String: [String]] = [:]
    private var workers: [String: Task<Void, Never>] = [:]
    /// Messages dropped because a channel's queue was full (it cannot keep up, or is down).
    package private(set) var dropped = 0
    package private(set) var delivered: [String: Int] = [:]
    package private(set) var failed: [String: Int] = [:]
    static let queueLimit = 200

    package init(
        configuration: ManagerConfiguration.Notifications,
        httpClient: HTTPClient,
        metrics: EngineMetrics?,
        logger: Logger,
        retries: Int = 3,
        backoff: Duration = .milliseconds(500),
        maxWait: Duration = .seconds(60)
    ) {
        self.channels = configuration.channels.map(Channel.init)
        self.httpClient = httpClient
        self.metrics = metrics
        self.logger = logger
        self.retries = retries
        self.backoff = backoff
        self.maxWait = maxWait
    }

    /// Queues `text` (plain text: each channel escapes it) for every channel that gets `event`.
    package func send(_ event: Event, _ text: String) {
        for channel in channels where channel.configuration.events.contains(event) {
            var queue = queues[channel.name] ?? []
            guard queue.count < Self.queueLimit else {
                dropped += 1
                metrics?.recordNotification(channel: channel.name, outcome: "dropped")
                continue
            }
            queue.append(text)
            queues[channel.name] = queue
            if workers[channel.name] == nil {
                workers[channel.name] = Task { await self.drain(channel) }
            }
        }
    }

    /// Waits until every queued message was delivered or given up (tests, shutdown).
    package func flush() async {
        while let worker = workers.values.first { await worker.value }
    }

    private func next(_ channel: Channel) -> String? {
        guard var queue = queues[channel.name], !queue.isEmpty else {
            workers[channel.name] = nil
            return nil
        }
        let text = queue.removeFirst()
        queues[channel.name] = queue
        return text
    }

    private func drain(_ channel: Channel) async {
        while let text = next(channel) {
            let outcome = await deliver(text, to: channel)
            if outcome {
                delivered[channel.name, default: 0] += 1
            } else {
                failed[channel.name, default: 0] += 1
            }
            metrics?.recordNotification(channel: channel.name, outcome: outcome ? "delivered" : "failed")
        }
    }

    /// One message, retried on a transport error, a 5xx or a 429 (after its `retry_after`, at most `maxWait`).
    private func deliver(_ text: String, to channel: Channel) async -> Bool {
        var attempt = 0
        while true {
            let (status, body) = await post(Self.request(text, for: channel.configuration))
            if (200..<300).contains(status) { return true }
            let retryable = status == 429 || status >= 500 || status == 0
            guard retryable, attempt < retries else {
                // The status only: a body may echo the request, and the request holds the secret.
                if failed[channel.name, default: 0] == 0 {
                    logger.warning(
                        "notification not delivered",
                        metadata: ["channel": "\(channel.name)", "status": "\(status)"]
                    )
                }
                return false
            }
            attempt += 1
            let wait = status == 429 ? Self.retryAfter(body) : backoff * (1 << min(attempt, 5))
            try? await Task.sleep(for: min(wait, maxWait))
        }
    }

    /// The HTTP request of a message: Telegram's `sendMessage` as HTML, or a Discord webhook's `content`.
    static func request(_ text: String, for channel: ManagerConfiguration.Notifications.Channel) -> HTTPClientRequest {
        let url: String
        let payload: [String: Any]
        switch channel.kind {
        case .telegram:
            let base = (channel.baseURL ?? "https://api.telegram.org").trimmingSuffix("/")
            url = "\(base)/bot\(channel.secret.revealed)/sendMessage"
            payload = [
                "chat_id": channel.chatID ?? "", "text": telegramHTML(text), "parse_mode": "HTML",
                "disable_web_page_preview": true,
            ]
        case .discord:
            url = channel.secret.revealed
            // No mentions: a model's text must not ping anybody.
            payload = ["content": discordMarkdown(text), "allowed_mentions": ["parse": [String]()]]
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// Status and body (status 0: no answer).
    private func post(_ request: HTTPClientRequest) async -> (Int, Data) {
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 64 * 1024)
            return (Int(response.status.code), Data(buffer: body))
        } catch {
            return (0, Data())
        }
    }

    /// Telegram's `parameters.retry_after` or Discord's `retry_after` (seconds); a second when absent.
    static func retryAfter(_ body: Data) -> Duration {
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let seconds =
            ((object?["parameters"] as? [String: Any])?["retry_after"] as? NSNumber)?.doubleValue
            ?? (object?["retry_after"] as? NSNumber)?.doubleValue ?? 1
        return .milliseconds(Int64(max(0, seconds) * 1000))
    }

    /// Telegram HTML: `&`, `<` and `>` escaped (the only characters its parser needs escaped).
    static func telegramHTML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Discord markdown: its formatting characters escaped, so a model's text shows as written.
    static func discordMarkdown(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "\\*_~`|>#[]()-".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return String(escaped.prefix(2000))
    }
}

/// Alerts to the notification channels that get `alerts`, besides the sink they already go to.
package struct NotifyingAlertSink: AlertSink {
    package let inner: any AlertSink
    package let notifier: Notifier

    package init(inner: any AlertSink, notifier: Notifier) {
        self.inner = inner
        self.notifier = notifier
    }

    package func raise(key: String, message: String) async {
        await inner.raise(key: key, message: message)
        await notifier.send(.alerts, "⚠️ \(message)")
    }
}
