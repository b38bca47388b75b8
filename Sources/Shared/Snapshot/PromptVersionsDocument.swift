/// `prompt-versions.json` (served at `/api/prompt-versions`; not a document of the nof1 API): results grouped by
/// the prompt templates the cycles used — each template's id, version and sha256 — per trader and across traders.
package struct PromptVersionsDocument: Codable, Sendable, Equatable {
    package static let fileName = "prompt-versions.json"

    package struct Template: Codable, Sendable, Equatable {
        package var id: String
        package var version: String
        package var sha256: String

        package init(id: String, version: String, sha256: String) {
            self.id = id
            self.version = version
            self.sha256 = sha256
        }
    }

    /// One version's results: for one trader, or (`model_id` absent) summed over every trader that used it.
    package struct Row: Codable, Sendable, Equatable {
        package var modelID: String?
        package var llmModel: String?
        /// `id@version#sha12` of every template, joined by `+`; `unrendered` for cycles that rendered no prompt.
        package var key: String
        package var templates: [Template]
        /// Unix seconds.
        package var firstUsedAt: Double
        package var lastUsedAt: Double
        package var cycles: Int
        package var failedCycles: Int
        /// Trades opened while the version was in force, once closed.
        package var trades: Int
        package var wins: Int
        package var winRatePct: Double
        package var netPnLUSD: Double
        package var llmCostUSD: Double
        package var pnlNetOfLLMUSD: Double
        /// Hourly returns while the version was in force, annualised like the leaderboard's.
        package var sharpe: Double
        /// Refused decisions by risk reason code, and failed-closed cycles by theirs.
        package var refusals: [String: Int]

        package init(
            modelID: String?,
            llmModel: String?,
            key: String,
            templates: [Template],
            firstUsedAt: Double,
            lastUsedAt: Double,
            cycles: Int,
            failedCycles: Int,
            trades: Int,
            wins: Int,
            netPnLUSD: Double,
            llmCostUSD: Double,
            sharpe: Double,
            refusals: [String: Int]
        ) {
            self.modelID = modelID
            self.llmModel = llmModel
            self.key = key
            self.templates = templates
            self.firstUsedAt = firstUsedAt
            self.lastUsedAt = lastUsedAt
            self.cycles = cycles
            self.failedCycles = failedCycles
            self.trades = trades
            self.wins = wins
            self.winRatePct = trades > 0 ? Double(wins) / Double(trades) * 100 : 0
            self.netPnLUSD = netPnLUSD
            self.llmCostUSD = llmCostUSD
            self.pnlNetOfLLMUSD = netPnLUSD - llmCostUSD
            self.sharpe = sharpe
            self.refusals = refusals
        }

        enum CodingKeys: String, CodingKey {
            case key, templates, cycles, trades, wins, sharpe, refusals
            case modelID = "model_id"
            case llmModel = "llm_model"
            case firstUsedAt = "first_used_at"
            case lastUsedAt = "last_used_at"
            case failedCycles = "failed_cycles"
            case winRatePct = "win_rate_pct"
            case netPnLUSD = "net_pnl_usd"
            case llmCostUSD = "llm_cost_usd"
            case pnlNetOfLLMUSD = "pnl_net_of_llm_usd"
        }
    }

    package var promptVersions: [Row]
    package var acrossTraders: [Row]

    package init(promptVersions: [Row], acrossTraders: [Row]) {
        self.promptVersions = promptVersions
        self.acrossTraders = acrossTraders
    }
}
