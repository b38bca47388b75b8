import Shared

/// What the manager remembers about a trader between cycles and across restarts.
struct TraderState: Sendable, Codable, Equatable {
    var cycle: Int = 0
    var lastDecisionAt: Int64?
    var consecutiveFailures: Int = 0
    var totalFailures: Int = 0
    var cooldownUntil: [String: Int64] = [:]
    var pausedUntil: Int64?
    /// UTC day (ms / 86,400,000) the daily loss is measured from, and the equity at its start.
    var day: Int64 = 0
    var dayStartEquity: Double = 0
    var peakEquity: Double = 0
    /// The deepest fall from a peak seen so far, percent (absent in older state).
    var maxDrawdownPct: Double?
    var isDailyLossLimitHit = false
    var isDrawdownLimitHit = false
    var startedAt: Int64 = 0
    var inceptionCapital: Double = 0
    /// Closed trades already seen (to start cooldowns when a stop or target fires between cycles).
    var closedTradesSeen: Int = 0
    /// Hourly equity points, the account-totals history.
    var equityHistory: [EquityPoint] = []
    /// Cycle start times, for the invocation statistics.
    var invocationTimes: [Int64] = []
    var signals: SignalStatistics = .init()
    var conversations: [Conversation] = []
    var lastOutcome: String?
    var lastModel: String?
    /// Model calls, tokens and cost by model alias (absent in state saved before cost tracking).
    var llmUsage: [String: LLMUsage]?
    /// The last rebalance applied to this trader, and capital moved in (or out, negative) since the last equity
    /// point: the next point carries it as its `flow`, so a transfer is not taken for a return.
    var lastRebalance: Int?
    var pendingFlow: Double?

    var llmCostUSD: Double {
        guard let usage = llmUsage else { return 0 }
        return usage.keys.sorted().reduce(0) { $0 + (usage[$1]?.costUSD ?? 0) }
    }

    struct EquityPoint: Sendable, Codable, Equatable {
        var marker: Int
        var time: Int64
        var equity: Double
        var realizedPnL: Double
        var unrealizedPnL: Double
        /// Model cost up to this point (absent in older state).
        var llmCostUSD: Double?
        /// Capital moved in (positive) or out by rebalancing since the previous point.
        var flow: Double?
        /// Margin locked at this point (for the utilisation KPI; absent in older state).
        var marginUsed: Double?
    }

    /// One model's use by one trader.
    struct LLMUsage: Sendable, Codable, Equatable {
        var requests = 0
        var failures = 0
        var cacheHits = 0
        var promptTokens = 0
        var completionTokens = 0
        var costUSD: Double = 0

        /// Books the attempts of one cycle that went to this model.
        mutating func book(_ attempt: LLMAttempt) {
            switch attempt.outcome {
            case "cache_hit":
                cacheHits += 1
            case "budget_exhausted", "unconfigured":
                break
            case "ok":
                requests += 1
            default:
                requests += 1
                failures += 1
            }
            promptTokens += attempt.promptTokens
            completionTokens += attempt.completionTokens
            costUSD += attempt.costUSD
        }
    }

    struct Conversation: Sendable, Codable, Equatable {
        var cycleID: String
        var time: Int64
        var model: String
        var system: String
        var user: String
        var answer: String
    }
}

/// The decisions a trader's model produced (the analytics signals table): total counts, and the most recent
/// samples for averages, spreads and medians.
struct SignalStatistics: Sendable, Codable, Equatable {
    struct Sample: Sendable, Codable, Equatable {
        var signal: Decision.Signal
        var confidence: Double
        var leverage: Int?
    }

    var counts: [String: Int] = [:]
    var samples: [Sample] = []
    static let sampleLimit = 10_000

    mutating func record(_ decision: Decision) {
        counts[decision.signal.rawValue, default: 0] += 1
        samples.append(Sample(signal: decision.signal, confidence: decision.confidence, leverage: decision.leverage))
        if samples.count > Self.sampleLimit { samples.removeFirst(samples.count - Self.sampleLimit) }
    }

    func count(_ signal: Decision.Signal) -> Int { counts[signal.rawValue] ?? 0 }
}

/// The manager's whole persisted state.
struct ManagerState: Sendable, Codable, Equatable {
    var traders: [String: TraderState] = [:]
    /// The engine clock's time at the last save: a replay resumes from here after a restart.
    var clockTime: Int64 = 0
    /// When capital was last rebalanced (or rebalancing first armed), engine clock ms.
    var lastRebalanceAt: Int64?
    /// The newest rebalances, oldest first (for the export).
    var rebalances: [RebalancesDocument.Rebalance]?
}
