/// One try at a model (or a cache hit, or a refusal), as the journal keeps it.
package struct LLMAttempt: Sendable, Codable, Equatable {
    /// The model alias asked.
    package var model: String
    /// Why this model was asked.
    package var route: ModelRoute
    /// `ok`, `cache_hit`, `budget_exhausted`, `invalid_output`, `timeout`, `http_429`, `transport`, `malformed`, …
    package var outcome: String
    package var error: String?
    package var latencyMilliseconds: Int64 = 0
    package var promptTokens: Int = 0
    package var completionTokens: Int = 0
    package var costUSD: Double = 0

    package enum CodingKeys: String, CodingKey {
        case model, route, outcome, error
        case latencyMilliseconds = "latency_ms"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case costUSD = "cost_usd"
    }

    package init(
        model: String,
        route: ModelRoute,
        outcome: String,
        error: String? = nil,
        latencyMilliseconds: Int64 = 0,
        promptTokens: Int = 0,
        completionTokens: Int = 0,
        costUSD: Double = 0
    ) {
        self.model = model
        self.route = route
        self.outcome = outcome
        self.error = error
        self.latencyMilliseconds = latencyMilliseconds
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.costUSD = costUSD
    }
}

/// Why a model was asked (journaled with every cycle, counted in metrics).
package enum ModelRoute: String, Sendable, Codable, CaseIterable {
    /// The trader's own model.
    case primary
    /// A fallback in use after the model before it failed.
    case fallback
    /// The primary asked again to see whether it has recovered.
    case probe
    /// A cheaper model, because spending passed the alert threshold.
    case budget
    /// Moved down the chain within this cycle after the limit of consecutive failures.
    case failover
    /// The routed model answered a retry of a rejected answer.
    case correction
    /// A member of a consensus model, asked beside the others.
    case consensus
}
