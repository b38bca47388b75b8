/// `GET /api/analytics` and `/api/analytics/{modelId}`: per-trader statistics tables.
/// Times are Unix seconds (float); percentages are percent numbers; confidences are 0..1.
package struct AnalyticsDocument: Codable, Sendable, Equatable {
    package struct Entry: Codable, Sendable, Equatable {
        package var id: String
        package var modelID: String
        package var llmModel: String?
        package var updatedAt: Double
        package var feePnLMovesBreakdownTable: FeePnLMovesBreakdown
        package var winnersLosersBreakdownTable: WinnersLosersBreakdown
        package var signalsBreakdownTable: SignalsBreakdown
        package var lastTradeExitTime: Double
        package var invocationBreakdownTable: InvocationBreakdown
        package var longsShortsBreakdownTable: LongsShortsBreakdown
        package var lastConvoDocID: String
        package var lastConvoTimestamp: Double
        package var overallTradesOverviewTable: OverallTradesOverview
        package var lastTradeDocID: String
        /// What the trader's model calls cost, per model (added table).
        package var llmCostBreakdownTable: LLMCostBreakdown?

        package init(
            id: String,
            modelID: String,
            llmModel: String? = nil,
            updatedAt: Double,
            feePnLMovesBreakdownTable: FeePnLMovesBreakdown = .init(),
            winnersLosersBreakdownTable: WinnersLosersBreakdown = .init(),
            signalsBreakdownTable: SignalsBreakdown = .init(),
            lastTradeExitTime: Double = 0,
            invocationBreakdownTable: InvocationBreakdown = .init(),
            longsShortsBreakdownTable: LongsShortsBreakdown = .init(),
            lastConvoDocID: String = "",
            lastConvoTimestamp: Double = 0,
            overallTradesOverviewTable: OverallTradesOverview = .init(),
            lastTradeDocID: String = "",
            llmCostBreakdownTable: LLMCostBreakdown? = nil
        ) {
            self.id = id
            self.modelID = modelID
            self.llmModel = llmModel
            self.updatedAt = updatedAt
            self.feePnLMovesBreakdownTable = feePnLMovesBreakdownTable
            self.winnersLosersBreakdownTable = winnersLosersBreakdownTable
            self.signalsBreakdownTable = signalsBreakdownTable
            self.lastTradeExitTime = lastTradeExitTime
            self.invocationBreakdownTable = invocationBreakdownTable
            self.longsShortsBreakdownTable = longsShortsBreakdownTable
            self.lastConvoDocID = lastConvoDocID
            self.lastConvoTimestamp = lastConvoTimestamp
            self.overallTradesOverviewTable = overallTradesOverviewTable
            self.lastTradeDocID = lastTradeDocID
            self.llmCostBreakdownTable = llmCostBreakdownTable
        }

        enum CodingKeys: String, CodingKey {
            case id
            case modelID = "model_id"
            case llmModel = "llm_model"
            case updatedAt = "updated_at"
            case feePnLMovesBreakdownTable = "fee_pnl_moves_breakdown_table"
            case winnersLosersBreakdownTable = "winners_losers_breakdown_table"
            case signalsBreakdownTable = "signals_breakdown_table"
            case lastTradeExitTime = "last_trade_exit_time"
            case invocationBreakdownTable = "invocation_breakdown_table"
            case longsShortsBreakdownTable = "longs_shorts_breakdown_table"
            case lastConvoDocID = "last_convo_doc_id"
            case lastConvoTimestamp = "last_convo_timestamp"
            case overallTradesOverviewTable = "overall_trades_overview_table"
            case lastTradeDocID = "last_trade_doc_id"
            case llmCostBreakdownTable = "llm_cost_breakdown_table"
        }
    }

    package var analytics: [Entry]
    package var serverTime: Int64?

    package init(analytics: [Entry], serverTime: Int64? = nil) {
        self.analytics = analytics
        self.serverTime = serverTime
    }
}

/// `llm_cost_breakdown_table` of an analytics entry (added; not in the nof1 capture): model spending, and the
/// trader's profit net of it.
package struct LLMCostBreakdown: Codable, Sendable, Equatable {
    package struct ModelRow: Codable, Sendable, Equatable {
        package var model: String
        /// Calls sent to the provider (retries included).
        package var requests: Int
        package var failures: Int
        package var cacheHits: Int
        package var promptTokens: Int
        package var completionTokens: Int
        package var costUSD: Double

        package init(
            model: String,
            requests: Int,
            failures: Int,
            cacheHits: Int,
            promptTokens: Int,
            completionTokens: Int,
            costUSD: Double
        ) {
            self.model = model
            self.requests = requests
            self.failures = failures
            self.cacheHits = cacheHits
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.costUSD = costUSD
        }

        enum CodingKeys: String, CodingKey {
            case model, requests, failures
            case cacheHits = "cache_hits"
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case costUSD = "cost_usd"
        }
    }

    package var models: [ModelRow]
    package var totalCostUSD: Double
    package var totalTokens: Int
    /// Equity minus inception capital.
    package var pnlUSD: Double
    package var pnlNetOfLLMUSD: Double
    /// Model cost per closed trade (0 without trades).
    package var costPerTradeUSD: Double

    package init(
        models: [ModelRow],
        totalCostUSD: Double,
        totalTokens: Int,
        pnlUSD: Double,
        pnlNetOfLLMUSD: Double,
        costPerTradeUSD: Double
    ) {
        self.models = models
        self.totalCostUSD = totalCostUSD
        self.totalTokens = totalTokens
        self.pnlUSD = pnlUSD
        self.pnlNetOfLLMUSD = pnlNetOfLLMUSD
        self.costPerTradeUSD = costPerTradeUSD
    }

    enum CodingKeys: String, CodingKey {
        case models
        case totalCostUSD = "total_cost_usd"
        case totalTokens = "total_tokens"
        case pnlUSD = "pnl_usd"
        case pnlNetOfLLMUSD = "pnl_net_of_llm_usd"
        case costPerTradeUSD = "cost_per_trade_usd"
    }
}
