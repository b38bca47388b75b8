import ArenaCore
import Foundation
import Logging
import Shared

/// The outcome of asking a trader's model chain once.
package struct ModelCall: Sendable {
    package struct Answer: Sendable {
        package var response: LLMResponse
        /// The alias that answered.
        package var alias: String
        package var route: ModelRouter.Reason
        package var isCacheHit: Bool
        package var costUSD: Double
    }

    package var answer: Answer?
    package var attempts: [LLMAttempt] = []
    /// Set when there is no answer: `LLM_UNAVAILABLE` or `BUDGET_EXHAUSTED`.
    package var failure: (reason: ReasonCode, message: String)?
    /// The first model asked.
    package var asked: String
}

/// Everything between a decision cycle and the model providers (docs/ARCHITECTURE.md, cycle step 4): the router picks the model,
/// the digest cache answers repeats for free, the budget admits the call with an estimate, retries with backoff
/// and jitter run inside the cycle's deadline, a model that keeps failing hands over to the next in the chain,
/// and the actual usage is booked. A paid answer is always returned, whatever the budget says afterwards.
package final class ModelGateway: Sendable {
    package struct Lane: Sendable {
        package let trader: String
        package let traderUSDLimit: Double?

        package init(trader: String, traderUSDLimit: Double?) {
            self.trader = trader
            self.traderUSDLimit = traderUSDLimit
        }
    }

    package let models: [String: LLMConfiguration.Model]
    package let providers: [String: LLMConfiguration.Provider]
    package let clients: [String: any LLMClient]
    package let router: ModelRouter
    package let budget: BudgetGuard?
    package let cache: DigestCache?
    /// Wall time for deadlines, backoff and the budget day (a replayed cycle still waits for a real model).
    package let timer: any ArenaClock
    package let metrics: EngineMetrics?
    package let alerts: any AlertSink
    package let logger: Logger
    /// 0…1, for backoff jitter; injectable so tests see exact waits.
    package let jitter: @Sendable () -> Double

    package init(
        models: [String: LLMConfiguration.Model],
        providers: [String: LLMConfiguration.Provider],
        clients: [String: any LLMClient],
        router: ModelRouter,
        budget: BudgetGuard?,
        cache: DigestCache?,
        timer: any ArenaClock,
        metrics: EngineMetrics?,
        alerts: any AlertSink,
        logger: Logger,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.models = models
        self.providers = providers
        self.clients = clients
        self.router = router
        self.budget = budget
        self.cache = cache
        self.timer = timer
        self.metrics = metrics
        self.alerts = alerts
        self.logger = logger
        self.jitter = jitter
    }

    /// Whether calls to `alias` leave the process (and so cost money, need the cache and the budget).
    package func isRemote(_ alias: String) -> Bool {
        if let consensus = models[alias]?.consensus { return consensus.members.contains(where: isRemote) }
        guard let model = models[alias], let provider = providers[model.provider] else { return false }
        return provider.kind != .baseline
    }

    /// Asks the trader's routed model (or `pinned`, bypassing the router: a correction, a counterfactual) and walks the chain on repeated failure,
    /// all before `deadline` (timer milliseconds).
    package func call(
        _ lane: Lane,
        request prototype: LLMRequest,
        deadline: Int64,
        pinned: String? = nil,
        pinnedReason: ModelRouter.Reason = .correction
    ) async -> ModelCall {
        var selection: ModelRouter.Selection
        if let pinned {
            selection = .init(alias: pinned, reason: pinnedReason)
        } else {
            let pressure =
                budget?.isUnderPressure(trader: lane.trader, traderUSDLimit: lane.traderUSDLimit) ?? false
            let (chosen, change) = router.select(
                trader: lane.trader,
                now: timer.now(),
                underBudgetPressure: pressure
            )
            // A trader the router does not know asks the model of its request.
            selection = chosen.alias.isEmpty ? .init(alias: prototype.model.alias, reason: .primary) : chosen
            if let change { await announce(change, kind: "budget") }
        }
        var call = ModelCall(asked: selection.alias)
        while true {
            let outcome = await ask(
                selection,
                lane: lane,
                prototype: prototype,
                deadline: deadline,
                isRouted: pinned == nil,
                call: &call
            )
            switch outcome {
            case .answered, .refused:
                return call
            case .failed(let message):
                let change =
                    pinned == nil
                    ? router.recordFailure(trader: lane.trader, alias: selection.alias, now: timer.now()) : nil
                if let change {
                    await announce(change, kind: "failover")
                    if timer.now() < deadline {
                        selection = .init(alias: change.to, reason: .failover)
                        continue
                    }
                }
                call.failure = (.llmUnavailable, message)
                return call
            }
        }
    }

    private enum Outcome {
        case answered
        case refused
        case failed(String)
    }

    private func ask(
        _ selection: ModelRouter.Selection,
        lane: Lane,
        prototype: LLMRequest,
        deadline: Int64,
        isRouted: Bool,
        call: inout ModelCall
    ) async -> Outcome {
        guard let model = models[selection.alias], let client = clients[selection.alias],
            let provider = providers[model.provider]
        else {
            call.attempts.append(.init(model: selection.alias, route: selection.reason, outcome: "unconfigured"))
            return .failed("model '\(selection.alias)' is not configured")
        }
        var request = prototype
        request.model = model
        let remote = provider.kind != .baseline

        // The digest cache: a hit costs nothing.
        var cacheKey: String?
        if remote, let cache {
            let format = request.responseSchema.map { provider.policy.supports("json_schema") ? $0 : "json" } ?? "text"
            let key = DigestCache.key(
                provider: provider.id,
                model: model,
                responseFormat: format,
                messages: request.messages
            )
            cacheKey = key
            if let entry = await cache.lookup(key) {
                call.attempts.append(.init(model: model.alias, route: selection.reason, outcome: "cache_hit"))
                metrics?.recordLLMRequest(
                    model: model.alias,
                    outcome: "cache_hit",
                    latency: nil,
                    promptTokens: 0,
                    completionTokens: 0,
                    costUSD: 0
                )
                call.answer = .init(
                    response: LLMResponse(
                        text: entry.text,
                        modelName: entry.modelName,
                        promptTokens: 0,
                        completionTokens: 0,
                        latencyMilliseconds: 0
                    ),
                    alias: model.alias,
                    route: selection.reason,
                    isCacheHit: true,
                    costUSD: 0
                )
                return .answered
            }
        }

        // The budget: admitted with an estimate, or not sent at all.
        let promptEstimate = request.messages.reduce(0) { $0 + $1.content.utf8.count } / 3 + 16
        var reservation: BudgetGuard.Reservation?
        if remote, let budget {
            let tokens = promptEstimate + model.maxCompletionTokens
            let usd = model.costUSD(promptTokens: promptEstimate, completionTokens: model.maxCompletionTokens)
            switch budget.admit(
                trader: lane.trader,
                traderUSDLimit: lane.traderUSDLimit,
                tokens: tokens,
                usd: usd
            ) {
            case .success(let admitted):
                reservation = admitted
            case .failure(let refusal):
                call.attempts.append(
                    .init(
                        model: model.alias,
                        route: selection.reason,
                        outcome: "budget_exhausted",
                        error: refusal.description
                    )
                )
                metrics?.recordLLMRequest(
                    model: model.alias,
                    outcome: "budget_exhausted",
                    latency: nil,
                    promptTokens: 0,
                    completionTokens: 0,
                    costUSD: 0
                )
                for alert in (try? budget.refused(trader: lane.trader)) ?? [] {
                    await alerts.raise(key: alert.key, message: alert.message)
                }
                call.failure = (.budgetExhausted, refusal.description)
                return .refused
            }
        }

        // The call, with retries inside the deadline.
        let result = await callWithRetries(
            client,
            request: request,
            policy: provider.policy,
            alias: model.alias,
            route: selection.reason,
            deadline: deadline,
            attempts: &call.attempts
        )
        switch result {
        case .success(var response):
            if remote, !Self.hasCredibleUsage(response) {
                // No usage, zero, negative or absurd counts: booked at the admission estimate, never at zero, so
                // the daily limits bind whatever the provider reports.
                logger.warning(
                    "the provider reported no credible token usage: booked at the admission estimate",
                    metadata: [
                        "model": "\(model.alias)", "prompt_tokens": "\(response.promptTokens)",
                        "completion_tokens": "\(response.completionTokens)",
                    ]
                )
                call.attempts[call.attempts.count - 1].error =
                    "usage reported as \(response.promptTokens)/\(response.completionTokens) tokens: booked at the estimate"
                response.promptTokens = promptEstimate
                response.completionTokens = model.maxCompletionTokens
                call.attempts[call.attempts.count - 1].promptTokens = promptEstimate
                call.attempts[call.attempts.count - 1].completionTokens = model.maxCompletionTokens
            }
            let cost = model.costUSD(promptTokens: response.promptTokens, completionTokens: response.completionTokens)
            if let budget, let reservation {
                do {
                    let raised = try budget.settle(
                        reservation,
                        tokens: response.promptTokens + response.completionTokens,
                        usd: cost,
                        traderUSDLimit: lane.traderUSDLimit
                    )
                    for alert in raised { await alerts.raise(key: alert.key, message: alert.message) }
                } catch {
                    logger.error("cannot save the LLM budget", metadata: ["error": "\(error)"])
                }
            }
            if let cache, let cacheKey {
                do {
                    try await cache.store(key: cacheKey, response: response)
                } catch {
                    logger.warning("cannot persist the LLM cache", metadata: ["error": "\(error)"])
                }
            }
            call.attempts[call.attempts.count - 1].costUSD = cost
            let pressure =
                budget?.isUnderPressure(trader: lane.trader, traderUSDLimit: lane.traderUSDLimit) ?? false
            if isRouted,
                let change = router.recordSuccess(
                    trader: lane.trader,
                    alias: model.alias,
                    now: timer.now(),
                    underBudgetPressure: pressure
                )
            {
                await announce(change, kind: "recovered")
            }
            call.answer = .init(
                response: response,
                alias: model.alias,
                route: selection.reason,
                isCacheHit: false,
                costUSD: cost
            )
            return .answered
        case .failure(let error):
            if let budget, let reservation {
                _ = try? budget.settle(reservation, tokens: 0, usd: 0, traderUSDLimit: lane.traderUSDLimit)
            }
            return .failed("\(model.alias): \(error.description)")
        }
    }

    /// Calls `client` up to `max_retries + 1` times. Retries only retryable errors, waits
    /// `min(max_backoff, backoff · 2ⁿ)` scaled by a jitter in [½, 1] and at least the provider's `Retry-After`,
    /// and never sleeps or calls past `deadline`: each call's own timeout is cut to the time left.
    package func callWithRetries(
        _ client: any LLMClient,
        request: LLMRequest,
        policy: ProviderPolicy,
        alias: String,
        route: ModelRouter.Reason,
        deadline: Int64,
        attempts: inout [LLMAttempt]
    ) async -> Result<LLMResponse, LLMError> {
        var retry = 0
        while true {
            let remaining = deadline - timer.now()
            guard remaining > 0 else { return .failure(.timeout) }
            var attemptRequest = request
            attemptRequest.timeout = min(policy.timeout, .milliseconds(remaining))
            let started = ContinuousClock.now
            let error: LLMError
            do {
                let response = try await client.complete(attemptRequest)
                attempts.append(
                    .init(
                        model: alias,
                        route: route,
                        outcome: "ok",
                        latencyMilliseconds: response.latencyMilliseconds,
                        promptTokens: response.promptTokens,
                        completionTokens: response.completionTokens
                    )
                )
                metrics?.recordLLMRequest(
                    model: alias,
                    outcome: "ok",
                    latency: ContinuousClock.now - started,
                    promptTokens: response.promptTokens,
                    completionTokens: response.completionTokens,
                    costUSD: models[alias]?.costUSD(
                        promptTokens: response.promptTokens,
                        completionTokens: response.completionTokens
                    ) ?? 0
                )
                return .success(response)
            } catch let failure {
                error = failure
            }
            let elapsed = ContinuousClock.now - started
            attempts.append(
                .init(
                    model: alias,
                    route: route,
                    outcome: error.outcome,
                    error: String(error.description.prefix(300)),
                    latencyMilliseconds: elapsed.milliseconds
                )
            )
            metrics?.recordLLMRequest(
                model: alias,
                outcome: error.outcome,
                latency: elapsed,
                promptTokens: 0,
                completionTokens: 0,
                costUSD: 0
            )
            guard error.isRetryable, retry < policy.retry.maxRetries else { return .failure(error) }
            let wait = Self.backoff(retry: retry, policy: policy.retry, jitter: jitter(), retryAfter: error.retryAfter)
            guard timer.now() + wait.milliseconds < deadline else { return .failure(error) }
            do {
                try await timer.sleep(until: timer.now() + wait.milliseconds)
            } catch {
                return .failure(.timeout)
            }
            retry += 1
        }
    }

    /// The wait before retry `retry` (0-based): exponential, capped, jittered into [½, 1] of the step, and never
    /// shorter than the provider's `Retry-After`.
    package static func backoff(
        retry: Int,
        policy: ProviderPolicy.Retry,
        jitter: Double,
        retryAfter: Duration?
    ) -> Duration {
        let base = Double(policy.backoff.milliseconds) * pow(2, Double(min(retry, 30)))
        let capped = min(base, Double(policy.maxBackoff.milliseconds))
        let jittered = capped * (0.5 + 0.5 * min(max(jitter, 0), 1))
        let wait = Duration.milliseconds(Int64(jittered.rounded()))
        guard let retryAfter else { return wait }
        return max(wait, retryAfter)
    }

    private func announce(_ change: ModelRouter.Switch, kind: String) async {
        logger.warning(
            "model switch",
            metadata: [
                "trader": "\(change.trader)", "from": "\(change.from)", "to": "\(change.to)",
                "reason": "\(change.reason)",
            ]
        )
        metrics?.recordModelSwitch(reason: kind)
        await alerts.raise(
            key: "llm_model_switch:\(change.trader)",
            message: "trader \(change.trader) moved from \(change.from) to \(change.to): \(change.reason)"
        )
    }
}

extension LLMError {
    package var retryAfter: Duration? {
        if case .http(_, let retryAfter) = self { return retryAfter }
        return nil
    }
}

extension ModelGateway {
    /// A gateway in front of one client, with no budget and no cache: for tools, benchmarks and tests that
    /// exercise one model.
    package static func direct(
        model: LLMConfiguration.Model,
        client: any LLMClient,
        provider: LLMConfiguration.Provider? = nil,
        logger: Logger
    ) -> ModelGateway {
        let provider =
            provider
            ?? LLMConfiguration.Provider(
                id: model.provider,
                kind: .baseline,
                baseURL: nil,
                apiKey: Secret(""),
                policy: ProviderPolicy(
                    timeout: .seconds(60),
                    retry: .init(maxRetries: 0, backoff: .zero, maxBackoff: .zero),
                    healthcheck: .init(isEnabled: false, interval: .seconds(60)),
                    capabilities: ["json_schema": true]
                ),
                requiresAPIKey: false
            )
        let router = ModelRouter(
            routing: .init(
                failoverAfter: 3,
                recoveryProbeInterval: .seconds(600),
                successWindow: .seconds(3600),
                recoverySuccessRatePct: 99
            ),
            models: [model.alias: model]
        )
        return ModelGateway(
            models: [model.alias: model],
            providers: [provider.id: provider],
            clients: [model.alias: client],
            router: router,
            budget: nil,
            cache: nil,
            timer: WallClock(),
            metrics: nil,
            alerts: LoggingAlertSink(logger: logger, metrics: nil),
            logger: logger
        )
    }
}

extension ModelGateway {
    /// The most tokens one call can plausibly use (prompt and completion together); a count above it is a
    /// provider's bug, not a bill.
    static let credibleTokenCeiling = 10_000_000

    /// Whether the provider's token counts can be booked as they are: both present and positive (every answer
    /// reads a prompt and writes something), and within `credibleTokenCeiling`.
    static func hasCredibleUsage(_ response: LLMResponse) -> Bool {
        response.promptTokens > 0 && response.completionTokens > 0
            && response.promptTokens + response.completionTokens <= credibleTokenCeiling
    }
}
