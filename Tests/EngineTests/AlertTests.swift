import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine

/// The alert webhook against a receiver speaking real HTTP: JSON posts, retries, de-duplication per key.
@Suite("Alert webhook", .serialized)
struct AlertTests {
    final class Receiver: Sendable {
        let raw = Mutex<[Data]>([])
        let failuresLeft = Mutex(0)

        var bodies: [[String: Any]] {
            raw.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
        var count: Int { raw.withLock { $0.count } }
        var keys: [String] { bodies.compactMap { $0["alert"] as? String } }

        func makeApplication() -> some ApplicationProtocol {
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let data = Data(buffer: try await request.body.collect(upTo: 1 << 16))
                let failing = self.failuresLeft.withLock { left -> Bool in
                    guard left > 0 else { return false }
                    left -= 1
                    return true
                }
                if failing { return Response(status: .internalServerError) }
                self.raw.withLock { $0.append(data) }
                return Response(status: .noContent)
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test func alerts_arePosted_retried_andDeduplicatedPerKey() async throws {
        let receiver = Receiver()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await receiver.makeApplication().test(.live) { client in
                let port = try #require(client.port)
                let clock = ManualClock(now: 1_000_000)
                let metrics = EngineMetrics()
                let sink = WebhookAlertSink(
                    url: "http://127.0.0.1:\(port)/hook",
                    httpClient: httpClient,
                    minimumInterval: .seconds(900),
                    retries: 3,
                    clock: clock,
                    metrics: metrics,
                    logger: Logger(label: "test")
                )
                receiver.failuresLeft.withLock { $0 = 2 }
                await sink.raise(key: "kill_switch:t1", message: "t1 hit its drawdown limit")
                await sink.drain()
                // Two 500s, then delivered.
                #expect(receiver.count == 1)
                #expect(receiver.bodies.first?["kind"] as? String == "kill_switch")
                #expect(receiver.bodies.first?["message"] as? String == "t1 hit its drawdown limit")

                // The same key within the interval: not sent again; another key is.
                await sink.raise(key: "kill_switch:t1", message: "again")
                await sink.raise(key: "llm_budget_threshold", message: "80 %")
                await sink.drain()
                #expect(receiver.keys == ["kill_switch:t1", "llm_budget_threshold"])
                #expect(await sink.suppressed == 1)
                // After the interval the key is sent again.
                clock.advance(byMilliseconds: 900_001)
                await sink.raise(key: "kill_switch:t1", message: "still")
                await sink.drain()
                #expect(receiver.keys == ["kill_switch:t1", "llm_budget_threshold", "kill_switch:t1"])
                // Every alert is counted, sent or not; labels are the kind only.
                let text = String(buffer: metrics.exposition())
                #expect(text.contains(#"engine_alerts_total{alert="kill_switch"} 3"#))
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    /// A cycle record of `trader` started and ended at `cycle` ms, asked of model "m".
    static func record(_ trader: String, cycle: Int, id: String, outcome: CycleRecord.Outcome) -> CycleRecord {
        CycleRecord(
            traderID: trader,
            cycle: cycle,
            cycleID: id,
            startedAt: Int64(cycle),
            endedAt: Int64(cycle),
            outcome: outcome,
            modelAsked: "m"
        )
    }

    /// A manager around `store` that only reviews cycles (no clock-driven loop runs in these tests).
    static func manager(
        store: ManagerStore,
        alerts: (any AlertSink)?,
        traders: [ArenaManager.Trader] = [],
        exchanges: [String: any ExchangeProvider] = [:]
    ) -> ArenaManager {
        ArenaManager(
            traders: traders,
            clock: ManualClock(now: 0),
            tickInterval: 1000,
            maxConcurrentDecisions: 1,
            exchanges: exchanges,
            markets: [:],
            store: store,
            publisher: nil,
            exportInterval: 1000,
            alerts: alerts,
            logger: Logger(label: "test")
        )
    }

    actor RecordingSink: AlertSink {
        var raised: [String] = []
        func raise(key: String, message: String) async { raised.append(key) }
    }

    @Test func manager_alertsOnATraderFailingClosedRepeatedly_andOnAPositionWithoutAStop() async throws {
        let sink = RecordingSink()
        let scratch = try TestPaths.makeScratch("suspend")
        let statePath = scratch.appendingPathComponent("state/manager.json").path
        let store = try ManagerStore(path: statePath)
        let manager = Self.manager(store: store, alerts: sink)
        let trader = CycleHarness.trader()
        store.begin(trader: trader.id, capital: 1000, now: 0)
        for cycle in 1...3 {
            var record = Self.record(trader.id, cycle: cycle, id: "\(trader.id)-\(cycle)", outcome: .failedClosed)
            record.reason = .staleMarketData
            store.apply(record, configuration: trader, now: Int64(cycle))
            await manager.health.review(record, trader: trader.id)
        }
        #expect(await sink.raised == ["trader_failing:llm-1"])
        // The trader is paused: no cycle is due for it until it is resumed.
        #expect(store.suspended["llm-1"]?.contains("failed closed 3 cycles in a row") == true)
        // `engine resume llm-1` leaves a request the running manager picks up.
        let requests = TraderHealth.resumeDirectory(statePath: statePath)
        try FileManager.default.createDirectory(atPath: requests, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: requests + "/llm-1", contents: Data()))
        await manager.health.handleResumeRequests()
        #expect(store.suspended["llm-1"] == nil)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: requests))?.isEmpty == true)
        var protectedless = Self.record(trader.id, cycle: 4, id: "x", outcome: .completed)
        protectedless.inputs = DecisionCycle.inputs(state: TraderState(), now: 4, takerFeeRate: 0, sharpe: 0)
        protectedless.inputs?.unprotectedSymbols = ["BTC"]
        store.apply(protectedless, configuration: trader, now: 4)
        await manager.health.review(protectedless, trader: trader.id)
        #expect(await sink.raised == ["trader_failing:llm-1", "stop_missing:llm-1"])
    }

    @Test func aFailureRateAboveTenPercent_pausesTheTrader() async throws {
        let store = try ManagerStore(path: nil)
        let manager = Self.manager(store: store, alerts: nil)
        let trader = CycleHarness.trader()
        store.begin(trader: trader.id, capital: 1000, now: 0)
        // 3 failures in 20 cycles, never two in a row: 15 %.
        for cycle in 1...20 {
            let record = Self.record(
                trader.id,
                cycle: cycle,
                id: "c\(cycle)",
                outcome: [5, 11, 20].contains(cycle) ? .failedClosed : .completed
            )
            store.apply(record, configuration: trader, now: Int64(cycle))
            await manager.health.review(record, trader: trader.id)
            if cycle < 20 { #expect(store.suspended[trader.id] == nil, "cycle \(cycle)") }
        }
        #expect(store.suspended[trader.id]?.contains("15 % of its last 20 cycles") == true)
    }

    @Test func staleMarketData_andAVenueFailingOrders_raiseAlerts() async throws {
        let sink = RecordingSink()
        let store = try ManagerStore(path: nil)
        let exchange = SimExchange(
            id: "paper",
            ledger: SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2),
            statePath: nil
        )
        let runtime = try ManagerConcurrencyTests().trader(
            "t",
            client: BaselinePolicy(modelName: "buy_and_hold")!,
            exchange: exchange
        )
        let manager = Self.manager(store: store, alerts: sink, traders: [runtime], exchanges: ["paper": exchange])
        var stale = Self.record("t", cycle: 1, id: "t-1", outcome: .failedClosed)
        stale.reason = .staleMarketData
        await manager.health.review(stale, trader: "t")
        #expect(await sink.raised == ["market_stale:fixed"])

        // 20 orders, 2 refused by the venue for its own reasons: 10 % > 5 %.
        for cycle in 2...21 {
            var record = Self.record("t", cycle: cycle, id: "t-\(cycle)", outcome: .completed)
            let failed = cycle == 5 || cycle == 9
            record.orders = [Self.order("c\(cycle)")]
            record.results = [
                OrderResult(
                    cloid: "c\(cycle)",
                    status: failed ? .rejected : .filled,
                    orderID: Int64(cycle),
                    filledSize: failed ? 0 : 1,
                    averagePrice: 100,
                    fee: 0,
                    reason: failed ? .exchangeError : nil,
                    message: failed ? "Order price too far from oracle" : nil
                )
            ]
            await manager.health.review(record, trader: "t")
        }
        #expect(await sink.raised.last == "exchange_errors:paper")
    }

    static func order(_ cloid: String) -> OrderRequest {
        OrderRequest(
            cloid: cloid,
            trader: "t",
            symbol: "BTC",
            isBuy: true,
            size: 1,
            kind: .marketIOC,
            limitPrice: nil,
            triggerPrice: nil,
            slippageBps: 10,
            isReduceOnly: false,
            leverage: 1,
            plan: nil
        )
    }
}
