import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

/// A clock whose `sleep` jumps straight to the deadline and remembers how long each wait was: retry timing is
/// checked exactly, without waiting.
final class SteppingClock: ArenaClock {
    private let state: Mutex<(now: Int64, waits: [Int64])>

    init(now: Int64) { state = Mutex((now, [])) }

    func now() -> Int64 { state.withLock { $0.now } }
    var waits: [Int64] { state.withLock { $0.waits } }
    func advance(byMilliseconds delta: Int64) { state.withLock { $0.now += delta } }

    func sleep(until deadline: Int64) async throws {
        state.withLock {
            $0.waits.append(deadline - $0.now)
            $0.now = max($0.now, deadline)
        }
    }
}

/// Fake model servers (real HTTP on loopback) behind a real gateway: OpenAI and Anthropic shapes, retries,
/// failover, budget, cache.
enum GatewayFixture {
    static let start: Int64 = 1_763_769_600_000  // 2025-11-22T00:00:00Z

    static func provider(
        _ id: String,
        port: Int,
        kind: LLMConfiguration.ProviderKind = .openai,
        retries: Int = 0,
        backoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(20),
        timeout: Duration = .seconds(10)
    ) -> LLMConfiguration.Provider {
        LLMConfiguration.Provider(
            id: id,
            kind: kind,
            baseURL: "http://127.0.0.1:\(port)/v1",
            apiKey: Secret("sk-\(id)-never-logged"),
            policy: ProviderPolicy(
                timeout: timeout,
                retry: .init(maxRetries: retries, backoff: backoff, maxBackoff: maxBackoff),
                healthcheck: .init(isEnabled: false, interval: .seconds(60)),
                capabilities: ["json_schema": true]
            ),
            requiresAPIKey: true
        )
    }

    static func model(
        _ alias: String,
        provider: String,
        input: Double = 1,
        output: Double = 2,
        maxTokens: Int = 500,
        priority: Int = 1
    ) -> LLMConfiguration.Model {
        LLMConfiguration.Model(
            alias: alias,
            provider: provider,
            modelName: "\(alias)-name",
            temperature: 0.2,
            maxCompletionTokens: maxTokens,
            topP: nil,
            priority: priority,
            costTier: .low,
            inputUSDPerMillionTokens: input,
            outputUSDPerMillionTokens: output,
            fallbacks: []
        )
    }

    static let routing = LLMConfiguration.Routing(
        failoverAfter: 2,
        recoveryProbeInterval: .seconds(600),
        successWindow: .seconds(3600),
        recoverySuccessRatePct: 99
    )

    static func budget(
        tokens: Int? = nil,
        usd: Double? = nil,
        alertPct: Double = 80,
        path: String = ""
    )
        -> LLMConfiguration.Budget
    {
        LLMConfiguration.Budget(
            dailyTokenLimit: tokens,
            dailyUSDLimit: usd,
            alertThresholdPct: alertPct,
            statePath: path
        )
    }

    /// A gateway over `models` (alias → (model, provider)) with chains per trader.
    static func gateway(
        models: [(LLMConfiguration.Model, LLMConfiguration.Provider)],
        chains: [String: [String]],
        httpClient: HTTPClient,
        clock: SteppingClock,
        budget: BudgetGuard? = nil,
        cache: DigestCache? = nil,
        metrics: EngineMetrics? = nil,
        routing: LLMConfiguration.Routing = routing
    ) async throws -> ModelGateway {
        var clients: [String: any LLMClient] = [:]
        for (model, provider) in models {
            clients[model.alias] = try EngineAssembly.makeClient(
                model: model,
                provider: provider,
                httpClient: httpClient
            )
        }
        let modelTable = Dictionary(uniqueKeysWithValues: models.map { ($0.0.alias, $0.0) })
        let router = ModelRouter(routing: routing, models: modelTable)
        for (trader, chain) in chains { router.register(trader: trader, chain: chain) }
        return ModelGateway(
            models: modelTable,
            providers: Dictionary(models.map { ($0.1.id, $0.1) }, uniquingKeysWith: { first, _ in first }),
            clients: clients,
            router: router,
            budget: budget,
            cache: cache,
            timer: clock,
            metrics: metrics,
            alerts: LoggingAlertSink(logger: Logger(label: "test"), metrics: metrics),
            logger: Logger(label: "test"),
            jitter: { 1 }
        )
    }

    static func request(_ model: LLMConfiguration.Model, user: String = "What now?") -> LLMRequest {
        let market = CycleHarness.market().snapshot
        return LLMRequest(
            model: model,
            messages: [ChatMessage(role: "system", content: "You trade."), ChatMessage(role: "user", content: user)],
            responseSchema: #"{"type":"object"}"#,
            timeout: .seconds(30),
            input: DecisionInput(
                traderID: "t1",
                symbols: ["BTC"],
                market: market,
                account: TraderAccount(cash: 1000, positions: [:], realizedPnL: 0, feesPaid: 0),
                limits: RiskLimitsSummary(CycleHarness.limits)
            )
        )
    }

    static func scratch(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "arena-gateway-\(name)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `body` with live fake servers, one per behaviour, and a shared HTTP client.
    static func withServers(
        _ behaviours: [FakeModelBehaviour],
        _ body: @Sendable ([Int], HTTPClient) async throws -> Void
    ) async throws {
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await serve(behaviours[...], ports: []) { ports in try await body(ports, httpClient) }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    private static func serve(
        _ behaviours: ArraySlice<FakeModelBehaviour>,
        ports: [Int],
        _ body: @Sendable ([Int]) async throws -> Void
    ) async throws {
        guard let first = behaviours.first else { return try await body(ports) }
        try await FakeModelServer.makeApplication(first).test(.live) { client in
            let port = try #require(client.port)
            try await serve(behaviours.dropFirst(), ports: ports + [port], body)
        }
    }
}

@Suite("Model gateway: retries, failover, budget, cache", .serialized)
struct ModelGatewayTests {
    typealias F = GatewayFixture
    let lane = ModelGateway.Lane(trader: "t1", traderUSDLimit: nil)

    /// The budget's day is the UTC day: spending at 23:59:59.999 is yesterday's a millisecond later, also when
    /// the clock is read between calls within the same day.
    @Test func budget_startsANewDayAtUTCMidnight_toTheMillisecond() async throws {
        let midnight: Int64 = 1_752_624_000_000  // 2025-07-16T00:00:00Z
        let clock = ManualClock(now: midnight - 60_000)
        let budget = try BudgetGuard(limits: F.budget(usd: 1), path: nil, clock: clock)
        func spend(_ usd: Double) async throws {
            guard
                case .success(let reservation) = budget.admit(
                    trader: "t",
                    traderUSDLimit: nil,
                    tokens: 10,
                    usd: usd
                )
            else {
                Issue.record("refused at \(clock.now())")
                return
            }
            try budget.settle(reservation, tokens: 10, usd: usd, traderUSDLimit: nil)
        }
        try await spend(0.5)
        clock.set(midnight - 1)
        try await spend(0.25)
        #expect(budget.ledger.day == "2025-07-15")
        #expect(abs(budget.ledger.total.usd - 0.75) < 1e-9)
        clock.set(midnight)
        #expect(budget.usedPct(trader: "t", traderUSDLimit: nil) == 0)
        #expect(budget.ledger.day == "2025-07-16")
        try await spend(0.9)
        clock.set(midnight + 86_400_000 - 1)
        #expect(budget.usedPct(trader: "t", traderUSDLimit: nil) > 89)
        // Back before midnight (a replay clock set again): the day follows the clock, as it did before.
        clock.set(midnight - 1)
        #expect(budget.usedPct(trader: "t", traderUSDLimit: nil) == 0)
        #expect(budget.ledger.day == "2025-07-15")
    }

    @Test func retries_waitTheBackoff_honourRetryAfter_andStopAtTheLimit() async throws {
        let behaviour = FakeModelBehaviour(
            .content(#"{"decisions":[]}"#),
            script: [.retryAfter(429, "3"), .status(503, "{}"), .status(502, "{}")]
        )
        try await F.withServers([behaviour]) { ports, httpClient in
            let provider = F.provider("p", port: ports[0], retries: 3, backoff: .seconds(1), maxBackoff: .seconds(20))
            let model = F.model("m", provider: "p")
            let clock = SteppingClock(now: F.start)
            let gateway = try await F.gateway(
                models: [(model, provider)],
                chains: ["t1": ["m"]],
                httpClient: httpClient,
                clock: clock
            )
            let call = await gateway.call(lane, request: F.request(model), deadline: F.start + 60_000)
            #expect(call.answer?.response.text == #"{"decisions":[]}"#)
            #expect(call.attempts.map(\.outcome) == ["http_429", "http_503", "http_502", "ok"])
            // 1 s · 2⁰ but Retry-After says 3 s; then 2 s; then 4 s (jitter pinned at 1).
            #expect(clock.waits == [3000, 2000, 4000])
            #expect(behaviour.receivedBodies.count == 4)
        }
    }

    @Test func retries_stopAtMaxRetries_andNeverRetryA400() async throws {
        let failing = FakeModelBehaviour(.status(500, #"{"error":"down"}"#))
        let refusing = FakeModelBehaviour(.status(400, #"{"error":"bad request"}"#))
        try await F.withServers([failing, refusing]) { ports, httpClient in
            let clock = SteppingClock(now: F.start)
            let a = F.model("a", provider: "pa")
            let b = F.model("b", provider: "pb")
            let gateway = try await F.gateway(
                models: [
                    (a, F.provider("pa", port: ports[0], retries: 2)),
                    (b, F.provider("pb", port: ports[1], retries: 2)),
                ],
                chains: ["t1": ["a"], "t2": ["b"]],
                httpClient: httpClient,
                clock: clock
            )
            let first = await gateway.call(lane, request: F.request(a), deadline: F.start + 60_000)
            #expect(first.answer == nil)
            #expect(first.failure?.reason == .llmUnavailable)
            #expect(failing.receivedBodies.count == 3)
            let second = await gateway.call(
                .init(trader: "t2", traderUSDLimit: nil),
                request: F.request(b),
                deadline: F.start + 60_000
            )
            #expect(second.failure?.reason == .llmUnavailable)
            #expect(refusing.receivedBodies.count == 1)
        }
    }

    @Test func retries_neverSleepOrCallPastTheDeadline() async throws {
        let behaviour = FakeModelBehaviour(.status(500, "{}"))
        let patient = FakeModelBehaviour(.retryAfter(429, "30"))
        try await F.withServers([behaviour, patient]) { ports, httpClient in
            let clock = SteppingClock(now: F.start)
            let a = F.model("a", provider: "pa")
            let b = F.model("b", provider: "pb")
            let gateway = try await F.gateway(
                models: [
                    (a, F.provider("pa", port: ports[0], retries: 10, backoff: .seconds(4))),
                    (b, F.provider("pb", port: ports[1], retries: 10, backoff: .seconds(1))),
                ],
                chains: ["t1": ["a"], "t2": ["b"]],
                httpClient: httpClient,
                clock: clock
            )
            let deadline = F.start + 10_000
            let call = await gateway.call(lane, request: F.request(a), deadline: deadline)
            #expect(call.failure?.reason == .llmUnavailable)
            // Waits of 4 s and 8 s would end at 12 s: only the first is taken.
            #expect(clock.waits == [4000])
            #expect(behaviour.receivedBodies.count == 2)
            #expect(clock.now() <= deadline)

            // Retry-After beyond the deadline: no wait at all.
            let before = clock.waits.count
            let slow = await gateway.call(
                .init(trader: "t2", traderUSDLimit: nil),
                request: F.request(b),
                deadline: clock.now() + 10_000
            )
            #expect(slow.failure?.reason == .llmUnavailable)
            #expect(clock.waits.count == before)
            #expect(patient.receivedBodies.count == 1)
        }
    }

    @Test func failover_afterNFailures_andRecovery_afterTheProbeWindow() async throws {
        let primary = FakeModelBehaviour(.status(500, "{}"))
        let backup = FakeModelBehaviour(.content(#"{"decisions":[]}"#))
        try await F.withServers([primary, backup]) { ports, httpClient in
            let clock = SteppingClock(now: F.start)
            let a = F.model("a", provider: "pa")
            let b = F.model("b", provider: "pb")
            let metrics = EngineMetrics()
            let gateway = try await F.gateway(
                models: [(a, F.provider("pa", port: ports[0])), (b, F.provider("pb", port: ports[1]))],
                chains: ["t1": ["a", "b"]],
                httpClient: httpClient,
                clock: clock,
                metrics: metrics
            )
            func cycle() async -> ModelCall {
                let call = await gateway.call(lane, request: F.request(a), deadline: clock.now() + 30_000)
                clock.advance(byMilliseconds: 180_000)
                return call
            }
            // 1: the primary fails once: not yet a failover, the cycle fails closed.
            let first = await cycle()
            #expect(first.failure?.reason == .llmUnavailable)
            // 2: the second consecutive failure moves the trader to b within the same cycle.
            let second = await cycle()
            #expect(second.answer?.alias == "b")
            #expect(second.answer?.route == .failover)
            #expect(second.attempts.map(\.model) == ["a", "b"])
            // 3: b is in use.
            let third = await cycle()
            #expect(third.asked == "b")
            #expect(third.answer?.route == .fallback)
            #expect(primary.receivedBodies.count == 2)

            // The primary comes back. 10 min after the switch it is probed; it answers, but the window still
            // holds its two failures (1 of 3 succeeded): the trader stays on b.
            primary.set(.content(#"{"decisions":[]}"#))
            clock.advance(byMilliseconds: 600_000)
            let probe = await cycle()
            #expect(probe.answer?.alias == "a")
            #expect(probe.answer?.route == .probe)
            #expect(gateway.router.current(trader: "t1") == "b")
            // Once the failures have left the hour window, the next probe succeeds at 100 % and moves back.
            clock.advance(byMilliseconds: 3_600_000)
            let recovered = await cycle()
            #expect(recovered.answer?.route == .probe)
            #expect(gateway.router.current(trader: "t1") == "a")
            let after = await cycle()
            #expect(after.answer?.route == .primary)
            let text = String(buffer: metrics.exposition())
            #expect(text.contains(#"engine_llm_model_switches_total{reason="failover"} 1"#))
            #expect(text.contains(#"engine_llm_model_switches_total{reason="recovered"} 1"#))
            #expect(text.contains(#"engine_llm_requests_total{model="a",outcome="http_500"} 2"#))
        }
    }

    @Test func budget_refusesTheCallThatWouldCrossTheLimit_andHoldsAcrossARestart() async throws {
        let behaviour = FakeModelBehaviour(.usage(#"{"decisions":[]}"#, prompt: 100_000, completion: 10_000))
        try await F.withServers([behaviour]) { ports, httpClient in
            let directory = F.scratch("budget")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/budget.json"
            let clock = SteppingClock(now: F.start)
            // $1 / M input, $2 / M output: one call costs 0.1 + 0.02 = $0.12; the estimate for the next is tiny.
            let model = F.model("m", provider: "p", maxTokens: 1000)
            let limits = F.budget(usd: 0.121, path: path)
            let budget = try BudgetGuard(limits: limits, path: path, clock: clock)
            let gateway = try await F.gateway(
                models: [(model, F.provider("p", port: ports[0]))],
                chains: ["t1": ["m"]],
                httpClient: httpClient,
                clock: clock,
                budget: budget
            )
            let first = await gateway.call(lane, request: F.request(model), deadline: F.start + 30_000)
            #expect(abs((first.answer?.costUSD ?? 0) - 0.12) < 1e-9)
            // 0.12 spent + the estimate (≈ 22 prompt + 1000 completion tokens ≈ $0.002) > 0.121: not sent.
            let second = await gateway.call(lane, request: F.request(model, user: "again"), deadline: F.start + 30_000)
            #expect(second.failure?.reason == .budgetExhausted)
            #expect(second.attempts.map(\.outcome) == ["budget_exhausted"])
            #expect(behaviour.receivedBodies.count == 1)

            // A restart reads the day's spending back: still refused.
            let restarted = try BudgetGuard(limits: limits, path: path, clock: clock)
            #expect(abs(restarted.ledger.total.usd - 0.12) < 1e-9)
            if case .success = restarted.admit(trader: "t1", traderUSDLimit: nil, tokens: 1030, usd: 0.00203) {
                Issue.record("the restarted budget admitted a call over the limit")
            }
            // The next UTC day starts from zero.
            clock.advance(byMilliseconds: 86_400_000)
            if case .failure(let refusal) = restarted.admit(
                trader: "t1",
                traderUSDLimit: nil,
                tokens: 1030,
                usd: 0.002
            ) {
                Issue.record("a new day was refused: \(refusal)")
            }
        }
    }

    /// An answer whose usage is missing, zero, negative or absurd is booked at the admission estimate (never at
    /// zero), so the daily limit still binds: the second call no longer fits.
    @Test(arguments: ["missing", "zero", "negative", "absurd"])
    func usageTheProviderDidNotReportCredibly_isBookedAtTheEstimate(kind: String) async throws {
        let text = #"{"decisions":[]}"#
        let answer: FakeModelBehaviour.Answer =
            switch kind {
            case "missing":
                .rawBody(
                    FakeModelServer.encode([
                        "id": "x", "model": "fake-model-1",
                        "choices": [["index": 0, "message": ["role": "assistant", "content": text]]],
                    ])
                )
            case "zero": .usage(text, prompt: 0, completion: 0)
            case "negative": .usage(text, prompt: -500, completion: -20)
            default: .usage(text, prompt: 4_000_000_000, completion: 1)
            }
        let behaviour = FakeModelBehaviour(answer)
        try await F.withServers([behaviour]) { ports, httpClient in
            let clock = SteppingClock(now: F.start)
            let model = F.model("m", provider: "p", maxTokens: 1000)
            // The estimate: (19 bytes of messages / 3 + 16) = 22 prompt tokens + 1,000 completion tokens.
            let budget = try BudgetGuard(limits: F.budget(tokens: 1500), path: nil, clock: clock)
            let gateway = try await F.gateway(
                models: [(model, F.provider("p", port: ports[0]))],
                chains: ["t1": ["m"]],
                httpClient: httpClient,
                clock: clock,
                budget: budget
            )
            let first = await gateway.call(lane, request: F.request(model), deadline: F.start + 30_000)
            #expect(first.answer?.response.text == text)
            #expect(first.answer?.response.promptTokens == 22)
            #expect(first.answer?.response.completionTokens == 1000)
            #expect(first.attempts.last?.error?.contains("booked at the estimate") == true)
            #expect(budget.ledger.total.tokens == 1022)
            #expect(
                abs(budget.ledger.total.usd - model.costUSD(promptTokens: 22, completionTokens: 1000)) < 1e-12
            )
            let second = await gateway.call(lane, request: F.request(model), deadline: F.start + 30_000)
            #expect(second.failure?.reason == .budgetExhausted)
            #expect(behaviour.receivedBodies.count == 1)
        }
    }

    @Test func budget_perTraderLimitsAreIndependent_andPressureMovesToACheaperModel() async throws {
        let expensive = FakeModelBehaviour(.usage(#"{"decisions":[]}"#, prompt: 10_000, completion: 1_000))
        let cheap = FakeModelBehaviour(.usage(#"{"decisions":[]}"#, prompt: 10_000, completion: 1_000))
        try await F.withServers([expensive, cheap]) { ports, httpClient in
            let clock = SteppingClock(now: F.start)
            let big = F.model("big", provider: "pa", input: 10, output: 30, maxTokens: 100)
            let small = F.model("small", provider: "pb", input: 0.1, output: 0.2, maxTokens: 100)
            let budget = try BudgetGuard(limits: F.budget(alertPct: 50), path: nil, clock: clock)
            let gateway = try await F.gateway(
                models: [(big, F.provider("pa", port: ports[0])), (small, F.provider("pb", port: ports[1]))],
                chains: ["t1": ["big", "small"], "t2": ["big", "small"]],
                httpClient: httpClient,
                clock: clock,
                budget: budget
            )
            // t1 may spend $0.25 a day; one call of big costs 0.1 + 0.03 = $0.13.
            let t1 = ModelGateway.Lane(trader: "t1", traderUSDLimit: 0.25)
            let t2 = ModelGateway.Lane(trader: "t2", traderUSDLimit: 0.25)
            let first = await gateway.call(t1, request: F.request(big), deadline: F.start + 30_000)
            #expect(first.answer?.alias == "big")
            // 52 % of t1's limit is used: past the 50 % threshold, t1 moves to the cheaper model.
            let second = await gateway.call(t1, request: F.request(big, user: "2"), deadline: F.start + 30_000)
            #expect(second.answer?.alias == "small")
            #expect(second.answer?.route == .budget)
            // t2 has spent nothing: it still uses big.
            let other = await gateway.call(t2, request: F.request(big, user: "3"), deadline: F.start + 30_000)
            #expect(other.answer?.alias == "big")
            #expect(expensive.receivedBodies.count == 2)
            #expect(cheap.receivedBodies.count == 1)
        }
    }

    @Test func paidAnswer_isUsed_evenWhenItsActualCostPassesTheLimit() async throws {
        // The estimate (max 100 completion tokens) fits; the provider then reports far more usage.
        let behaviour = FakeModelBehaviour(.usage(#"{"decisions":[]}"#, prompt: 900_000, completion: 100))
        try await F.withServers([behaviour]) { ports, httpClient in
            let clock = SteppingClock(now: F.start)
            let model = F.model("m", provider: "p", maxTokens: 100)
            let budget = try BudgetGuard(limits: F.budget(usd: 0.01), path: nil, clock: clock)
            let gateway = try await F.gateway(
                models: [(model, F.provider("p", port: ports[0]))],
                chains: ["t1": ["m"]],
                httpClient: httpClient,
                clock: clock,
                budget: budget
            )
            let call = await gateway.call(lane, request: F.request(model), deadline: F.start + 30_000)
            #expect(call.answer?.response.text == #"{"decisions":[]}"#)
            #expect(call.failure == nil)
            #expect(budget.ledger.total.usd > 0.01)
        }
    }

    @Test func cache_hitsCostNothing_andSurviveARestartWhenPersisted() async throws {
        let behaviour = FakeModelBehaviour(.content(#"{"decisions":[]}"#))
        try await F.withServers([behaviour]) { ports, httpClient in
            let directory = F.scratch("cache")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let settings = LLMConfiguration.Cache(
                isEnabled: true,
                ttl: .seconds(3600),
                maxEntries: 2,
                path: directory + "/cache.jsonl"
            )
            let clock = SteppingClock(now: F.start)
            let model = F.model("m", provider: "p")
            let budget = try BudgetGuard(limits: F.budget(usd: 100), path: nil, clock: clock)
            func gateway(_ cache: DigestCache) async throws -> ModelGateway {
                try await F.gateway(
                    models: [(model, F.provider("p", port: ports[0]))],
                    chains: ["t1": ["m"]],
                    httpClient: httpClient,
                    clock: clock,
                    budget: budget,
                    cache: cache
                )
            }
            let first = try await gateway(try DigestCache(configuration: settings, clock: clock))
            let paid = await first.call(lane, request: F.request(model), deadline: F.start + 30_000)
            #expect(paid.answer?.isCacheHit == false)
            let spent = budget.ledger.total
            let hit = await first.call(lane, request: F.request(model), deadline: F.start + 30_000)
            #expect(hit.answer?.isCacheHit == true)
            #expect(hit.answer?.costUSD == 0)
            #expect(hit.attempts.map(\.outcome) == ["cache_hit"])
            #expect(budget.ledger.total == spent)
            #expect(behaviour.receivedBodies.count == 1)

            // A new process reads the file back.
            let second = try await gateway(try DigestCache(configuration: settings, clock: clock))
            let again = await second.call(lane, request: F.request(model), deadline: F.start + 30_000)
            #expect(again.answer?.isCacheHit == true)
            #expect(behaviour.receivedBodies.count == 1)
            // A different message is a different key; past TTL an entry is gone; LRU keeps two.
            _ = await second.call(lane, request: F.request(model, user: "other"), deadline: F.start + 30_000)
            _ = await second.call(lane, request: F.request(model, user: "third"), deadline: F.start + 30_000)
            #expect(behaviour.receivedBodies.count == 3)
            #expect(await second.cache?.count == 2)
            clock.advance(byMilliseconds: 3_600_001)
            let expired = await second.call(
                lane,
                request: F.request(model, user: "third"),
                deadline: clock.now() + 30_000
            )
            #expect(expired.answer?.isCacheHit == false)
            #expect(behaviour.receivedBodies.count == 4)
        }
    }

    @Test func anthropic_speaksTheMessagesAPI_andReadsItsUsage() async throws {
        let behaviour = FakeModelBehaviour(.content(#"{"decisions":[]}"#))
        try await F.withServers([behaviour]) { ports, httpClient in
            let clock = SteppingClock(now: F.start)
            let model = F.model("claude", provider: "anthropic")
            let provider = F.provider("anthropic", port: ports[0], kind: .anthropic)
            let gateway = try await F.gateway(
                models: [(model, provider)],
                chains: ["t1": ["claude"]],
                httpClient: httpClient,
                clock: clock
            )
            let call = await gateway.call(lane, request: F.request(model), deadline: F.start + 30_000)
            let response = try #require(call.answer?.response)
            #expect(response.text == #"{"decisions":[]}"#)
            #expect(response.promptTokens == 1234)
            #expect(response.completionTokens == 56)
            #expect(response.modelName == "fake-claude")
            let headers = try #require(behaviour.receivedHeaders.first)
            #expect(headers["x-api-key"] == "sk-anthropic-never-logged")
            #expect(headers["anthropic-version"] == "2023-06-01")
            let body = try #require(behaviour.receivedBodies.first)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(object["system"] as? String == "You trade.")
            #expect((object["messages"] as? [[String: Any]])?.count == 1)
            #expect(object["max_tokens"] as? Int == 500)
        }
    }

    @Test func hugeBody_isRefused_notBuffered_andNotRetried() async throws {
        let behaviour = FakeModelBehaviour(.huge(BoundedHTTP.maxResponseBytes + 1024))
        try await F.withServers([behaviour]) { ports, httpClient in
            let clock = SteppingClock(now: F.start)
            let model = F.model("m", provider: "p")
            let gateway = try await F.gateway(
                models: [(model, F.provider("p", port: ports[0], retries: 3))],
                chains: ["t1": ["m"]],
                httpClient: httpClient,
                clock: clock
            )
            let call = await gateway.call(lane, request: F.request(model), deadline: F.start + 30_000)
            #expect(call.failure?.reason == .llmUnavailable)
            #expect(call.attempts.map(\.outcome) == ["malformed"])
            #expect(behaviour.receivedBodies.count == 1)
        }
    }

    /// The success rate reads the window's outcomes, the oldest dropped as time passes and at most the newest
    /// `outcomeLimit` kept (a backtest's calls all fall in one window of wall time).
    @Test func primarySuccessRate_followsTheWindow_andTheNewestOutcomes() async {
        let models = ["a": GatewayFixture.model("a", provider: "p"), "b": GatewayFixture.model("b", provider: "p")]
        let router = ModelRouter(routing: GatewayFixture.routing, models: models)
        router.register(trader: "t", chain: ["a", "b"])
        for _ in 0..<10 { _ = router.recordFailure(trader: "t", alias: "a", now: 0) }
        _ = router.recordSuccess(trader: "t", alias: "a", now: 1_000, underBudgetPressure: false)
        #expect(router.primarySuccessRatePct(trader: "t", now: 2_000) < 10)
        // An hour later the failures have left the window.
        #expect(router.primarySuccessRatePct(trader: "t", now: 3_600_500) == 100)
        for _ in 0..<ModelRouter.outcomeLimit {
            _ = router.recordFailure(trader: "t", alias: "a", now: 4_000_000)
        }
        for _ in 0..<ModelRouter.outcomeLimit {
            _ = router.recordSuccess(trader: "t", alias: "a", now: 4_000_000, underBudgetPressure: false)
        }
        #expect(router.primarySuccessRatePct(trader: "t", now: 4_000_001) == 100)
    }

    @Test func retryAfter_parsesSecondsAndHTTPDates() {
        #expect(LLMError.retryAfter("7") == .seconds(7))
        let now = Date(timeIntervalSince1970: 1_763_769_600)
        #expect(LLMError.retryAfter("Sat, 22 Nov 2025 00:00:05 GMT", now: now) == .seconds(5))
        #expect(LLMError.retryAfter("soon") == nil)
        #expect(LLMError.retryAfter(nil) == nil)
    }
}
