/// Everything one trader cycle saw and did. Kept in memory for the snapshot today; the journal issue writes it
/// as one JSON line.
package struct CycleRecord: Sendable, Codable, Equatable {
    package enum Outcome: String, Sendable, Codable {
        /// Decisions were parsed and risk-checked; accepted ones were sent.
        case completed
        /// The cycle failed closed before any order: nothing new was done.
        case failedClosed = "failed_closed"
    }

    /// Version of this record's layout; readers refuse versions they do not know.
    package var schemaVersion = CycleRecord.currentSchemaVersion
    package var traderID: String
    package var cycle: Int
    package var cycleID: String
    package var startedAt: Int64
    package var endedAt: Int64
    package var outcome: Outcome
    package var reason: ReasonCode?
    package var error: String?
    /// The model alias asked first, and the alias that answered (they differ after a failover).
    package var modelAsked: String
    package var modelAnswered: String?
    /// The model name the provider reported.
    package var providerModel: String?
    /// Why the answering model was asked (primary, fallback, probe, budget, failover, correction).
    package var route: ModelRoute?
    /// Every try at a model this cycle: retries, failovers, cache hits, refusals, the correction round.
    package var attempts: [LLMAttempt] = []
    /// The answer came from the digest cache (no tokens were spent).
    package var isCacheHit = false
    /// What this cycle's model calls cost, in US dollars.
    package var costUSD: Double = 0
    /// An answer that failed the schema and was sent back for correction.
    package var rejectedAnswer: String?
    package var systemPrompt: String?
    package var userPrompt: String?
    package var promptDigest: String?
    /// Set when no prompt was rendered: an in-process baseline model, which decides from the market and account
    /// and never reads a prompt, in a backtest that does not record them (`engine backtest --record-prompts`
    /// records them). Replay checks such a cycle's decisions, verdicts and orders; a counterfactual renders its
    /// prompts from the recorded inputs. Absent otherwise.
    package var promptsSkipped: Bool?
    /// The model's answer (for an in-process policy, its decisions, written as text when read: `AnswerText`).
    package var rawAnswer: AnswerText?
    package var promptTokens: Int = 0
    package var completionTokens: Int = 0
    package var latencyMilliseconds: Int64 = 0
    package var market: MarketSnapshot?
    package var account: TraderAccount?
    package var decisions: [Decision] = []
    package var verdicts: [RiskVerdict] = []
    package var orders: [OrderRequest] = []
    package var results: [OrderResult] = []
    /// What the trader's state contributed to prompts and risk, so the cycle can be replayed exactly.
    package var inputs: CycleInputs?
    /// The account read again right before entries were sent (the second risk check).
    package var recheckAccount: TraderAccount?
    /// The venue's marks and the trader's flags read again right before entries were sent, and when: the second
    /// risk check judges entries at these (version 3 on). Absent when no entry was accepted.
    package var entryRecheck: EntryRecheck?
    /// The templates the prompts were rendered from.
    package var templates: [TemplateStamp] = []
    /// Set when the record was completed at restart from the cycle's journaled order intents (`CycleRecovery`):
    /// the engine had stopped while the orders were going out. Absent otherwise.
    package var recoveredAt: Int64?
    /// Set on a cycle the engine ran itself rather than a model (no prompts, no decisions): today only the
    /// drawdown switch closing the trader's positions. Absent on model cycles.
    package var origin: Origin?
    /// A consensus model's cycle: each member's answer (or why it has none). `raw_answer` is then the combined
    /// decisions, which replay derives again from these. Absent otherwise.
    package var consensus: ConsensusRecord?

    package enum Origin: String, Sendable, Codable {
        case drawdownSwitch = "drawdown_switch"
        /// `engine flatten`.
        case operatorFlatten = "operator"
    }

    /// 2 added the model routing fields (attempts, route, cost, cache hit, provider model, rejected answer).
    /// 3 re-checks entries at the venue's mark just before sending (`entry_recheck`, `PRICE_MOVED`) and bounds a
    /// market entry's IOC price by the price that check approved (`limit_price` on market entries).
    package static let currentSchemaVersion = 3
    package static let readableSchemaVersions = 1...3

    package enum CodingKeys: String, CodingKey {
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
        case promptsSkipped = "prompts_skipped"
        case rawAnswer = "raw_answer"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case latencyMilliseconds = "latency_ms"
        case market, account, decisions, verdicts, orders, results, inputs
        case recheckAccount = "recheck_account"
        case entryRecheck = "entry_recheck"
        case templates
        case recoveredAt = "recovered_at"
        case origin
        case consensus
    }

    /// Orders the exchange accepted (filled or resting).
    package var ordersPlaced: Int { results.filter { $0.status == .filled || $0.status == .resting }.count }

    package init(
        schemaVersion: Int = CycleRecord.currentSchemaVersion,
        traderID: String,
        cycle: Int,
        cycleID: String,
        startedAt: Int64,
        endedAt: Int64,
        outcome: Outcome,
        reason: ReasonCode? = nil,
        error: String? = nil,
        modelAsked: String,
        modelAnswered: String? = nil,
        providerModel: String? = nil,
        route: ModelRoute? = nil,
        attempts: [LLMAttempt] = [],
        isCacheHit: Bool = false,
        costUSD: Double = 0,
        rejectedAnswer: String? = nil,
        systemPrompt: String? = nil,
        userPrompt: String? = nil,
        promptDigest: String? = nil,
        rawAnswer: AnswerText? = nil,
        promptTokens: Int = 0,
        completionTokens: Int = 0,
        latencyMilliseconds: Int64 = 0,
        market: MarketSnapshot? = nil,
        account: TraderAccount? = nil,
        decisions: [Decision] = [],
        verdicts: [RiskVerdict] = [],
        orders: [OrderRequest] = [],
        results: [OrderResult] = [],
        inputs: CycleInputs? = nil,
        recheckAccount: TraderAccount? = nil,
        entryRecheck: EntryRecheck? = nil,
        templates: [TemplateStamp] = [],
        recoveredAt: Int64? = nil,
        origin: Origin? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.traderID = traderID
        self.cycle = cycle
        self.cycleID = cycleID
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.reason = reason
        self.error = error
        self.modelAsked = modelAsked
        self.modelAnswered = modelAnswered
        self.providerModel = providerModel
        self.route = route
        self.attempts = attempts
        self.isCacheHit = isCacheHit
        self.costUSD = costUSD
        self.rejectedAnswer = rejectedAnswer
        self.systemPrompt = systemPrompt
        self.userPrompt = userPrompt
        self.promptDigest = promptDigest
        self.rawAnswer = rawAnswer
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencyMilliseconds = latencyMilliseconds
        self.market = market
        self.account = account
        self.decisions = decisions
        self.verdicts = verdicts
        self.orders = orders
        self.results = results
        self.inputs = inputs
        self.recheckAccount = recheckAccount
        self.entryRecheck = entryRecheck
        self.templates = templates
        self.recoveredAt = recoveredAt
        self.origin = origin
    }
}

/// The parts of a trader's state a cycle reads.
package struct CycleInputs: Sendable, Codable, Equatable {
    package var startedAt: Int64
    package var inceptionCapital: Double
    package var invocationCount: Int
    package var sharpe: Double
    package var cooldownUntil: [String: Int64]
    package var isPaused: Bool
    package var isDailyLossLimitHit: Bool
    package var isDrawdownLimitHit: Bool
    package var takerFeeRate: Double
    /// Positions found without a live stop that could not be re-protected (entries blocked: STOP_MISSING).
    package var unprotectedSymbols: [String]? = nil
    /// What the prompts remember (templates with memory variables only): part of the inputs so that replay
    /// renders the same prompt.
    package var memory: PromptMemory? = nil

    package init(
        startedAt: Int64,
        inceptionCapital: Double,
        invocationCount: Int,
        sharpe: Double,
        cooldownUntil: [String: Int64],
        isPaused: Bool,
        isDailyLossLimitHit: Bool,
        isDrawdownLimitHit: Bool,
        takerFeeRate: Double,
        unprotectedSymbols: [String]? = nil
    ) {
        self.startedAt = startedAt
        self.inceptionCapital = inceptionCapital
        self.invocationCount = invocationCount
        self.sharpe = sharpe
        self.cooldownUntil = cooldownUntil
        self.isPaused = isPaused
        self.isDailyLossLimitHit = isDailyLossLimitHit
        self.isDrawdownLimitHit = isDrawdownLimitHit
        self.takerFeeRate = takerFeeRate
        self.unprotectedSymbols = unprotectedSymbols
    }
}

/// What accepted entries are judged at the second time, just before they are sent: the venue's mark of each
/// symbol (the model may have thought for seconds; at replay speed that is minutes of market) and the trader's
/// flags (kill switch, daily loss, pause, cooldown) read again, at clock time `at`.
package struct EntryRecheck: Sendable, Codable, Equatable {
    package var at: Int64
    package var prices: [String: Double]
    package var inputs: CycleInputs

    package init(at: Int64, prices: [String: Double], inputs: CycleInputs) {
        self.at = at
        self.prices = prices
        self.inputs = inputs
    }
}

package struct TemplateStamp: Sendable, Codable, Equatable {
    package var id: String
    package var version: String
    /// sha256 of the template body.
    package var digest: String

    package init(id: String, version: String, digest: String) {
        self.id = id
        self.version = version
        self.digest = digest
    }
}

extension CycleRecord {
    /// Reads every readable layout: fields added after version 1 take their defaults when absent.
    package init(from decoder: any Decoder) throws {
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
        route = try container.decodeIfPresent(ModelRoute.self, forKey: .route)
        attempts = try container.decodeIfPresent([LLMAttempt].self, forKey: .attempts) ?? []
        isCacheHit = try container.decodeIfPresent(Bool.self, forKey: .isCacheHit) ?? false
        costUSD = try container.decodeIfPresent(Double.self, forKey: .costUSD) ?? 0
        rejectedAnswer = try container.decodeIfPresent(String.self, forKey: .rejectedAnswer)
        systemPrompt = try container.decodeIfPresent(String.self, forKey: .systemPrompt)
        userPrompt = try container.decodeIfPresent(String.self, forKey: .userPrompt)
        promptDigest = try container.decodeIfPresent(String.self, forKey: .promptDigest)
        promptsSkipped = try container.decodeIfPresent(Bool.self, forKey: .promptsSkipped)
        rawAnswer = try container.decodeIfPresent(String.self, forKey: .rawAnswer).map(AnswerText.text)
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
        entryRecheck = try container.decodeIfPresent(EntryRecheck.self, forKey: .entryRecheck)
        templates = try container.decodeIfPresent([TemplateStamp].self, forKey: .templates) ?? []
        recoveredAt = try container.decodeIfPresent(Int64.self, forKey: .recoveredAt)
        origin = try container.decodeIfPresent(Origin.self, forKey: .origin)
        consensus = try container.decodeIfPresent(ConsensusRecord.self, forKey: .consensus)
    }
}
