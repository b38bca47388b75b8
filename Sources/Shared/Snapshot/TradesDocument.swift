/// `GET /api/trades`: closed round trips. Times are Unix seconds (float); `*_human_time` are UTC text.
package struct TradesDocument: Codable, Sendable, Equatable {
    package struct Trade: Codable, Sendable, Equatable {
        /// `<model_id>_<uuid>`.
        package var id: String
        package var modelID: String
        package var llmModel: String?
        package var tradeID: String
        package var symbol: String
        /// `long` or `short`.
        package var side: String
        package var tradeType: String
        package var quantity: Double
        package var leverage: Double
        /// 0..1.
        package var confidence: Double
        package var exitPlan: ExitPlan
        package var entryOID: Int64
        package var entryTID: Int64
        package var entryTime: Double
        package var entryHumanTime: String
        package var entryPrice: Double
        package var entrySz: Double
        package var entryCrossed: Bool
        package var entryCommissionDollars: Double
        package var entryClosedPnL: Double
        @ExplicitNull package var entryLiquidation: Double?
        package var exitOID: Int64
        package var exitTID: Int64
        package var exitTime: Double
        package var exitHumanTime: String
        package var exitPrice: Double
        package var exitSz: Double
        package var exitCrossed: Bool
        package var exitCommissionDollars: Double
        package var exitClosedPnL: Double
        @ExplicitNull package var exitLiquidation: Double?
        package var totalCommissionDollars: Double
        package var realizedGrossPnL: Double
        /// Gross PnL less every commission and the funding paid while open (`funding_dollars`).
        package var realizedNetPnL: Double
        /// Funding paid while the position was open (negative: received). Ours, not in the nof1 capture.
        package var fundingDollars: Double?

        package init(
            id: String,
            modelID: String,
            llmModel: String? = nil,
            tradeID: String,
            symbol: String,
            side: String,
            tradeType: String,
            quantity: Double,
            leverage: Double,
            confidence: Double,
            exitPlan: ExitPlan,
            entryOID: Int64,
            entryTID: Int64,
            entryTime: Double,
            entryHumanTime: String,
            entryPrice: Double,
            entrySz: Double,
            entryCrossed: Bool,
            entryCommissionDollars: Double,
            entryClosedPnL: Double,
            entryLiquidation: Double? = nil,
            exitOID: Int64,
            exitTID: Int64,
            exitTime: Double,
            exitHumanTime: String,
            exitPrice: Double,
            exitSz: Double,
            exitCrossed: Bool,
            exitCommissionDollars: Double,
            exitClosedPnL: Double,
            exitLiquidation: Double? = nil,
            totalCommissionDollars: Double,
            realizedGrossPnL: Double,
            realizedNetPnL: Double,
            fundingDollars: Double? = nil
        ) {
            self.id = id
            self.modelID = modelID
            self.llmModel = llmModel
            self.tradeID = tradeID
            self.symbol = symbol
            self.side = side
            self.tradeType = tradeType
            self.quantity = quantity
            self.leverage = leverage
            self.confidence = confidence
            self.exitPlan = exitPlan
            self.entryOID = entryOID
            self.entryTID = entryTID
            self.entryTime = entryTime
            self.entryHumanTime = entryHumanTime
            self.entryPrice = entryPrice
            self.entrySz = entrySz
            self.entryCrossed = entryCrossed
            self.entryCommissionDollars = entryCommissionDollars
            self.entryClosedPnL = entryClosedPnL
            self.entryLiquidation = entryLiquidation
            self.exitOID = exitOID
            self.exitTID = exitTID
            self.exitTime = exitTime
            self.exitHumanTime = exitHumanTime
            self.exitPrice = exitPrice
            self.exitSz = exitSz
            self.exitCrossed = exitCrossed
            self.exitCommissionDollars = exitCommissionDollars
            self.exitClosedPnL = exitClosedPnL
            self.exitLiquidation = exitLiquidation
            self.totalCommissionDollars = totalCommissionDollars
            self.realizedGrossPnL = realizedGrossPnL
            self.realizedNetPnL = realizedNetPnL
            self.fundingDollars = fundingDollars
        }

        enum CodingKeys: String, CodingKey {
            case id
            case modelID = "model_id"
            case llmModel = "llm_model"
            case tradeID = "trade_id"
            case symbol, side
            case tradeType = "trade_type"
            case quantity, leverage, confidence
            case exitPlan = "exit_plan"
            case entryOID = "entry_oid"
            case entryTID = "entry_tid"
            case entryTime = "entry_time"
            case entryHumanTime = "entry_human_time"
            case entryPrice = "entry_price"
            case entrySz = "entry_sz"
            case entryCrossed = "entry_crossed"
            case entryCommissionDollars = "entry_commission_dollars"
            case entryClosedPnL = "entry_closed_pnl"
            case entryLiquidation = "entry_liquidation"
            case exitOID = "exit_oid"
            case exitTID = "exit_tid"
            case exitTime = "exit_time"
            case exitHumanTime = "exit_human_time"
            case exitPrice = "exit_price"
            case exitSz = "exit_sz"
            case exitCrossed = "exit_crossed"
            case exitCommissionDollars = "exit_commission_dollars"
            case exitClosedPnL = "exit_closed_pnl"
            case exitLiquidation = "exit_liquidation"
            case totalCommissionDollars = "total_commission_dollars"
            case realizedGrossPnL = "realized_gross_pnl"
            case realizedNetPnL = "realized_net_pnl"
            case fundingDollars = "funding_dollars"
        }
    }

    package var trades: [Trade]
    package var serverTime: Int64?

    package init(trades: [Trade], serverTime: Int64? = nil) {
        self.trades = trades
        self.serverTime = serverTime
    }
}
