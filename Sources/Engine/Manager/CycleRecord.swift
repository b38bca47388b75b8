/// Everything one trader cycle saw and did. Kept in memory for the snapshot today; the journal issue writes it
/// as one JSON line.
struct CycleRecord: Sendable, Codable, Equatable {
    enum Outcome: String, Sendable, Codable {
        /// Decisions were parsed and risk-checked; accepted ones were sent.
        case completed
        /// The cycle failed closed before any order: nothing new was done.
        case failedClosed = "failed_closed"
    }

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

    /// Orders the exchange accepted (filled or resting).
    var ordersPlaced: Int { results.filter { $0.status == .filled || $0.status == .resting }.count }
}
