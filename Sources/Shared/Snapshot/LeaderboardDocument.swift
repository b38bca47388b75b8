/// `GET /api/leaderboard`: one row per trader. `return_pct` is a percent number. The API adds `serverTime`.
package struct LeaderboardDocument: Codable, Sendable, Equatable {
    package struct Entry: Codable, Sendable, Equatable {
        /// The trader id.
        package var id: String
        package var llmModel: String?
        package var numTrades: Int
        package var sharpe: Double
        package var winDollars: Double
        package var numLosses: Int
        package var loseDollars: Double
        package var returnPct: Double
        package var equity: Double
        package var numWins: Int
        /// What the trader's model calls cost so far, in US dollars (added field).
        package var llmCostUSD: Double?
        /// Equity minus inception capital minus the model cost (added field).
        package var pnlNetOfLLMUSD: Double?
        /// The trader's display name (added field).
        package var name: String?
        /// `active`, `paused` (entries stopped for a while: a Sharpe breach, or failing closed until an operator
        /// resumes it) or `halted` (a kill switch: the daily loss or the drawdown limit) (added field).
        package var status: String?
        /// Why the trader is paused or halted, for people (added field).
        package var statusReason: String?
        /// The model that answered the last cycle: a fallback when it differs from `llm_model` (added field).
        package var modelInUse: String?
        /// The deepest fall from a peak so far, percent (added field).
        package var maxDrawdownPct: Double?
        /// Trading fees paid so far, US dollars (added field).
        package var feesUSD: Double?
        /// The last cycle's outcome or reason code, and when it started (Unix seconds) (added fields).
        package var lastOutcome: String?
        package var lastCycleAt: Double?

        package init(
            id: String,
            llmModel: String? = nil,
            numTrades: Int,
            sharpe: Double,
            winDollars: Double,
            numLosses: Int,
            loseDollars: Double,
            returnPct: Double,
            equity: Double,
            numWins: Int,
            llmCostUSD: Double? = nil,
            pnlNetOfLLMUSD: Double? = nil
        ) {
            self.id = id
            self.llmModel = llmModel
            self.numTrades = numTrades
            self.sharpe = sharpe
            self.winDollars = winDollars
            self.numLosses = numLosses
            self.loseDollars = loseDollars
            self.returnPct = returnPct
            self.equity = equity
            self.numWins = numWins
            self.llmCostUSD = llmCostUSD
            self.pnlNetOfLLMUSD = pnlNetOfLLMUSD
        }

        enum CodingKeys: String, CodingKey {
            case id
            case llmModel = "llm_model"
            case numTrades = "num_trades"
            case sharpe
            case winDollars = "win_dollars"
            case numLosses = "num_losses"
            case loseDollars = "lose_dollars"
            case returnPct = "return_pct"
            case equity
            case numWins = "num_wins"
            case llmCostUSD = "llm_cost_usd"
            case pnlNetOfLLMUSD = "pnl_net_of_llm_usd"
            case name, status
            case statusReason = "status_reason"
            case modelInUse = "model_in_use"
            case maxDrawdownPct = "max_drawdown_pct"
            case feesUSD = "fees_usd"
            case lastOutcome = "last_outcome"
            case lastCycleAt = "last_cycle_at"
        }
    }

    package var leaderboard: [Entry]
    /// Capital the manager keeps out of every trader's slice, US dollars (added field).
    package var reserveUSD: Double?
    package var serverTime: Int64?

    package init(leaderboard: [Entry], reserveUSD: Double? = nil, serverTime: Int64? = nil) {
        self.leaderboard = leaderboard
        self.reserveUSD = reserveUSD
        self.serverTime = serverTime
    }

    enum CodingKeys: String, CodingKey {
        case leaderboard
        case reserveUSD = "reserve_usd"
        case serverTime
    }
}
