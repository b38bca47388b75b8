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
    var modelAsked: String
    var modelAnswered: String?
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

    static let currentSchemaVersion = 1

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
}

struct TemplateStamp: Sendable, Codable, Equatable {
    var id: String
    var version: String
    /// sha256 of the template body.
    var digest: String
}
