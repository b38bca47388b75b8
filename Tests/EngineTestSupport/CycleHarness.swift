import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArenaTestSupport
import AsyncHTTPClient
import Foundation
import Logging
import Shared

/// A market that always shows the same snapshot (a seam for the loop tests).
package struct FixedMarketProvider: MarketProvider {
    package let id: String
    package let symbols: [String]
    package let snapshot: MarketSnapshot

    package init(id: String = "fixed", symbols: [String], snapshot: MarketSnapshot) {
        self.id = id
        self.symbols = symbols
        self.snapshot = snapshot
    }

    package func snapshot(symbols requested: [String], now: Int64) async throws -> MarketSnapshot {
        MarketSnapshot(takenAt: now, symbols: snapshot.symbols.filter { requested.contains($0.key) })
    }
}

/// One trader's decision cycle on the real paper exchange, with its model behind a real HTTP client (point it at a
/// `FakeModelServer`), the shipped Alpha Arena templates and a fixed market: the harness the cycle, gateway,
/// manager and venue tests share, with the values they build on (the trader, its limits, the model, answers).
package enum CycleHarness {
    package static let now: Int64 = 1_752_600_000_000
    package static let symbols = ["BTC", "ETH"]

    package static func symbolSnapshot(_ symbol: String, price: Double, asOf: Int64) -> SymbolSnapshot {
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

    package static func market(asOf: Int64 = now, symbols: [String] = symbols) -> FixedMarketProvider {
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

    package static let limits = RiskParameters(
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

    /// The trader the harness runs (`llm-1`, 30 % of the capital); other ids for tests that run several.
    package static func trader(
        id: String = "llm-1",
        name: String = "LLM one",
        allocationPct: Double = 30,
        keyPath: String = "traders[0]"
    ) -> TraderConfiguration {
        TraderConfiguration(
            id: id,
            name: name,
            exchangeProvider: "paper",
            marketProvider: "fixed",
            orderStyle: .marketIOC,
            marketIOCSlippageBps: 50,
            promptTemplate: "alpha-arena-system",
            executorPromptTemplate: "alpha-arena-user",
            model: "fake",
            fallbackModels: [],
            decisionInterval: .seconds(180),
            allocationPct: allocationPct,
            autoStart: true,
            symbols: symbols,
            riskParams: limits,
            disabledReason: nil,
            keyPath: keyPath
        )
    }

    package static func provider(port: Int) -> LLMConfiguration.Provider {
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

    package static let model = LLMConfiguration.Model(
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

    package struct Harness {
        package let cycle: DecisionCycle
        package let exchange: SimExchange
    }

    package static func make(
        port: Int,
        httpClient: HTTPClient,
        market: FixedMarketProvider = market(),
        gateway: ModelGateway? = nil,
        decisionTimeout: Duration = .seconds(20),
        model: LLMConfiguration.Model = CycleHarness.model
    )
        async throws -> Harness
    {
        let exchange = SimExchange(
            id: "paper",
            ledger: SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2),
            statePath: nil
        )
        try exchange.openAccount(trader: "llm-1", capital: 10_000)
        try exchange.updateMarket(prices: ["BTC": 100_000, "ETH": 4_000], funding: [:], now: now)
        let root = TestPaths.packageRoot.path
        let cycle = DecisionCycle(
            pipeline: TraderPipeline(
                renderer: try renderer(
                    trader: trader(),
                    decisionSchema: try String(contentsOfFile: "\(root)/schemas/decision.schema.json", encoding: .utf8)
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

    /// The shipped Alpha Arena template of a role (its current version, or the file of an older `version`).
    package static func template(_ role: PromptTemplateFile.Role, version: String? = nil) throws -> PromptTemplate {
        let name = version.map { "alpha_arena-\($0)" } ?? "alpha_arena"
        let path = TestPaths.packageRoot.appendingPathComponent("prompts/\(role.rawValue)/\(name).mustache").path
        return try PromptTemplate.load(
            id: "alpha-arena-\(role.rawValue)",
            path: path,
            expectedVersion: try PromptTemplateFile.load(path: path).version
        )
    }

    /// A renderer of the shipped templates for `trader`, with the default memory depth when the user template
    /// reads memory variables (as `TraderPipeline.make` gives it).
    package static func renderer(
        trader: TraderConfiguration,
        decisionSchema: String,
        userTemplateVersion: String? = nil
    ) throws -> PromptRenderer {
        let user = try template(.user, version: userTemplateVersion)
        return PromptRenderer(
            trader: trader,
            venue: "paper",
            systemTemplate: try template(.system),
            userTemplate: user,
            decisionSchema: decisionSchema,
            intradayInterval: "3m",
            contextInterval: "4h",
            memoryDepth: user.readsAny(of: PromptContext.memoryVariables) ? .init() : nil
        )
    }

    package static func state() -> TraderState {
        var state = TraderState()
        state.startedAt = now - 3_600_000
        state.inceptionCapital = 10_000
        return state
    }

    package static func entry(
        _ symbol: String = "BTC",
        leverage: Int = 5,
        size: Double = 2000,
        stop: Double = 98_000,
        target: Double = 104_000,
        confidence: Double = 0.8
    ) -> String {
        #"{"symbol":"\#(symbol)","signal":"buy_to_enter","leverage":\#(leverage),"position_size_usd":\#(size),"stop_loss":\#(stop),"take_profit":\#(target),"confidence":\#(confidence),"risk_usd":40,"invalidation_condition":"x","reasoning":"y"}"#
    }

    package static func answer(_ items: String...) -> String { #"{"decisions":[\#(items.joined(separator: ","))]}"# }
}
