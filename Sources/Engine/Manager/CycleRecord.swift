/// Everything one trader cycle saw and did. Kept in memory for the snapshot today; the journal issue writes it
/// as one JSON line.
struct CycleRecord: Sendable, Codable, Equatable {
    enum Outcome: String, Sendable, Codable {
        /// Decisions were parsed and risk-checked; accepted ones were sent.
        case completed
        /// The cycle failed closed before any order: nothing new was done.
        case failedClosed = "failed_closed"
    }

    /// Version of this record's layout; readers refuse versions they do not know.
    var schemaVersion = CycleRecord.currentSchemaVersion
    var traderID: String
    var cycle: Int
    var cycleID: String
    var startedAt: Int64
    var endedAt: Int64
    var outcome: Outcome
    var reason: ReasonCode?
    var error: String?
    /// The model alias asked first, and the alias that answered (they differ after a failover).
    var modelAsked: String
    var modelAnswered: String?
    /// The model name the provider reported.
    var providerModel: String?
    /// Why the answering model was asked (primary, fallback, probe, budget, failover, correction).
    var route: ModelRouter.Reason?
    /// Every try at a model this cycle: retries, failovers, cache hits, refusals, the correction round.
    var attempts: [LLMAttempt] = []
    /// The answer came from the digest cache (no tokens were spent).
    var isCacheHit = false
    /// What this cycle's model calls cost, in US dollars.
    var costUSD: Double = 0
    /// An answer that failed the schema and was sent back for correction.
    var rejectedAnswer: String?
    var systemPrompt: String?
    var userPrompt: String?
    var promptDigest: String?
    var rawAnswer: String?
    var promptTokens: Int = 0
    var completionTokens: Int = 0
    var latencyMilliseconds: Int64 = 0
    var market: MarketSnapshot?
    var account: TraderAccount?
    var decisions: [Decision] = []
    var verdicts: [RiskVerdict] = []
    var orders: [OrderRequest] = []
    var results: [OrderResult] = []
    /// What the trader's state contributed to prompts and risk, so the cycle can be replayed exactly.
    var inputs: CycleInputs?
    /// The account read again right before entries were sent (the second risk check).
    var recheckAccount: TraderAccount?
    /// The templates the prompts were rendered from.
    var templates: [TemplateStamp] = []
    /// Set when the record was completed at restart from the cycle's journaled order intents (`CycleRecovery`):
    /// the engine had stopped while the orders were going out. Absent otherwise.
    var recoveredAt: Int64?
    /// Set on a cycle the engine ran itself rather than a model (no prompts, no decisions): today only the
    /// drawdown switch closing the trader's positions. Absent on model cycles.
    var origin: Origin?

    enum Origin: String, Sendable, Codable {
        case drawdownSwitch = "drawdown_switch"
    }

    /// 2 added the model routing fields (attempts, route, cost, cache hit, provider model, rejected answer).
    static let currentSchemaVersion = 2
    static let readableSchemaVersions = 1...2

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case traderID = "trader_id"
        case cycle
        case cycleID = "cycle_id"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case outcome, reason, error
        case modelAsked = "model_asked"
        case modelAnswered = "model_answered"
        case providerModel = "provider_model"
        case route, attempts
        case isCacheHit = "cache_hit"
        case costUSD = "cost_usd"
        case rejectedAnswer = "rejected_answer"
        case systemPrompt = "system_prompt"
        case userPrompt = "user_prompt"
        case promptDigest = "prompt_digest"
        case rawAnswer = "raw_answer"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case latencyMilliseconds = "latency_ms"
        case market, account, decisions, verdicts, orders, results, inputs
        case recheckAccount = "recheck_account"
        case templates
        case recoveredAt = "recovered_at"
        case origin
    }

    /// Books a model's answer: text, tokens (summed over a correction round), cost and who answered.
    mutating func book(_ answer: ModelCall.Answer) {
        modelAnswered = answer.alias
        providerModel = answer.response.modelName
        route = answer.route
        rawAnswer = answer.response.text
        promptTokens += answer.response.promptTokens
        completionTokens += answer.response.completionTokens
        latencyMilliseconds += answer.response.latencyMilliseconds
        costUSD += answer.costUSD
        isCacheHit = answer.isCacheHit
    }

    /// Orders the exchange accepted (filled or resting).
    var ordersPlaced: Int { results.filter { $0.status == .filled || $0.status == .resting }.count }
}

/// The parts of a trader's state a cycle reads.
struct CycleInputs: Sendable, Codable, Equatable {
    var startedAt: Int64
    var inceptionCapital: Double
    var invocationCount: Int
    var sharpe: Double
    var cooldownUntil: [String: Int64]
    var isPaused: Bool
    var isDailyLossLimitHit: Bool
    var isDrawdownLimitHit: Bool
    var takerFeeRate: Double
    /// Positions found without a live stop that could not be re-protected (entries blocked: STOP_MISSING).
    var unprotectedSymbols: [String]? = nil
}

struct TemplateStamp: Sendable, Codable, Equatable {
    var id: String
    var version: String
    /// sha256 of the template body.
    var digest: String
}

extension CycleRecord {
    /// Reads every readable layout: fields added after version 1 take their defaults when absent.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try container.decode(Int.self, forKey: .schemaVersion)
        traderID = try container.decode(String.self, forKey: .traderID)
        cycle = try container.decode(Int.self, forKey: .cycle)
        cycleID = try container.decode(String.self, forKey: .cycleID)
        startedAt = try container.decode(Int64.self, forKey: .startedAt)
        endedAt = try container.decode(Int64.self, forKey: .endedAt)
        outcome = try container.decode(Outcome.self, forKey: .outcome)
        reason = try container.decodeIfPresent(ReasonCode.self, forKey: .reason)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        modelAsked = try container.decode(String.self, forKey: .modelAsked)
        modelAnswered = try container.decodeIfPresent(String.self, forKey: .modelAnswered)
        providerModel = try container.decodeIfPresent(String.self, forKey: .providerModel)
        route = try container.decodeIfPresent(ModelRouter.Reason.self, forKey: .route)
        attempts = try container.decodeIfPresent([LLMAttempt].self, forKey: .attempts) ?? []
        isCacheHit = try container.decodeIfPresent(Bool.self, forKey: .isCacheHit) ?? false
        costUSD = try container.decodeIfPresent(Double.self, forKey: .costUSD) ?? 0
        rejectedAnswer = try container.decodeIfPresent(String.self, forKey: .rejectedAnswer)
        systemPrompt = try container.decodeIfPresent(String.self, forKey: .systemPrompt)
        userPrompt = try container.decodeIfPresent(String.self, forKey: .userPrompt)
        promptDigest = try container.decodeIfPresent(String.self, forKey: .promptDigest)
        rawAnswer = try container.decodeIfPresent(String.self, forKey: .rawAnswer)
        promptTokens = try container.decodeIfPresent(Int.self, forKey: .promptTokens) ?? 0
        completionTokens = try container.decodeIfPresent(Int.self, forKey: .completionTokens) ?? 0
        latencyMilliseconds = try container.decodeIfPresent(Int64.self, forKey: .latencyMilliseconds) ?? 0
        market = try container.decodeIfPresent(MarketSnapshot.self, forKey: .market)
        account = try container.decodeIfPresent(TraderAccount.self, forKey: .account)
        decisions = try container.decodeIfPresent([Decision].self, forKey: .decisions) ?? []
        verdicts = try container.decodeIfPresent([RiskVerdict].self, forKey: .verdicts) ?? []
        orders = try container.decodeIfPresent([OrderRequest].self, forKey: .orders) ?? []
        results = try container.decodeIfPresent([OrderResult].self, forKey: .results) ?? []
        inputs = try container.decodeIfPresent(CycleInputs.self, forKey: .inputs)
        recheckAccount = try container.decodeIfPresent(TraderAccount.self, forKey: .recheckAccount)
        templates = try container.decodeIfPresent([TemplateStamp].self, forKey: .templates) ?? []
        recoveredAt = try container.decodeIfPresent(Int64.self, forKey: .recoveredAt)
        origin = try container.decodeIfPresent(Origin.self, forKey: .origin)
    }
}
