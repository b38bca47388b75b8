import Shared

/// What the manager remembers about a trader between cycles and across restarts.
package struct TraderState: Sendable, Codable, Equatable {
    package var cycle: Int = 0
    package var lastDecisionAt: Int64?
    package var consecutiveFailures: Int = 0
    package var totalFailures: Int = 0
    package var cooldownUntil: [String: Int64] = [:]
    package var pausedUntil: Int64?
    /// UTC day (ms / 86,400,000) the daily loss is measured from, and the equity at its start.
    package var day: Int64 = 0
    package var dayStartEquity: Double = 0
    package var peakEquity: Double = 0
    /// The deepest fall from a peak seen so far, percent (absent in older state).
    package var maxDrawdownPct: Double?
    package var isDailyLossLimitHit = false
    package var isDrawdownLimitHit = false
    package var startedAt: Int64 = 0
    package var inceptionCapital: Double = 0
    /// Closed trades already seen (to start cooldowns when a stop or target fires between cycles).
    package var closedTradesSeen: Int = 0
    /// Hourly equity points, the account-totals history.
    package var equityHistory: [EquityPoint] = []
    /// Cycle start times, for the invocation statistics: the newest `invocationTimeLimit` or up to a tenth more.
    package var invocationTimes: [Int64] = []
    /// Model cycles run since inception (absent in older state, whose times were all kept up to the limit).
    package var invocations: Int?

    /// How many model cycles the trader has run: the prompts' invocation count and `num_invocations`.
    package var invocationCount: Int { invocations ?? invocationTimes.count }

    /// Invocation times kept for the statistics.
    package static let invocationTimeLimit = 10_000

    /// Counts a model cycle started at `time`. The times drop their oldest a tenth at a time, not one per cycle
    /// (moving 10,000 times every cycle).
    package mutating func recordInvocation(at time: Int64) {
        invocations = invocationCount + 1
        invocationTimes.append(time)
        if invocationTimes.count > Self.invocationTimeLimit + Self.invocationTimeLimit / 10 {
            invocationTimes.removeFirst(invocationTimes.count - Self.invocationTimeLimit)
        }
    }
    package var signals: SignalStatistics = .init()
    package var conversations: [Conversation] = []
    package var lastOutcome: String?
    package var lastModel: String?
    /// Model calls, tokens and cost by model alias (absent in state saved before cost tracking).
    package var llmUsage: [String: LLMUsage]?
    /// The last rebalance applied to this trader, and capital moved in (or out, negative) since the last equity
    /// point: the next point carries it as its `flow`, so a transfer is not taken for a return.
    package var lastRebalance: Int?
    package var pendingFlow: Double?
    /// Results by prompt version (absent in older state), and when the version in use changed.
    package var promptVersions: [PromptVersionStats]?
    package var promptVersionSwitches: [PromptVersionSwitch]?
    /// An operator paused this trader's entries (`engine pause`), and when and by whom; nil when not paused.
    package var operatorHold: String?
    /// An operator halted every trader's entries (`engine halt-entries`); the arena's flag, copied to each trader.
    package var arenaHold: String?
    /// `engine flatten`: who asked and when, until the trader holds no position.
    package var flattenRequest: String?
    /// What the trader's prompts remember (absent unless its user template reads memory variables).
    package var memory: TraderMemory?

    /// Whether new entries are refused for a while or until an operator lifts it (a Sharpe breach, `engine pause`,
    /// `engine halt-entries`): exits, stops and targets go on.
    package func isPaused(at now: Int64) -> Bool {
        (pausedUntil ?? 0) > now || operatorHold != nil || arenaHold != nil
    }

    package var llmCostUSD: Double {
        guard let usage = llmUsage else { return 0 }
        return usage.keys.sorted().reduce(0) { $0 + (usage[$1]?.costUSD ?? 0) }
    }

    /// Most version switches kept (versions change rarely; the oldest go first).
    package static let promptVersionSwitchLimit = 1000

    /// Books a model cycle under the templates it used.
    package mutating func recordPromptVersion(_ record: CycleRecord) {
        // Mutated in place (optional chaining): a copy taken out and written back would copy the lists each cycle.
        let key = PromptVersionStats.key(record.templates)
        if promptVersions == nil { promptVersions = [] }
        if let index = promptVersions?.firstIndex(where: { $0.key == key }) {
            promptVersions?[index].record(record)
        } else {
            var stats = PromptVersionStats(templates: record.templates, at: record.startedAt)
            stats.record(record)
            promptVersions?.append(stats)
        }
        if promptVersionSwitches?.last?.key != key {
            if promptVersionSwitches == nil { promptVersionSwitches = [] }
            promptVersionSwitches?.append(PromptVersionSwitch(time: record.startedAt, key: key))
            if let count = promptVersionSwitches?.count, count > Self.promptVersionSwitchLimit {
                promptVersionSwitches?.removeFirst(count - Self.promptVersionSwitchLimit)
            }
        }
    }

    /// The version in force at `time`: the last switch at or before it (the first one for anything earlier).
    package func promptVersion(at time: Int64) -> String? {
        guard let switches = promptVersionSwitches, !switches.isEmpty else { return nil }
        return switches.last { $0.time <= time }?.key ?? switches.first?.key
    }

    /// Books a closed trade under the version in force when it was opened.
    package mutating func recordPromptVersion(_ trade: ClosedTrade) {
        guard let key = promptVersion(at: trade.entryTime),
            let index = promptVersions?.firstIndex(where: { $0.key == key })
        else { return }
        promptVersions?[index].record(trade)
    }

    /// Books an hourly return under the version in use now.
    package mutating func recordPromptVersionReturn(_ value: Double) {
        guard let key = promptVersionSwitches?.last?.key,
            let index = promptVersions?.firstIndex(where: { $0.key == key })
        else { return }
        promptVersions?[index].hourlyReturns.add(value)
    }

    package struct EquityPoint: Sendable, Codable, Equatable {
        package var marker: Int
        package var time: Int64
        package var equity: Double
        package var realizedPnL: Double
        package var unrealizedPnL: Double
        /// Model cost up to this point (absent in older state).
        package var llmCostUSD: Double?
        /// Capital moved in (positive) or out by rebalancing since the previous point.
        package var flow: Double?
        /// Margin locked at this point (for the utilisation KPI; absent in older state).
        package var marginUsed: Double?

        package init(
            marker: Int,
            time: Int64,
            equity: Double,
            realizedPnL: Double,
            unrealizedPnL: Double,
            llmCostUSD: Double? = nil,
            flow: Double? = nil,
            marginUsed: Double? = nil
        ) {
            self.marker = marker
            self.time = time
            self.equity = equity
            self.realizedPnL = realizedPnL
            self.unrealizedPnL = unrealizedPnL
            self.llmCostUSD = llmCostUSD
            self.flow = flow
            self.marginUsed = marginUsed
        }
    }

    /// One model's use by one trader.
    package struct LLMUsage: Sendable, Codable, Equatable {
        package var requests = 0
        package var failures = 0
        package var cacheHits = 0
        package var promptTokens = 0
        package var completionTokens = 0
        package var costUSD: Double = 0

        /// Books the attempts of one cycle that went to this model.
        package mutating func book(_ attempt: LLMAttempt) {
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

        package init(
            requests: Int = 0,
            failures: Int = 0,
            cacheHits: Int = 0,
            promptTokens: Int = 0,
            completionTokens: Int = 0,
            costUSD: Double = 0
        ) {
            self.requests = requests
            self.failures = failures
            self.cacheHits = cacheHits
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.costUSD = costUSD
        }
    }

    package struct Conversation: Sendable, Codable, Equatable {
        package var cycleID: String
        package var time: Int64
        package var model: String
        package var system: String
        package var user: String
        package var answer: String
        /// The cycle's outcome, reason code, risk verdicts and orders (absent in state saved before the dashboard).
        package var outcome: String?
        package var reason: String?
        package var verdicts: [ConversationsDocument.Verdict]?
        package var orders: [ConversationsDocument.Order]?

        package init(
            cycleID: String,
            time: Int64,
            model: String,
            system: String,
            user: String,
            answer: String,
            outcome: String? = nil,
            reason: String? = nil,
            verdicts: [ConversationsDocument.Verdict]? = nil,
            orders: [ConversationsDocument.Order]? = nil
        ) {
            self.cycleID = cycleID
            self.time = time
            self.model = model
            self.system = system
            self.user = user
            self.answer = answer
            self.outcome = outcome
            self.reason = reason
            self.verdicts = verdicts
            self.orders = orders
        }
    }

    package init(
        cycle: Int = 0,
        lastDecisionAt: Int64? = nil,
        consecutiveFailures: Int = 0,
        totalFailures: Int = 0,
        cooldownUntil: [String: Int64] = [:],
        pausedUntil: Int64? = nil,
        day: Int64 = 0,
        dayStartEquity: Double = 0,
        peakEquity: Double = 0,
        maxDrawdownPct: Double? = nil,
        isDailyLossLimitHit: Bool = false,
        isDrawdownLimitHit: Bool = false,
        startedAt: Int64 = 0,
        inceptionCapital: Double = 0,
        closedTradesSeen: Int = 0,
        equityHistory: [EquityPoint] = [],
        invocationTimes: [Int64] = [],
        signals: SignalStatistics = .init(),
        conversations: [Conversation] = [],
        lastOutcome: String? = nil,
        lastModel: String? = nil,
        llmUsage: [String: LLMUsage]? = nil,
        lastRebalance: Int? = nil,
        pendingFlow: Double? = nil
    ) {
        self.cycle = cycle
        self.lastDecisionAt = lastDecisionAt
        self.consecutiveFailures = consecutiveFailures
        self.totalFailures = totalFailures
        self.cooldownUntil = cooldownUntil
        self.pausedUntil = pausedUntil
        self.day = day
        self.dayStartEquity = dayStartEquity
        self.peakEquity = peakEquity
        self.maxDrawdownPct = maxDrawdownPct
        self.isDailyLossLimitHit = isDailyLossLimitHit
        self.isDrawdownLimitHit = isDrawdownLimitHit
        self.startedAt = startedAt
        self.inceptionCapital = inceptionCapital
        self.closedTradesSeen = closedTradesSeen
        self.equityHistory = equityHistory
        self.invocationTimes = invocationTimes
        self.signals = signals
        self.conversations = conversations
        self.lastOutcome = lastOutcome
        self.lastModel = lastModel
        self.llmUsage = llmUsage
        self.lastRebalance = lastRebalance
        self.pendingFlow = pendingFlow
    }
}

/// The decisions a trader's model produced (the analytics signals table): total counts, and the most recent
/// samples for averages, spreads and medians.
package struct SignalStatistics: Sendable, Codable, Equatable {
    package struct Sample: Sendable, Codable, Equatable {
        package var signal: Decision.Signal
        package var confidence: Double
        package var leverage: Int?

        package init(signal: Decision.Signal, confidence: Double, leverage: Int? = nil) {
            self.signal = signal
            self.confidence = confidence
            self.leverage = leverage
        }
    }

    package var counts: [String: Int] = [:]
    /// The newest samples, at most `sampleLimit`, oldest first (kept as a ring: a long run records a decision per
    /// cycle, and dropping the oldest of 10,000 by moving the rest cost a backtest several percent).
    package var samples: [Sample] {
        get { start == 0 ? ring : Array(ring[start...] + ring[..<start]) }
        set {
            ring = Array(newValue.suffix(Self.sampleLimit))
            start = 0
        }
    }
    private var ring: [Sample] = []
    /// Where the oldest sample is once the ring is full.
    private var start = 0
    package static let sampleLimit = 10_000

    private enum CodingKeys: String, CodingKey {
        case counts, samples
    }

    package mutating func record(_ decision: Decision) {
        counts[decision.signal.rawValue, default: 0] += 1
        let sample = Sample(signal: decision.signal, confidence: decision.confidence, leverage: decision.leverage)
        if ring.count < Self.sampleLimit {
            ring.append(sample)
        } else {
            ring[start] = sample
            start = (start + 1) % Self.sampleLimit
        }
    }

    package func count(_ signal: Decision.Signal) -> Int { counts[signal.rawValue] ?? 0 }

    package init(counts: [String: Int] = [:], samples: [Sample] = []) {
        self.counts = counts
        self.samples = samples
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        counts = try container.decodeIfPresent([String: Int].self, forKey: .counts) ?? [:]
        samples = try container.decodeIfPresent([Sample].self, forKey: .samples) ?? []
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(counts, forKey: .counts)
        try container.encode(samples, forKey: .samples)
    }

    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.counts == rhs.counts && lhs.samples == rhs.samples
    }
}

/// The manager's whole persisted state.
package struct ManagerState: Sendable, Codable, Equatable {
    package var traders: [String: TraderState] = [:]
    /// The engine clock's time at the last save: a replay resumes from here after a restart.
    package var clockTime: Int64 = 0
    /// When capital was last rebalanced (or rebalancing first armed), engine clock ms.
    package var lastRebalanceAt: Int64?
    /// The newest rebalances, oldest first (for the export).
    package var rebalances: [RebalancesDocument.Rebalance]?
    /// `engine halt-entries`: why and by whom every trader's entries are halted; nil when they are not.
    package var entriesHalt: String?
    /// The engine-clock day (ms / 86,400,000) whose daily summary was sent: a restart does not send it again.
    package var lastSummaryDay: Int64?

    package init(
        traders: [String: TraderState] = [:],
        clockTime: Int64 = 0,
        lastRebalanceAt: Int64? = nil,
        rebalances: [RebalancesDocument.Rebalance]? = nil
    ) {
        self.traders = traders
        self.clockTime = clockTime
        self.lastRebalanceAt = lastRebalanceAt
        self.rebalances = rebalances
    }
}
