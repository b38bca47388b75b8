import AsyncHTTPClient
import EngineTestSupport
import Foundation
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

/// The decision cycle with the model gateway in front of a fake model speaking real HTTP: the correction round,
/// the budget failing closed, and what the journal record keeps about the calls.
@Suite("Decision cycle and the model gateway", .serialized)
struct CycleModelTests {
    typealias F = GatewayFixture
    typealias C = CycleHarness

    func run(
        _ behaviour: FakeModelBehaviour,
        budget: LLMConfiguration.Budget? = nil,
        cache: Bool = false,
        cycles: Int = 1,
        check: @escaping @Sendable ([CycleRecord], SimExchange) async throws -> Void
    ) async throws {
        try await F.withServers([behaviour]) { ports, httpClient in
            let clock = SteppingClock(now: C.now)
            let directory = F.scratch("cycle")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let model = F.model("fake", provider: "fake", input: 1, output: 2, maxTokens: 512)
            let gateway = try await F.gateway(
                // Generous timeouts: these tests are about what happens after an answer, not about slowness.
                models: [(model, F.provider("fake", port: ports[0], timeout: .seconds(20)))],
                chains: ["llm-1": ["fake"]],
                httpClient: httpClient,
                clock: clock,
                budget: try budget.map { try BudgetGuard(limits: $0, path: nil, clock: clock) },
                cache: cache
                    ? try DigestCache(
                        configuration: .init(isEnabled: true, ttl: .seconds(60), maxEntries: 10, path: nil),
                        clock: clock
                    ) : nil
            )
            let harness = try await C.make(
                port: ports[0],
                httpClient: httpClient,
                gateway: gateway,
                decisionTimeout: .seconds(20)
            )
            var records: [CycleRecord] = []
            for index in 1...cycles {
                records.append(
                    await harness.cycle.run(cycle: index, now: C.now, state: C.state(), clock: ManualClock(now: C.now))
                )
            }
            try await check(records, harness.exchange)
        }
    }

    @Test func rejectedAnswer_isSentBackOnce_withTheError_andTheCorrectionTrades() async throws {
        let behaviour = FakeModelBehaviour(
            .content(C.answer(C.entry())),
            script: [.content(#"{"decisions":[{"symbol":"BTC","signal":"moon"}]}"#)]
        )
        try await run(behaviour) { records, exchange in
            let record = try #require(records.first)
            #expect(record.outcome == .completed)
            #expect(record.rejectedAnswer?.contains("moon") == true)
            #expect(record.decisions.count == 1)
            #expect(record.attempts.map(\.route) == [.primary, .correction])
            #expect(record.promptTokens == 2 * 1234)
            // 2 × (1234 × $1 + 56 × $2) / 1M
            #expect(abs(record.costUSD - 2 * (1234.0 + 112.0) / 1_000_000) < 1e-12)
            let correction = try #require(behaviour.receivedBodies.last)
            #expect(correction.contains("was rejected"))
            #expect(correction.contains("\"assistant\""))
            #expect(try exchange.account(trader: "llm-1").positions["BTC"] != nil)
        }
    }

    @Test func secondRejectedAnswer_holdsEverything() async throws {
        let behaviour = FakeModelBehaviour(.content("Buy BTC, I think."))
        try await run(behaviour) { records, exchange in
            let record = try #require(records.first)
            #expect(record.outcome == .failedClosed)
            #expect(record.reason == .llmOutputInvalid)
            #expect(record.orders.isEmpty)
            #expect(behaviour.receivedBodies.count == 2)
            #expect(try exchange.account(trader: "llm-1").positions.isEmpty)
        }
    }

    @Test func spentBudget_failsClosed_withoutCallingTheModel() async throws {
        let behaviour = FakeModelBehaviour(.content(C.answer(C.entry())))
        try await run(behaviour, budget: F.budget(tokens: 100)) { records, exchange in
            let record = try #require(records.first)
            #expect(record.outcome == .failedClosed)
            #expect(record.reason == .budgetExhausted)
            #expect(record.orders.isEmpty)
            #expect(behaviour.receivedBodies.isEmpty)
            #expect(try exchange.account(trader: "llm-1").positions.isEmpty)
        }
    }

    @Test func cacheHit_isMarkedInTheRecord_andCostsNothing() async throws {
        // A hold leaves the account as it was, so the second cycle's prompt is the same bytes.
        let behaviour = FakeModelBehaviour(
            .content(#"{"decisions":[{"symbol":"BTC","signal":"hold","confidence":0.5}]}"#)
        )
        try await run(behaviour, budget: F.budget(usd: 10), cache: true, cycles: 2) { records, _ in
            #expect(records.map(\.isCacheHit) == [false, true])
            #expect(records[1].costUSD == 0)
            #expect(records[1].promptTokens == 0)
            #expect(records[0].costUSD > 0)
            #expect(behaviour.receivedBodies.count == 1)
            // The record as the journal writes it.
            let line = String(decoding: try JSONEncoder().encode(records[1]), as: UTF8.self)
            #expect(line.contains(#""cache_hit":true"#))
            #expect(line.contains(#""schema_version":\#(CycleRecord.currentSchemaVersion)"#))
            let decoded = try JSONDecoder().decode(CycleRecord.self, from: Data(line.utf8))
            #expect(decoded == records[1])
        }
    }

    @Test func version1Records_stillDecode() throws {
        let line =
            #"{"schema_version":1,"trader_id":"t","cycle":1,"cycle_id":"t-1","started_at":1,"ended_at":2,"outcome":"completed","model_asked":"m","prompt_tokens":3,"completion_tokens":4,"latency_ms":5,"decisions":[],"verdicts":[],"orders":[],"results":[],"templates":[]}"#
        let record = try JSONDecoder().decode(CycleRecord.self, from: Data(line.utf8))
        #expect(record.schemaVersion == 1)
        #expect(record.attempts.isEmpty)
        #expect(record.costUSD == 0)
        #expect(record.promptTokens == 3)
    }

    @Test func modelCost_reachesTheLeaderboardAccountTotalsAndAnalytics() async throws {
        let behaviour = FakeModelBehaviour(
            .usage(
                #"{"decisions":[{"symbol":"BTC","signal":"hold","confidence":0.5}]}"#,
                prompt: 200_000,
                completion: 50_000
            )
        )
        try await run(behaviour, budget: F.budget(usd: 10), cycles: 2) { records, exchange in
            // $1/M input, $2/M output: 0.2 + 0.1 = $0.30 per cycle.
            #expect(records.allSatisfy { abs($0.costUSD - 0.3) < 1e-9 })
            let store = try ManagerStore(path: nil)
            let trader = C.trader()
            store.begin(trader: trader.id, capital: 10_000, now: C.now)
            for record in records { store.apply(record, configuration: trader, now: C.now) }
            let account = try exchange.account(trader: trader.id)
            _ = store.observe(trader: trader, account: account, trades: [], now: C.now + 3_600_000)
            let state = store.state(trader.id)
            #expect(abs(state.llmCostUSD - 0.6) < 1e-9)
            let builder = ArenaSnapshotBuilder(
                traders: [.init(configuration: trader, state: state, account: account, trades: [])],
                prices: [:],
                now: C.now + 3_600_000
            )
            let entry = try #require(builder.leaderboard().leaderboard.first)
            #expect(abs((entry.llmCostUSD ?? 0) - 0.6) < 1e-9)
            #expect(abs((entry.pnlNetOfLLMUSD ?? 0) - (account.equity - 10_000 - 0.6)) < 1e-9)
            let row = try #require(builder.accountTotals().accountTotals.last)
            #expect(abs((row.llmCostUSD ?? 0) - 0.6) < 1e-9)
            let table = try #require(builder.analytics().analytics.first?.llmCostBreakdownTable)
            #expect(table.models.map(\.model) == ["fake"])
            #expect(table.models.first?.requests == 2)
            #expect(table.models.first?.promptTokens == 400_000)
            #expect(table.totalTokens == 500_000)
            #expect(abs(table.pnlNetOfLLMUSD - (table.pnlUSD - 0.6)) < 1e-9)
        }
    }

    /// What the dashboard shows about a cycle: the conversation carries its outcome, risk's verdict on each
    /// decision with the reason codes, and the orders sent with what became of them; the leaderboard names the
    /// trader, its status and why, the model that answered, its drawdown and fees.
    @Test func conversationsCarryVerdictsAndOrders_andTheLeaderboardTheTradersStatus() async throws {
        // BTC passes risk; ETH's confidence is under the trader's minimum.
        let behaviour = FakeModelBehaviour(
            .content(C.answer(C.entry(), C.entry("ETH", stop: 3000, target: 3500, confidence: 0.1)))
        )
        try await run(behaviour) { records, exchange in
            let record = try #require(records.first)
            let store = try ManagerStore(path: nil)
            let trader = C.trader()
            store.begin(trader: trader.id, capital: 10_000, now: C.now)
            store.apply(record, configuration: trader, now: C.now)
            let account = try exchange.account(trader: trader.id)
            var view = ArenaSnapshotBuilder.TraderView(
                configuration: trader,
                state: store.state(trader.id),
                account: account,
                trades: []
            )
            let builder = { (view: ArenaSnapshotBuilder.TraderView) in
                ArenaSnapshotBuilder(traders: [view], prices: [:], now: C.now + 1000, reserveUSD: 1234)
            }
            let conversation = try #require(builder(view).conversations().conversations.first)
            #expect(conversation.outcome == "completed")
            #expect(conversation.verdicts?.map(\.symbol) == ["BTC", "ETH"])
            #expect(conversation.verdicts?.map(\.accepted) == [true, false])
            #expect(conversation.verdicts?.last?.reasons.contains("CONFIDENCE_BELOW_MIN") == true)
            let entryOrder = try #require(conversation.orders?.first)
            #expect(entryOrder.symbol == "BTC")
            #expect(entryOrder.side == "buy")
            #expect(entryOrder.status == "filled")
            #expect(entryOrder.filledSize == account.positions["BTC"]?.quantity)
            #expect(conversation.orders?.contains { $0.kind == "stop_loss" && $0.reduceOnly } == true)

            var board = builder(view).leaderboard()
            var entry = try #require(board.leaderboard.first)
            #expect(board.reserveUSD == 1234)
            #expect(entry.name == "LLM one")
            #expect(entry.status == "active")
            #expect(entry.statusReason == nil)
            #expect(entry.modelInUse == record.modelAnswered)
            #expect(entry.feesUSD == account.feesPaid)
            #expect(account.feesPaid > 0)
            #expect(entry.lastCycleAt == Double(C.now) / 1000)

            view.suspension = "failed closed 3 cycles in a row"
            entry = try #require(builder(view).leaderboard().leaderboard.first)
            #expect(entry.status == "paused")
            #expect(entry.statusReason?.contains("failed closed 3 cycles in a row") == true)
            view.suspension = nil
            view.state.pausedUntil = C.now + 60_000
            entry = try #require(builder(view).leaderboard().leaderboard.first)
            #expect(entry.status == "paused")
            #expect(entry.statusReason?.contains("Sharpe") == true)
            view.state.isDrawdownLimitHit = true
            board = builder(view).leaderboard()
            entry = try #require(board.leaderboard.first)
            #expect(entry.status == "halted")
            #expect(entry.statusReason?.contains("drawdown") == true)

            // The fields survive the wire: encoded as the exporter does and decoded as the API does.
            let decoded = try SnapshotCoding.makeDecoder().decode(
                LeaderboardDocument.self,
                from: SnapshotCoding.makeEncoder().encode(board)
            )
            #expect(decoded == board)
        }
    }
}
