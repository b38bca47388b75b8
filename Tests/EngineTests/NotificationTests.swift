import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Shared

/// Telegram and Discord against stand-ins speaking their HTTP APIs on loopback: the events each channel gets, the
/// text escaped for each, a 429's `retry_after` honoured, failures bounded and counted, the secrets in no log,
/// and the manager's trade notices.
@Suite("Notifications", .serialized)
struct NotificationTests {
    /// Telegram's `sendMessage` and a Discord webhook; each answers 429 to its first `throttle` messages.
    final class Stand: Sendable {
        struct State {
            var telegram: [Data] = []
            var discord: [Data] = []
            var telegramThrottle = 0
            var discordThrottle = 0
            var attempts = 0
        }
        let state = Mutex(State())

        var telegram: [[String: Any]] { Self.objects(state.withLock { $0.telegram }) }
        var discord: [[String: Any]] { Self.objects(state.withLock { $0.discord }) }

        static func objects(_ bodies: [Data]) -> [[String: Any]] {
            bodies.compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
        }

        func application() -> some ApplicationProtocol {
            let router = Router()
            router.post("/*/sendMessage") { request, _ -> Response in
                let object = Data(buffer: try await request.body.collect(upTo: 1 << 20))
                let throttled = self.state.withLock { state -> Bool in
                    state.attempts += 1
                    if state.telegramThrottle > 0 {
                        state.telegramThrottle -= 1
                        return true
                    }
                    state.telegram.append(object)
                    return false
                }
                if throttled {
                    return Self.json(
                        #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#,
                        .tooManyRequests
                    )
                }
                return Self.json(#"{"ok":true,"result":{}}"#, .ok)
            }
            router.post("/api/webhooks/1/discord-secret") { request, _ -> Response in
                let object = Data(buffer: try await request.body.collect(upTo: 1 << 20))
                let throttled = self.state.withLock { state -> Bool in
                    state.attempts += 1
                    if state.discordThrottle > 0 {
                        state.discordThrottle -= 1
                        return true
                    }
                    state.discord.append(object)
                    return false
                }
                if throttled { return Self.json(#"{"retry_after":0.2,"global":false}"#, .tooManyRequests) }
                return Response(status: .noContent)
            }
            router.post("/alerts") { _, _ -> Response in
                self.state.withLock { $0.attempts += 1 }
                return Response(status: .noContent)
            }
            router.post("/broken/*/sendMessage") { _, _ -> Response in
                self.state.withLock { $0.attempts += 1 }
                return Self.json(#"{"ok":false,"error_code":500}"#, .internalServerError)
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }

        static func json(_ text: String, _ status: HTTPResponse.Status) -> Response {
            Response(
                status: status,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }

    /// Every log line, to check that no secret is in one.
    final class Captured: Sendable {
        let lines = Mutex<[String]>([])
        var logger: Logger {
            Logger(label: "test") { _ in CaptureHandler(captured: self) }
        }
        struct CaptureHandler: LogHandler {
            let captured: Captured
            var logLevel: Logger.Level = .trace
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                captured.lines.withLock { $0.append("\(event.message) \(event.metadata ?? [:])") }
            }
        }
    }

    typealias Channel = ManagerConfiguration.Notifications.Channel

    static func telegram(port: Int, events: Set<Notifier.Event>, path: String = "") -> Channel {
        Channel(
            kind: .telegram,
            secret: Secret("123456:TELEGRAM-SECRET"),
            chatID: "42",
            baseURL: "http://127.0.0.1:\(port)\(path)",
            events: events
        )
    }

    static func discord(port: Int, events: Set<Notifier.Event>) -> Channel {
        Channel(
            kind: .discord,
            secret: Secret("http://127.0.0.1:\(port)/api/webhooks/1/discord-secret"),
            chatID: nil,
            baseURL: nil,
            events: events
        )
    }

    @Test func eachChannelGetsItsEvents_escaped_andA429IsWaitedOut() async throws {
        let stand = Stand()
        stand.state.withLock {
            $0.telegramThrottle = 1
            $0.discordThrottle = 1
        }
        let captured = Captured()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        try await stand.application().test(.live) { client in
            let port = try #require(client.port)
            let notifier = Notifier(
                configuration: .init(channels: [
                    Self.telegram(port: port, events: [.trades]),
                    Self.discord(port: port, events: [.alerts, .trades]),
                ]),
                httpClient: httpClient,
                metrics: nil,
                logger: captured.logger,
                backoff: .milliseconds(10)
            )
            await notifier.send(.trades, "BTC <long> & co @everyone")
            await notifier.send(.alerts, "disk *full* on host_1")
            await notifier.send(.dailySummary, "nobody gets this")
            await notifier.flush()
            // Telegram: the trade only, as HTML, delivered after its 429's retry_after.
            #expect(stand.telegram.count == 1)
            #expect(stand.telegram.first?["text"] as? String == "BTC &lt;long&gt; &amp; co @everyone")
            #expect(stand.telegram.first?["parse_mode"] as? String == "HTML")
            #expect(stand.telegram.first?["chat_id"] as? String == "42")
            // Discord: both, in order, markdown escaped, mentions off.
            #expect(
                stand.discord.compactMap { $0["content"] as? String } == [
                    #"BTC <long> & co @everyone"#.replacingOccurrences(of: ">", with: "\\>"),
                    #"disk \*full\* on host\_1"#,
                ]
            )
            #expect((stand.discord.first?["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [])
            #expect(await notifier.delivered == ["telegram": 1, "discord": 2])
            #expect(stand.state.withLock { $0.attempts } == 5)
        }
        try await httpClient.shutdown()
        let log = captured.lines.withLock { $0 }.joined(separator: "\n")
        #expect(!log.contains("TELEGRAM-SECRET") && !log.contains("discord-secret"))
    }

    @Test func aFailingChannel_givesUpAfterItsRetries_countsIt_andLeaksNoSecret() async throws {
        let stand = Stand()
        let captured = Captured()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        try await stand.application().test(.live) { client in
            let port = try #require(client.port)
            // A Telegram that always answers 500.
            let broken = Self.telegram(port: port, events: [.alerts], path: "/broken")
            let notifier = Notifier(
                configuration: .init(channels: [broken]),
                httpClient: httpClient,
                metrics: nil,
                logger: captured.logger,
                retries: 2,
                backoff: .milliseconds(10)
            )
            await notifier.send(.alerts, "one")
            await notifier.flush()
            // Tried once and retried twice, then given up and counted.
            #expect(stand.state.withLock { $0.attempts } == 3)
            #expect(await notifier.failed == ["telegram": 1])
            #expect(await notifier.delivered.isEmpty)
        }
        try await httpClient.shutdown()
        let log = captured.lines.withLock { $0 }.joined(separator: "\n")
        #expect(log.contains("notification not delivered"))
        #expect(!log.contains("TELEGRAM-SECRET"))
    }

    /// The manager's notices: the first cycle of buy-and-hold opens BTC, and Telegram hears of it.
    @Test func theManagerSendsTheEntriesItFills() async throws {
        let stand = Stand()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        try await stand.application().test(.live) { client in
            let port = try #require(client.port)
            let scratch = try TestPaths.makeScratch("notify")
            var configuration = try EngineFixtures.configuration(scratch: scratch)
            // The summary is due from 00:00 on: the first tick sends it, a later tick of the same day does not.
            configuration.manager.notifications = .init(
                channels: [Self.telegram(port: port, events: [.trades, .dailySummary])],
                dailySummaryMinute: 0
            )
            let clock = ManualClock(now: EngineFixtures.start)
            let assembly = try await EngineAssembly.make(
                configuration: configuration,
                logger: EngineFixtures.quietLogger(),
                clockOverride: clock
            )
            try await assembly.manager.runOnce()
            let notifier = try #require(assembly.manager.notifier)
            await notifier.flush()
            let texts = stand.telegram.compactMap { $0["text"] as? String }
            #expect(
                texts.contains {
                    $0.hasPrefix("Buy and hold BTC (baseline-hold) opened long ") && $0.contains(" BTC at ")
                }
            )
            let summaries = texts.filter { $0.hasPrefix("Arena daily summary, ") }
            #expect(summaries.count == 1)
            #expect(summaries.first?.contains("Buy and hold BTC (baseline-hold): equity $") == true)
            clock.advance(byMilliseconds: 180_000)
            try await assembly.manager.runOnce()
            await notifier.flush()
            let again = stand.telegram.compactMap { $0["text"] as? String }
            #expect(again.filter { $0.hasPrefix("Arena daily") }.count == 1)
            try await assembly.httpClient.shutdown()
            // A restart the same day does not send it again: the day is in the saved state.
            clock.advance(byMilliseconds: 180_000)
            let restarted = try await EngineAssembly.make(
                configuration: configuration,
                logger: EngineFixtures.quietLogger(),
                clockOverride: clock
            )
            try await restarted.manager.runOnce()
            await restarted.manager.notifier?.flush()
            let after = stand.telegram.compactMap { $0["text"] as? String }
            #expect(after.filter { $0.hasPrefix("Arena daily") }.count == 1)
            try await restarted.httpClient.shutdown()
        }
        try await httpClient.shutdown()
    }

    /// A backtest's trades, daily summaries and alerts are simulated: none goes to Telegram, Discord or the alert
    /// webhook, all three configured with every event (a live run of the same configuration sends them: above).
    @Test func aBacktest_sendsNoNotice_summaryOrAlert() async throws {
        let stand = Stand()
        try await stand.application().test(.live) { client in
            let port = try #require(client.port)
            let scratch = try TestPaths.makeScratch("notify-backtest")
            // A 1 % drawdown switch: the day's trading trips it, and its alert is raised.
            let arena = try EngineFixtures.shippedCopy(in: scratch) {
                $0.replacingOccurrences(of: "max_drawdown_pct: 30", with: "max_drawdown_pct: 1")
            }
            var configuration = try EngineFixtures.configuration(scratch: scratch, path: arena)
            let every = Set(Notifier.Event.allCases)
            configuration.manager.notifications = .init(
                channels: [Self.telegram(port: port, events: every), Self.discord(port: port, events: every)],
                dailySummaryMinute: 0
            )
            configuration.manager.monitoring.alertWebhook = "http://127.0.0.1:\(port)/alerts"
            var options = Backtest.Options(
                from: 1_752_624_000_000,  // 2025-07-16
                to: 1_752_710_400_000,
                output: scratch.appendingPathComponent("out").path
            )
            options.traders = ["baseline-ema"]
            let report = try await Backtest.run(
                base: configuration,
                options: options,
                logger: EngineFixtures.quietLogger()
            )
            let result = try #require(report.traders.first)
            #expect(result.trades > 0 && result.maxDrawdownPct > 1, "\(result.trades) \(result.maxDrawdownPct)")
            // Sends are queued: a second for any that were.
            try await Task.sleep(for: .seconds(1))
            #expect(stand.state.withLock { $0.attempts } == 0)
        }
    }

    @Test func configuration_readsChannels_andRefusesWhatIsWrong() throws {
        let scratch = try TestPaths.makeScratch("notify-config")
        let on = try EngineFixtures.configuration(
            scratch: scratch,
            environment: [
                "TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_CHAT_ID": "42", "DISCORD_WEBHOOK_URL": "https://example/hook",
            ]
        )
        #expect(on.manager.notifications.channels.map(\.kind) == [.telegram, .discord])
        #expect(on.manager.notifications.dailySummaryMinute == 20 * 60)
        #expect(on.manager.notifications.channels.first?.events == [.alerts, .trades, .dailySummary])
        let off = try EngineFixtures.configuration(scratch: scratch)
        #expect(off.manager.notifications.channels.isEmpty)
        // A token without its chat is an error naming the key.
        #expect(throws: ConfigError.self) {
            try EngineFixtures.configuration(scratch: scratch, environment: ["TELEGRAM_BOT_TOKEN": "1:abc"])
        }
    }

    /// Why a trade closed, read from its exit against its plan.
    @Test func closedTradeNotice_namesTheStopTheTargetOrALiquidation() {
        let trader = CycleHarness.trader()
        func trade(quantity: Double, exit: Double, liquidated: Bool = false) -> ClosedTrade {
            ClosedTrade(
                tradeID: 1,
                trader: trader.id,
                symbol: "BTC",
                quantity: quantity,
                leverage: 2,
                confidence: 0.7,
                entryOrderID: 1,
                exitOrderID: 2,
                entryTime: 0,
                exitTime: 60_000,
                entryPrice: 100,
                exitPrice: exit,
                entryFee: 0.1,
                exitFee: 0.1,
                fundingPaid: 0,
                wasLiquidated: liquidated,
                exitPlan: .init(
                    stopLoss: quantity > 0 ? 95 : 105,
                    takeProfit: quantity > 0 ? 110 : 90,
                    confidence: 0.7,
                    riskUSD: 5,
                    invalidationCondition: "x"
                )
            )
        }
        func notice(_ quantity: Double, _ exit: Double, liquidated: Bool = false) -> String {
            TradeNotice.closed(trade(quantity: quantity, exit: exit, liquidated: liquidated), trader: trader)
        }
        #expect(notice(1, 94.99).contains(" stop hit: long 1 BTC at 94.99"))
        #expect(notice(1, 110).contains(" target hit: long "))
        #expect(notice(-1, 105.01).contains(" stop hit: short 1 BTC"))
        #expect(notice(-1, 100).contains(" closed: short "))
        #expect(notice(1, 50, liquidated: true).contains(" liquidated: "))
        #expect(notice(1, 110).hasSuffix("net PnL $9.80"))
    }
}
