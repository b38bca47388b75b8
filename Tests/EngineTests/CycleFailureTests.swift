import ArenaTestSupport
import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import Engine
@testable import Shared

/// A market that always shows the same snapshot (a seam for the loop tests).
struct FixedMarketProvider: MarketProvider {
    let id = "fixed"
    let symbols: [String]
    let snapshot: MarketSnapshot

    func snapshot(symbols requested: [String], now: Int64) async throws -> MarketSnapshot {
        MarketSnapshot(takenAt: now, symbols: snapshot.symbols.filter { requested.contains($0.key) })
    }
}

/// The decision cycle end to end, with a fake model speaking real HTTP and the real paper exchange:
/// every failure leaves zero orders, positions and balances unchanged, and the reason recorded.
@Suite("Decision cycle fails closed", .serialized)
struct CycleFailureTests {
    static let now: Int64 = 1_752_600_000_000
    static let symbols = ["BTC", "ETH"]

    static func symbolSnapshot(_ symbol: String, price: Double, asOf: Int64) -> SymbolSnapshot {
        SymbolSnapshot(
            symbol: symbol,
            asOf: asOf,
            price: price,
            markPrice: price,
            fundingRate: 0.0000125,
            openInterest: nil,
            ema20: price * 0.99,
            macd: 12,
            rsi7: 55,
            intraday: .init(
                prices: Array(repeating: price, count: 10),
                ema20: Array(repeating: price, count: 10),
                macd: Array(repeating: 1, count: 10),
                rsi7: Array(repeating: 50, count: 10),
                rsi14: Array(repeating: 50, count: 10)
            ),
            context: .init(
                ema20: price,
                ema50: price * 0.98,
                atr3: price * 0.01,
                atr14: price * 0.012,
                volume: 10,
                averageVolume: 12,
                macd: Array(repeating: 2, count: 10),
                rsi14: Array(repeating: 52, count: 10)
            )
        )
    }

    static func market(asOf: Int64 = now, symbols: [String] = symbols) -> FixedMarketProvider {
        let prices = ["BTC": 100_000.0, "ETH": 4_000.0]
        return FixedMarketProvider(
            symbols: symbols,
            snapshot: MarketSnapshot(
                takenAt: asOf,
                symbols: Dictionary(
                    uniqueKeysWithValues: symbols.map { ($0, symbolSnapshot($0, price: prices[$0] ?? 10, asOf: asOf)) }
                )
            )
        )
    }

    static let limits = RiskParameters(
        maxPositions: 3,
        maxPositionSizeUSD: 5000,
        maxMarginUsagePct: 50,
        majorCoinLeverage: 10,
        altcoinLeverage: 5,
        minRiskRewardRatio: 1.5,
        minConfidence: 60,
        maxRiskPerTradePct: 3,
        stopLossEnabled: true,
        takeProfitEnabled: true,
        maxDailyLossPct: 5,
        maxDrawdownPct: 20,
        cooldownAfterClose: .seconds(600),
        sharpePauseThreshold: nil,
        pauseDurationOnBreach: .seconds(3600),
        dailyLLMUSDLimit: nil,
        maxNewPositionsPerCycle: 3
    )

    static func trader() -> TraderConfiguration {
        TraderConfiguration(
            id: "llm-1",
            name: "LLM one",
            exchangeProvider: "paper",
            marketProvider: "fixed",
            orderStyle: .marketIOC,
            marketIOCSlippageBps: 50,
            promptTemplate: "alpha-arena-system",
            executorPromptTemplate: "alpha-arena-user",
            model: "fake",
            fallbackModels: [],
            decisionInterval: .seconds(180),
            allocationPct: 30,
            autoStart: true,
            symbols: symbols,
            riskParams: limits,
            disabledReason: nil,
            keyPath: "traders[0]"
        )
    }

    static func provider(port: Int) -> LLMConfiguration.Provider {
        LLMConfiguration.Provider(
            id: "fake",
            kind: .openai,
            baseURL: "http://127.0.0.1:\(port)/v1",
            apiKey: Secret("sk-test-never-logged"),
            policy: ProviderPolicy(
                timeout: .seconds(20),
                retry: .init(maxRetries: 0, backoff: .zero, maxBackoff: .zero),
                healthcheck: .init(isEnabled: false, interval: .seconds(60)),
                capabilities: ["json_schema": true]
            ),
            requiresAPIKey: true
        )
    }

    static let model = LLMConfiguration.Model(
        alias: "fake",
        provider: "fake",
        modelName: "fake-model-1",
        temperature: 0.2,
        maxCompletionTokens: 512,
        topP: nil,
        priority: 1,
        costTier: .low,
        inputUSDPerMillionTokens: 0,
        outputUSDPerMillionTokens: 0,
        fallbacks: []
    )

    struct Harness {
        let cycle: DecisionCycle
        let exchange: SimExchange
    }

    static func harness(
        port: Int,
        httpClient: HTTPClient,
        market: FixedMarketProvider = market(),
        gateway: ModelGateway? = nil,
        decisionTimeout: Duration = .seconds(20)
    )
        async throws -> Harness
    {
        let exchange = SimExchange(
            id: "paper",
            ledger: SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2),
            statePath: nil
        )
        try await exchange.openAccount(trader: "llm-1", capital: 10_000)
        try await exchange.updateMarket(prices: ["BTC": 100_000, "ETH": 4_000], funding: [:], now: now)
        let root = TestPaths.packageRoot.path
        let cycle = DecisionCycle(
            pipeline: TraderPipeline(
                renderer: PromptRenderer(
                    trader: trader(),
                    venue: "paper",
                    systemTemplate: try CycleFailureTests.template(.system),
                    userTemplate: try CycleFailureTests.template(.user),
                    decisionSchema: try String(contentsOfFile: "\(root)/schemas/decision.schema.json", encoding: .utf8),
                    intradayInterval: "3m",
                    contextInterval: "4h"
                )
            ),
            market: market,
            maxStaleness: 600_000,
            exchange: exchange,
            model: model,
            gateway: gateway
                ?? .direct(
                    model: model,
                    client: OpenAIChatClient(provider: provider(port: port), httpClient: httpClient),
                    provider: provider(port: port),
                    logger: Logger(label: "test")
                ),
            decisionTimeout: decisionTimeout,
            assets: AssetInfo.catalog,
            logger: Logger(label: "test")
        )
        return Harness(cycle: cycle, exchange: exchange)
    }

    /// The shipped Alpha Arena template of a role.
    static func template(_ role: PromptTemplateFile.Role) throws -> PromptTemplate {
        try PromptTemplate.load(
            id: "alpha-arena-\(role.rawValue)",
            path: TestPaths.packageRoot.appendingPathComponent("prompts/\(role.rawValue)/alpha_arena.mustache").path,
            expectedVersion: "1.0.0"
        )
    }

    static func state() -> TraderState {
        var state = TraderState()
        state.startedAt = now - 3_600_000
        state.inceptionCapital = 10_000
        return state
    }

    static func entry(
        _ symbol: String = "BTC",
        leverage: Int = 5,
        size: Double = 2000,
        stop: Double = 98_000,
        target: Double = 104_000,
        confidence: Double = 0.8
    ) -> String {
        #"{"symbol":"\#(symbol)","signal":"buy_to_enter","leverage":\#(leverage),"position_size_usd":\#(size),"stop_loss":\#(stop),"take_profit":\#(target),"confidence":\#(confidence),"risk_usd":40,"invalidation_condition":"x","reasoning":"y"}"#
    }

    static func answer(_ items: String...) -> String { #"{"decisions":[\#(items.joined(separator: ","))]}"# }

    /// Runs one cycle against the fake model answering `answer`, and checks the fail-closed invariants.
    func runFailing(
        _ answer: FakeModelBehaviour.Answer,
        market: FixedMarketProvider = CycleFailureTests.market(),
        expect reason: ReasonCode,
        inVerdicts: Bool = false,
        decisionTimeout: Duration = .seconds(20),
        prepare: @Sendable (SimExchange) async throws -> Void = { _ in },
        intentLog: DecisionCycle.IntentLog? = nil
    ) async throws {
        let behaviour = FakeModelBehaviour(answer)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await FakeModelServer.makeApplication(behaviour).test(.live) { client in
                let port = try #require(client.port)
                let harness = try await Self.harness(
                    port: port,
                    httpClient: httpClient,
                    market: market,
                    decisionTimeout: decisionTimeout
                )
                try await prepare(harness.exchange)
                let before = try await harness.exchange.account(trader: "llm-1")
                let clock = ManualClock(now: Self.now)
                let record = await harness.cycle.run(
                    cycle: 1,
                    now: Self.now,
                    state: Self.state(),
                    clock: clock,
                    intentLog: intentLog
                )
                #expect(record.orders.isEmpty, "orders: \(record.orders)")
                #expect(record.results.isEmpty)
                let after = try await harness.exchange.account(trader: "llm-1")
                #expect(after == before)
                #expect(await harness.exchange.state.results.keys.allSatisfy { $0.hasPrefix("setup-") })
                if inVerdicts {
                    #expect(record.outcome == .completed)
                    #expect(record.verdicts.allSatisfy { !$0.isAccepted })
                    #expect(record.verdicts.contains { $0.reasons.contains(reason) }, "\(record.verdicts)")
                } else {
                    #expect(record.outcome == .failedClosed)
                    #expect(record.reason == reason, "\(String(describing: record.reason)): \(record.error ?? "")")
                    #expect(record.decisions.isEmpty || reason != .llmOutputInvalid)
                }
                // The key is sent to the model and appears nowhere in what the engine records.
                let encoded = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
                #expect(!encoded.contains("sk-test-never-logged"))
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    @Test func modelTimeout_holdsEverything() async throws {
        // The one test about slowness: the model takes 3 s, the cycle allows 0.8 s.
        try await runFailing(
            .delay(.seconds(3), then: Self.answer(Self.entry())),
            expect: .llmUnavailable,
            decisionTimeout: .milliseconds(800)
        )
    }

    @Test func orderIntentsThatCannotBeJournaled_holdEverything() async throws {
        // A valid entry, accepted by risk, but the disk refuses its write-ahead: nothing may be sent.
        final class Attempts: Sendable { let count = Mutex(0) }
        let attempts = Attempts()
        try await runFailing(
            .content(Self.answer(Self.entry())),
            expect: .journalUnavailable,
            intentLog: { intent in
                attempts.count.withLock { $0 += 1 }
                #expect(intent.orders.count == 3, "entry, stop and target journaled together")
                throw POSIXError(.ENOSPC)
            }
        )
        #expect(attempts.count.withLock { $0 } == 1)
    }

    @Test func http500_holdsEverything() async throws {
        try await runFailing(.status(500, #"{"error":"overloaded"}"#), expect: .llmUnavailable)
    }

    @Test func nonJSONBody_holdsEverything() async throws {
        try await runFailing(.rawBody("<html>gateway</html>"), expect: .llmUnavailable)
    }

    @Test func answerWithoutJSON_holdsEverything() async throws {
        try await runFailing(.content("I would buy some bitcoin, probably."), expect: .llmOutputInvalid)
    }

    @Test func truncatedJSON_holdsEverything() async throws {
        try await runFailing(.content(#"{"decisions":[{"symbol":"BTC","signal":"buy_to_en"#), expect: .llmOutputInvalid)
    }

    @Test func schemaBreakingJSON_holdsEverything() async throws {
        try await runFailing(
            .content(#"{"decisions":[{"symbol":"BTC","signal":"moon","confidence":2}]}"#),
            expect: .llmOutputInvalid
        )
    }

    @Test func oneInvalidDecision_letsNoDecisionThrough() async throws {
        let bad = #"{"symbol":"ETH","signal":"sell_to_enter","confidence":0.9}"#
        try await runFailing(.content(Self.answer(Self.entry(), bad)), expect: .llmOutputInvalid)
    }

    @Test func unknownSymbol_isRejected() async throws {
        try await runFailing(
            .content(Self.answer(Self.entry("DOGE", stop: 0.09, target: 0.2))),
            expect: .unknownSymbol,
            inVerdicts: true
        )
    }

    @Test func leverageOverTheCap_isRejected() async throws {
        try await runFailing(
            .content(Self.answer(Self.entry(leverage: 20))),
            expect: .leverageAboveCap,
            inVerdicts: true
        )
    }

    @Test func stopOnTheWrongSide_isRejected() async throws {
        try await runFailing(
            .content(Self.answer(Self.entry(stop: 101_000))),
            expect: .stopLossInvalid,
            inVerdicts: true
        )
    }

    @Test func sizeOverTheMaximum_isRejected() async throws {
        try await runFailing(
            .content(Self.answer(Self.entry(size: 6000))),
            expect: .positionSizeAboveMax,
            inVerdicts: true
        )
    }

    @Test func marginOverTheMaximum_isRejected() async throws {
        // An open ETH position already uses 30 % of equity; 2500 more at 1× would make 55 % > 50 %.
        let btc = Self.entry(leverage: 1, size: 2500, stop: 99_000, target: 102_000)
        try await runFailing(.content(Self.answer(btc)), expect: .marginUsageAboveMax, inVerdicts: true) { exchange in
            let order = OrderRequest(
                cloid: "setup-eth",
                trader: "llm-1",
                symbol: "ETH",
                isBuy: true,
                size: 0.75,
                kind: .marketIOC,
                limitPrice: nil,
                triggerPrice: nil,
                slippageBps: 0,
                isReduceOnly: false,
                leverage: 1,
                plan: nil
            )
            _ = try await exchange.submit([order])
        }
    }

    @Test func staleMarketData_holdsEverything() async throws {
        try await runFailing(
            .content(Self.answer(Self.entry())),
            market: Self.market(asOf: Self.now - 3_600_000),
            expect: .staleMarketData
        )
    }

    @Test func missingMarketData_holdsEverything() async throws {
        try await runFailing(
            .content(Self.answer(Self.entry())),
            market: Self.market(symbols: ["BTC"]),
            expect: .staleMarketData
        )
    }

    @Test func goodAnswer_placesEntryStopAndTarget_andTheFakeSawTheSchema() async throws {
        let behaviour = FakeModelBehaviour(.content("Sure:\n```json\n\(Self.answer(Self.entry()))\n```"))
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await FakeModelServer.makeApplication(behaviour).test(.live) { client in
                let harness = try await Self.harness(port: try #require(client.port), httpClient: httpClient)
                let record = await harness.cycle.run(
                    cycle: 7,
                    now: Self.now,
                    state: Self.state(),
                    clock: ManualClock(now: Self.now)
                )
                #expect(record.outcome == .completed)
                #expect(record.results.map(\.status) == [.filled, .resting, .resting])
                #expect(record.promptTokens == 1234)
                #expect(record.modelAnswered == "fake")
                #expect(record.providerModel == "fake-model-1")
                #expect(
                    record.orders.first?.cloid
                        == OrderPlanner.cloid(trader: "llm-1", cycle: 7, symbol: "BTC", leg: "entry")
                )
                let account = try await harness.exchange.account(trader: "llm-1")
                #expect(abs((account.positions["BTC"]?.quantity ?? 0) - 0.02) < 1e-12)
                let sent = try #require(behaviour.receivedBodies.first)
                #expect(sent.contains("\"response_format\""))
                #expect(sent.contains("buy_to_enter"))
                #expect(record.userPrompt?.contains("ALL BTC DATA") == true)
                #expect(record.promptDigest?.count == 64)
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }
}
