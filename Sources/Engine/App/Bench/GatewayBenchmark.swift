import ArenaAdapters
import ArenaCore
import ArenaRuntime
import Foundation
import Logging
import Shared

/// What the model gateway costs on top of the model: the router, the budget (admit and settle) and the digest
/// cache (key, lookup, store) around an in-process model that answers at once, against calling that model
/// directly; and the cache hit rate when a recorded run is replayed against a model twice.
struct GatewayBenchmark {
    let configuration: ArenaConfiguration
    let calls: Int

    struct Result: Sendable {
        var directMedianMicroseconds: Double
        var gatewayMedianMicroseconds: Double
        var hitMedianMicroseconds: Double
        var replayedCycles: Int
        var firstPassHitRatePct: Double
        var secondPassHitRatePct: Double
    }

    /// An in-process "remote" model: it answers hold at once, with a usage block, like a provider would.
    struct HoldModel: LLMClient {
        func complete(_ request: LLMRequest) async throws(LLMError) -> LLMResponse {
            LLMResponse(
                text: #"{"decisions":[]}"#,
                modelName: "bench-model",
                promptTokens: 1500,
                completionTokens: 40,
                latencyMilliseconds: 0
            )
        }
    }

    func run() async throws -> Result {
        let directory = NSTemporaryDirectory() + "arena-gateway-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "bench")
        logger.logLevel = .critical

        let provider = LLMConfiguration.Provider(
            id: "bench",
            kind: .openai,
            baseURL: "http://127.0.0.1:9/v1",
            apiKey: Secret("unused"),
            policy: ProviderPolicy(
                timeout: .seconds(10),
                retry: .init(maxRetries: 0, backoff: .zero, maxBackoff: .zero),
                healthcheck: .init(isEnabled: false, interval: .seconds(60)),
                capabilities: ["json_object": true]
            ),
            requiresAPIKey: false
        )
        let model = LLMConfiguration.Model(
            alias: "bench-model",
            provider: "bench",
            modelName: "bench-model",
            temperature: 0.2,
            maxCompletionTokens: 512,
            topP: nil,
            priority: 1,
            costTier: .low,
            inputUSDPerMillionTokens: 0.27,
            outputUSDPerMillionTokens: 1.1,
            fallbacks: []
        )
        func gateway(cachePath: String?) async throws -> ModelGateway {
            let wall = WallClock()
            let router = ModelRouter(routing: configuration.llm.routing, models: ["bench-model": model])
            router.register(trader: "bench", chain: ["bench-model"])
            return ModelGateway(
                models: ["bench-model": model],
                providers: ["bench": provider],
                clients: ["bench-model": HoldModel()],
                router: router,
                budget: try BudgetGuard(
                    limits: .init(
                        dailyTokenLimit: nil,
                        dailyUSDLimit: 1_000_000,
                        alertThresholdPct: 80,
                        statePath: directory + "/budget.json"
                    ),
                    path: nil,
                    clock: wall
                ),
                cache: try DigestCache(
                    configuration: .init(
                        isEnabled: true,
                        ttl: .seconds(86_400),
                        maxEntries: 1_000_000,
                        path: cachePath
                    ),
                    clock: wall
                ),
                timer: wall,
                metrics: EngineMetrics(),
                alerts: LoggingAlertSink(logger: logger, metrics: nil),
                logger: logger
            )
        }

        // A recorded run: a backtest of the shipped baselines over the bundled candles.
        let recorded = directory + "/recorded"
        var backtestBase = configuration
        backtestBase.llm.budget = .init(
            dailyTokenLimit: nil,
            dailyUSDLimit: nil,
            alertThresholdPct: 80,
            statePath: directory + "/llm-budget.json"
        )
        var options = Backtest.Options(
            from: nil,
            to: nil,
            symbols: nil,
            dataDirectory: nil,
            intradayInterval: nil,
            traders: nil,
            output: recorded
        )
        // The prompts a model would be sent: a baseline's backtest renders none unless asked.
        options.recordsPrompts = true
        _ = try await Backtest.run(base: backtestBase, options: options, logger: logger)
        let journal = JournalDirectory(root: recorded + "/journal")
        let backtestConfiguration = try Backtest.configuration(backtestBase, options: options)
        // 1. Overhead per call: distinct prompts (every call a miss, booked and stored) and repeated ones (hits).
        guard let trader = journal.traders().first,
            let sample = try JournalReplay.records(journal: journal, trader: trader).first,
            let system = sample.systemPrompt, let user = sample.userPrompt, let market = sample.market,
            let account = sample.account
        else {
            throw Backtest.Failure(description: "the recorded run has no cycle with prompts")
        }
        let fixed = LLMRequest(
            model: model,
            messages: [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: user)],
            responseSchema: nil,
            timeout: .seconds(10),
            input: DecisionInput(
                traderID: trader,
                symbols: Array(market.symbols.keys.sorted()),
                market: market,
                account: account,
                limits: RiskLimitsSummary(configuration.traders[0].riskParams)
            )
        )
        let lane = ModelGateway.Lane(trader: "bench", traderUSDLimit: 1_000_000)
        let direct = HoldModel()
        let subject = try await gateway(cachePath: nil)
        var directTimes: [Double] = []
        var gatewayTimes: [Double] = []
        var hitTimes: [Double] = []
        for index in 0..<calls {
            var request = fixed
            request.messages[1].content += "\n#\(index)"
            var started = ContinuousClock.now
            _ = try await direct.complete(request)
            directTimes.append((ContinuousClock.now - started).microseconds)
            started = ContinuousClock.now
            _ = await subject.call(lane, request: request, deadline: subject.timer.now() + 10_000)
            gatewayTimes.append((ContinuousClock.now - started).microseconds)
            started = ContinuousClock.now
            _ = await subject.call(lane, request: request, deadline: subject.timer.now() + 10_000)
            hitTimes.append((ContinuousClock.now - started).microseconds)
        }

        // 2. The recorded run replayed against the model twice, through a persisted cache.
        let cacheFile = directory + "/replay-cache.jsonl"
        var rates: [Double] = []
        var replayed = 0
        for _ in 0..<2 {
            let runner = Counterfactual(
                configuration: backtestConfiguration,
                gateway: try await gateway(cachePath: cacheFile),
                replay: JournalReplay(configuration: backtestConfiguration, templatesDirectory: nil),
                alias: "bench-model",
                schema: "{}",
                rerender: false
            )
            var hits = 0
            var asked = 0
            for trader in journal.traders() {
                let summary = try await runner.run(
                    trader: trader,
                    records: try JournalReplay.records(journal: journal, trader: trader)
                )
                hits += summary.cacheHits
                asked += summary.cycles.count
            }
            replayed = asked
            rates.append(asked > 0 ? Double(hits) / Double(asked) * 100 : 0)
        }
        return Result(
            directMedianMicroseconds: Self.median(directTimes),
            gatewayMedianMicroseconds: Self.median(gatewayTimes),
            hitMedianMicroseconds: Self.median(hitTimes),
            replayedCycles: replayed,
            firstPassHitRatePct: rates.first ?? 0,
            secondPassHitRatePct: rates.last ?? 0
        )
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
