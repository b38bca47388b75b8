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
        }
    }

    package var leaderboard: [Entry]
    package var serverTime: Int64?

    package init(leaderboard: [Entry], serverTime: Int64? = nil) {
        self.leaderboard = leaderboard
        self.serverTime = serverTime
    }
}
