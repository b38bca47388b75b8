import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

/// Memory in the prompt (issue 19, part 1): the trader's state remembers each entry's reasoning, closed trades and
/// why they closed, and the cycles' verdicts; the shipped template 1.1.0 shows them; the inputs are journaled so a
/// record re-renders the same prompt; the previous template version stays loadable.
@Suite("Prompt memory", .serialized)
struct PromptMemoryTests {
    typealias F = GatewayFixture
    typealias C = CycleHarness

    @Test func aModelSeesWhyItEnteredWhatItClosedAndWhatRiskRefused_andTheRecordReplaysTheSamePrompt() async throws {
        let entry = C.entry().replacingOccurrences(
            of: #""reasoning":"y""#,
            with: #""reasoning":"breakout above the range\nwith volume""#
        )
        let refused = C.entry("ETH", stop: 3000, target: 3500, confidence: 0.1)
        let close = #"{"symbol":"BTC","signal":"close_position","confidence":0.9,"reasoning":"momentum faded"}"#
        let behaviour = FakeModelBehaviour(
            .content(C.answer(#"{"symbol":"BTC","signal":"hold","confidence":0.5}"#)),
            script: [.content(C.answer(entry, refused)), .content(C.answer(close))]
        )
        try await F.withServers([behaviour]) { ports, httpClient in
            let clock = SteppingClock(now: C.now)
            let model = F.model("fake", provider: "fake", input: 1, output: 2, maxTokens: 512)
            let gateway = try await F.gateway(
                models: [(model, F.provider("fake", port: ports[0], timeout: .seconds(20)))],
                chains: ["llm-1": ["fake"]],
                httpClient: httpClient,
                clock: clock
            )
            let harness = try await C.make(port: ports[0], httpClient: httpClient, gateway: gateway)
            #expect(
                harness.cycle.renderer.memoryDepth
                    == ExecutorConfiguration.MemoryDepth(closedTrades: 5, recentCycles: 3)
            )
            let store = try ManagerStore(path: nil)
            let trader = C.trader()
            store.begin(trader: trader.id, capital: 10_000, now: C.now - 3_600_000)

            func cycle(_ number: Int, at now: Int64) async throws -> CycleRecord {
                try harness.exchange.updateMarket(prices: ["BTC": 100_000, "ETH": 4_000], funding: [:], now: now)
                let account = try harness.exchange.account(trader: trader.id)
                let trades = harness.exchange.closedTrades(trader: trader.id)
                _ = store.observe(trader: trader, account: account, trades: trades, now: now, remembers: true)
                let record = await harness.cycle.run(
                    cycle: number,
                    now: now,
                    state: store.state(trader.id),
                    clock: ManualClock(now: now)
                )
                store.apply(record, configuration: trader, now: now, remembers: true)
                return record
            }

            // 1: nothing remembered yet; BTC entered with its reasoning, ETH refused.
            let first = try await cycle(1, at: C.now)
            #expect(first.inputs?.memory?.trades == [])
            #expect(first.inputs?.memory?.cycles == [])
            let firstPrompt = try #require(first.userPrompt)
            #expect(firstPrompt.components(separatedBy: "- none yet").count == 3)
            #expect(first.verdicts.map(\.isAccepted) == [true, false])
            var state = store.state(trader.id)
            #expect(state.memory?.entryReasons == ["BTC": "breakout above the range\nwith volume"])

            // 2: the open position shows why it was entered; the last cycle shows what risk refused. It closes BTC.
            let second = try await cycle(2, at: C.now + 180_000)
            let secondPrompt = try #require(second.userPrompt)
            #expect(
                secondPrompt.contains(
                    "opened 3 minutes ago with confidence 0.8; your reasoning at entry: breakout above the range with volume"
                )
            )
            #expect(
                secondPrompt.contains(
                    "- 3 minutes ago: completed (reason: none); BTC buy_to_enter accepted (reasons: none); ETH buy_to_enter refused (reasons: CONFIDENCE_BELOW_MIN"
                )
            )
            #expect(try harness.exchange.account(trader: trader.id).positions["BTC"] == nil)

            // 3: the closed trade, closed by the model, with the reasoning it was entered for; the day's summary.
            let third = try await cycle(3, at: C.now + 360_000)
            state = store.state(trader.id)
            let remembered = try #require(state.memory?.trades.last)
            #expect(remembered.closeReason == "model")
            #expect(remembered.entryReasoning == "breakout above the range\nwith volume")
            #expect(state.memory?.entryReasons == [:])
            #expect(state.memory?.cycles.count == 3)
            let thirdPrompt = try #require(third.userPrompt)
            #expect(thirdPrompt.contains("- BTC long 0.02"))
            #expect(
                thirdPrompt.contains(
                    "held 3 minutes, closed 3 minutes ago by: model; your reasoning at entry: breakout above the range with volume"
                )
            )
            #expect(
                thirdPrompt.contains(
                    "Last 24 hours: 1 closed trades, win rate (percent) \(remembered.netPnL > 0 ? "100" : "0"), net PnL \(PromptContext.number(remembered.netPnL))"
                )
            )
            #expect(thirdPrompt.contains("- 3 minutes ago: completed (reason: none); BTC close_position accepted"))

            // Replay: each record, through the journal's bytes and back, renders its prompts again exactly.
            for record in [first, second, third] {
                var writer = SortedJSONWriter()
                try record.writeSortedJSON(to: &writer)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                let reference = try encoder.encode(record)
                #expect(Data(writer.bytes) == reference)
                let decoded = try JSONDecoder().decode(CycleRecord.self, from: Data(writer.bytes))
                #expect(decoded.inputs?.memory == record.inputs?.memory)
                let messages = try harness.cycle.render(
                    market: try #require(decoded.market),
                    account: try #require(decoded.account),
                    inputs: try #require(decoded.inputs),
                    now: decoded.startedAt
                )
                #expect(messages.map(\.content) == [record.systemPrompt, record.userPrompt])
            }
        }
    }

    /// What closed a trade: the engine's own close (model, drawdown switch, operator) by its order id, else the
    /// trade's prices (liquidation, stop, target), else `other`; and the day and week summaries.
    @Test func closeReasons_windows_andBounds() throws {
        var memory = TraderMemory()
        func trade(_ id: Int64, exit: Double, at time: Int64, liquidated: Bool = false) -> ClosedTrade {
            ClosedTrade(
                tradeID: id,
                trader: "t",
                symbol: "BTC",
                quantity: 0.1,
                leverage: 5,
                confidence: 0.7,
                entryOrderID: 1,
                exitOrderID: id,
                entryTime: time - 3_600_000,
                exitTime: time,
                entryPrice: 100,
                exitPrice: exit,
                entryFee: 0,
                exitFee: 0,
                fundingPaid: 0,
                wasLiquidated: liquidated,
                exitPlan: .init(stopLoss: 95, takeProfit: 110, confidence: 0.7, riskUSD: 1, invalidationCondition: "x")
            )
        }
        func closeOut(_ origin: CycleRecord.Origin?, orderID: Int64) -> CycleRecord {
            let order = OrderRequest(
                cloid: "c\(orderID)",
                trader: "t",
                symbol: "BTC",
                isBuy: false,
                size: 0.1,
                kind: .marketIOC,
                slippageBps: 10,
                isReduceOnly: true,
                leverage: 5
            )
            return CycleRecord(
                traderID: "t",
                cycle: 1,
                cycleID: "t-1",
                startedAt: 0,
                endedAt: 0,
                outcome: .completed,
                modelAsked: "m",
                orders: [order],
                results: [
                    .init(
                        cloid: order.cloid,
                        status: .filled,
                        orderID: orderID,
                        filledSize: 0.1,
                        averagePrice: 101,
                        fee: 0
                    )
                ],
                origin: origin
            )
        }
        let day: Int64 = 86_400_000
        let now = 30 * day
        memory.record(closeOut(.drawdownSwitch, orderID: 11))
        memory.record(closeOut(.operatorFlatten, orderID: 12))
        memory.record(closeOut(nil, orderID: 13))
        #expect(memory.cycles.count == 1)  // close-outs are not model cycles
        memory.record(trade(10, exit: 94.9, at: now - 3 * day))  // at the stop
        memory.record(trade(11, exit: 101, at: now - 2 * day))
        memory.record(trade(12, exit: 99, at: now - day / 2))
        memory.record(trade(13, exit: 102, at: now - day / 4))
        memory.record(trade(14, exit: 110.05, at: now - 8 * day))  // at the target, outside the week
        memory.record(trade(15, exit: 80, at: now - 8 * day, liquidated: true))
        memory.record(trade(16, exit: 103, at: now - 9 * day))
        #expect(
            memory.trades.map(\.closeReason) == [
                "stop", "kill_switch", "operator", "model", "target", "liquidation", "other",
            ]
        )
        #expect(memory.closeCauses.isEmpty)
        let account = TraderAccount(cash: 1, positions: [:], realizedPnL: 0, feesPaid: 0)
        let prompt = memory.prompt(
            now: now,
            account: account,
            depth: .init(closedTrades: 2, recentCycles: 1),
            equityHistory: []
        )
        #expect(prompt.trades.map(\.closeReason) == ["liquidation", "other"])
        #expect(prompt.day.trades == 2)
        #expect(prompt.day.wins == 1)
        #expect(abs(prompt.day.netPnL - 0.1) < 1e-9)
        #expect(prompt.week.trades == 4)
        #expect(prompt.week.wins == 2)

        for index in 0..<(TraderMemory.tradeLimit + 5) { memory.record(trade(Int64(100 + index), exit: 100, at: now)) }
        for _ in 0..<(TraderMemory.cycleLimit + 5) { memory.record(closeOut(nil, orderID: 9)) }
        #expect(memory.trades.count == TraderMemory.tradeLimit)
        #expect(memory.cycles.count == TraderMemory.cycleLimit)
        #expect(memory.closeCauses.count <= 50)
    }

    /// The shipped configuration: the current user template reads memory (its depth from `executor.yaml`), the
    /// previous version stays loadable without it, and a template whose file does not carry its entry's version
    /// is refused.
    @Test func shippedConfiguration_currentAndPreviousTemplateVersions() throws {
        let scratch = try TestPaths.makeScratch("memory-config")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let configuration = try EngineFixtures.configuration(scratch: scratch)
        let schema = try TraderPipeline.decisionSchema(configuration)
        var trader = try #require(configuration.manager.traders.first)
        #expect(configuration.executor.templates["alpha-arena-user"]?.version == "1.1.0")
        let current = try TraderPipeline.make(trader: trader, configuration: configuration, decisionSchema: schema)
        #expect(current.renderer.memoryDepth == ExecutorConfiguration.MemoryDepth(closedTrades: 5, recentCycles: 3))
        #expect(current.renderer.userTemplate.stamp.version == "1.1.0")
        trader.executorPromptTemplate = "alpha-arena-user-1.0.0"
        let previous = try TraderPipeline.make(trader: trader, configuration: configuration, decisionSchema: schema)
        #expect(previous.renderer.memoryDepth == nil)
        #expect(previous.renderer.userTemplate.stamp.version == "1.0.0")

        var mismatched = configuration
        mismatched.executor.templates["alpha-arena-user-1.0.0"]?.version = "1.1.0"
        #expect {
            try TraderPipeline.make(trader: trader, configuration: mismatched, decisionSchema: schema)
        } throws: { "\($0)".contains("has Version: 1.0.0, expected 1.1.0") }
    }
}
