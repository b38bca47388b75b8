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
            lastTradeDocID: String = ""
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
        }
    }

    package var analytics: [Entry]
    package var serverTime: Int64?

    package init(analytics: [Entry], serverTime: Int64? = nil) {
        self.analytics = analytics
        self.serverTime = serverTime
    }
}
