import ArenaTestSupport
import EngineTestSupport
import Foundation
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

/// A model that takes its time (the seam here is the `LLMClient` protocol; the HTTP client has its own tests).
struct SlowModel: LLMClient {
    let delay: Duration

    func complete(_ request: LLMRequest) async throws(LLMError) -> LLMResponse {
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw .timeout
        }
        return LLMResponse(
            text: #"{"decisions":[]}"#,
            modelName: "slow",
            promptTokens: 0,
            completionTokens: 0,
            latencyMilliseconds: 0
        )
    }
}

@Suite("Manager scheduling")
struct ManagerConcurrencyTests {
    func trader(_ id: String, client: any LLMClient, exchange: SimExchange) throws -> ArenaManager.Trader {
        let configuration = CycleHarness.trader(id: id, name: id, allocationPct: 10, keyPath: id)
        let cycle = DecisionCycle(
            pipeline: TraderPipeline(
                renderer: try CycleHarness.renderer(trader: configuration, decisionSchema: "{}")
            ),
            market: CycleHarness.market(),
            maxStaleness: .max,
            exchange: exchange,
            model: CycleHarness.model,
            gateway: .direct(model: CycleHarness.model, client: client, logger: Logger(label: "test")),
            decisionTimeout: .seconds(60),
            assets: AssetInfo.catalog,
            logger: Logger(label: "test")
        )
        return ArenaManager.Trader(configuration: configuration, cycle: cycle, capital: 1000)
    }

    @Test func slowTrader_neverDelaysAnother() async throws {
        let exchange = SimExchange(
            id: "paper",
            ledger: SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2),
            statePath: nil
        )
        let clock = ManualClock(now: CycleHarness.now)
        let store = try ManagerStore(path: nil)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let manager = ArenaManager(
            traders: [
                try trader("slow", client: SlowModel(delay: .seconds(60)), exchange: exchange),
                try trader("fast", client: BaselinePolicy(modelName: "buy_and_hold")!, exchange: exchange),
            ],
            clock: clock,
            tickInterval: 1000,
            maxConcurrentDecisions: 4,
            exchanges: ["paper": exchange],
            markets: ["fixed": CycleHarness.market()],
            store: store,
            publisher: nil,
            exportInterval: 15_000,
            logger: logger
        )
        let running = Task { try await manager.run() }
        // Five decision intervals pass while the slow trader's first cycle is still waiting on its model.
        for _ in 0..<5 {
            for _ in 0..<200 where store.state("fast").lastDecisionAt != clock.now() {
                try await Task.sleep(for: .milliseconds(5))
            }
            clock.advance(byMilliseconds: 180_000)
        }
        for _ in 0..<200 where store.state("fast").cycle < 5 {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(store.state("fast").cycle >= 5)
        #expect(store.state("slow").cycle == 0)
        running.cancel()
        _ = try? await running.value
    }
}
