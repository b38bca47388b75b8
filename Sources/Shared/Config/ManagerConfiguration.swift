/// `manager.yaml`: the capital, the traders and how they are monitored.
package struct ManagerConfiguration: Sendable {
    package enum AllocationStrategy: String, Sendable, CaseIterable {
        case `static`
        case performanceBased = "performance_based"
    }

    package struct Monitoring: Sendable {
        package let updateInterval: Duration
        package var alertWebhook: String?
        package let metricsHost: String
        package let metricsPort: Int
    }

    /// The bounds of `performance_based` rebalancing, percent of `total_equity_usd`.
    package struct RebalanceBounds: Sendable, Equatable {
        /// No trader is brought below this share (unless its own losses took it there).
        package var minAllocationPct: Double = 5
        /// No trader is brought above this share.
        package var maxAllocationPct: Double = 50
        /// No trader's capital moves by more than this share in one rebalance.
        package var maxStepPct: Double = 10

        package init(minAllocationPct: Double = 5, maxAllocationPct: Double = 50, maxStepPct: Double = 10) {
            self.minAllocationPct = minAllocationPct
            self.maxAllocationPct = maxAllocationPct
            self.maxStepPct = maxStepPct
        }
    }

    package let totalEquityUSD: Double
    package let reserveEquityPct: Double
    package var allocationStrategy: AllocationStrategy
    package var rebalanceInterval: Duration
    package var rebalanceBounds = RebalanceBounds()
    package var statePath: String
    package let maxConcurrentDecisions: Int
    /// How long in-flight cycles may run on after SIGTERM/SIGINT before they are cancelled (a second signal
    /// cancels them at once).
    package var shutdownGrace: Duration = .seconds(30)
    package var monitoring: Monitoring
    /// Telegram and Discord channels (`notifications`), each with the events it gets.
    package var notifications = Notifications()

    package struct Notifications: Sendable {
        package enum Event: String, Sendable, CaseIterable {
            case alerts, trades
            case dailySummary = "daily_summary"
        }

        package struct Channel: Sendable {
            package enum Kind: String, Sendable { case telegram, discord }
            package let kind: Kind
            /// Telegram's bot token, or Discord's webhook address (it holds the webhook's token).
            package let secret: Secret
            /// Telegram: the chat to write to.
            package let chatID: String?
            /// Telegram's API address (tests point it at a stand-in).
            package let baseURL: String?
            package let events: Set<Event>

            package init(kind: Kind, secret: Secret, chatID: String?, baseURL: String?, events: Set<Event>) {
                self.kind = kind
                self.secret = secret
                self.chatID = chatID
                self.baseURL = baseURL
                self.events = events
            }
        }

        /// Channels whose secret is set (an empty one turns its channel off).
        package var channels: [Channel] = []
        /// The daily summary's time, minutes after 00:00 UTC (engine clock).
        package var dailySummaryMinute = 20 * 60

        package init(channels: [Channel] = [], dailySummaryMinute: Int = 20 * 60) {
            self.channels = channels
            self.dailySummaryMinute = dailySummaryMinute
        }

        static func read(_ section: MappingReader?) -> Notifications {
            guard let section else { return Notifications() }
            var result = Notifications()
            if let text = section.string("daily_summary_at") {
                let parts = text.split(separator: ":").compactMap { Int($0) }
                if parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) {
                    result.dailySummaryMinute = parts[0] * 60 + parts[1]
                } else {
                    section.log.error(
                        section.file,
                        section.keyPath("daily_summary_at"),
                        "expected HH:MM (UTC), got \"\(text)\"",
                        line: section.lineOf("daily_summary_at")
                    )
                }
            }
            func events(_ channel: MappingReader) -> Set<Event> {
                let names = channel.stringList("events") ?? Event.allCases.map(\.rawValue)
                var events: Set<Event> = []
                for name in names {
                    if let event = Event(rawValue: name) {
                        events.insert(event)
                    } else {
                        channel.log.error(
                            channel.file,
                            channel.keyPath("events"),
                            "unknown event \"\(name)\" (alerts, trades, daily_summary)",
                            line: channel.lineOf("events")
                        )
                    }
                }
                return events
            }
            if let telegram = section.mapping("telegram") {
                let token = telegram.secret("bot_token")
                let chat = telegram.string("chat_id").flatMap { $0.isEmpty ? nil : $0 }
                let chosen = events(telegram)
                let base = telegram.string("base_url").flatMap { $0.isEmpty ? nil : $0 }
                if !token.isEmpty {
                    if chat == nil {
                        telegram.log.error(
                            telegram.file,
                            telegram.keyPath("chat_id"),
                            "a Telegram channel with a bot token needs its chat_id",
                            line: telegram.lineOf("chat_id")
                        )
                    }
                    result.channels.append(
                        Channel(kind: .telegram, secret: token, chatID: chat, baseURL: base, events: chosen)
                    )
                }
                telegram.finish()
            }
            if let discord = section.mapping("discord") {
                let url = discord.secret("webhook_url")
                let chosen = events(discord)
                if !url.isEmpty {
                    result.channels.append(
                        Channel(kind: .discord, secret: url, chatID: nil, baseURL: nil, events: chosen)
                    )
                }
                discord.finish()
            }
            section.finish()
            return result
        }
    }
    package var traders: [TraderConfiguration]

    static func read(from reader: MappingReader) -> ManagerConfiguration {
        let manager = reader.mapping("manager", required: true)
        let totalEquity = manager?.double("total_equity_usd", required: true, exclusiveMinimum: 0) ?? 0
        let reserve = manager?.double("reserve_equity_pct", default: 0, range: 0...100) ?? 0
        let strategy = manager?.choice("allocation_strategy", default: AllocationStrategy.static) ?? .static
        let rebalance = manager?.duration("rebalance_interval", default: .seconds(3600), minimum: .seconds(60))
        let statePath = manager?.string("state_path", default: "state/manager.json") ?? "state/manager.json"
        let concurrency = manager?.int("max_concurrent_decisions", default: 4, range: 1...256) ?? 4
        let grace = manager?.duration("shutdown_grace", default: .seconds(30), minimum: .zero) ?? .seconds(30)
        let bounds = RebalanceBounds(
            minAllocationPct: manager?.double("min_allocation_pct", default: 5, range: 0...100) ?? 5,
            maxAllocationPct: manager?.double("max_allocation_pct", default: 50, range: 0...100) ?? 50,
            maxStepPct: manager?.double("max_rebalance_step_pct", default: 10, range: 0...100) ?? 10
        )
        manager?.finish()

        let monitoringSection = reader.mapping("monitoring")
        let monitoring = Monitoring(
            updateInterval: monitoringSection?.duration("update_interval", default: .seconds(15), minimum: .seconds(1))
                ?? .seconds(15),
            alertWebhook: monitoringSection?.string("alert_webhook").flatMap { $0.isEmpty ? nil : $0 },
            metricsHost: monitoringSection?.string("metrics_host", default: "127.0.0.1") ?? "127.0.0.1",
            metricsPort: monitoringSection?.int("metrics_port", default: 9464, range: 0...65535) ?? 9464
        )
        monitoringSection?.finish()
        let notifications = Notifications.read(reader.mapping("notifications"))

        let traders = reader.sequenceOfMappings("traders", required: true).compactMap(TraderConfiguration.read)
        reader.finish()
        return ManagerConfiguration(
            totalEquityUSD: totalEquity,
            reserveEquityPct: reserve,
            allocationStrategy: strategy,
            rebalanceInterval: rebalance ?? .seconds(3600),
            rebalanceBounds: bounds,
            statePath: statePath,
            maxConcurrentDecisions: concurrency,
            shutdownGrace: grace,
            monitoring: monitoring,
            notifications: notifications,
            traders: traders
        )
    }
}
