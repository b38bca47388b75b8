/// `GET /api/positions`: open positions per trader, keyed by symbol. The API adds `serverTime`.
package struct PositionsDocument: Codable, Sendable, Equatable {
    package struct Position: Codable, Sendable, Equatable {
        package var entryOID: Int64
        package var riskUSD: Double
        /// 0..1.
        package var confidence: Double
        package var exitPlan: ExitPlan
        /// Unix seconds.
        package var entryTime: Double
        package var symbol: String
        package var entryPrice: Double
        package var margin: Double
        package var leverage: Double
        /// Negative for shorts.
        package var quantity: Double
        package var currentPrice: Double
        package var unrealizedPnL: Double
        package var closedPnL: Double
        /// Where the venue would liquidate the position (added field).
        package var liquidationPrice: Double?

        package init(
            entryOID: Int64,
            riskUSD: Double,
            confidence: Double,
            exitPlan: ExitPlan,
            entryTime: Double,
            symbol: String,
            entryPrice: Double,
            margin: Double,
            leverage: Double,
            quantity: Double,
            currentPrice: Double,
            unrealizedPnL: Double,
            closedPnL: Double,
            liquidationPrice: Double? = nil
        ) {
            self.entryOID = entryOID
            self.riskUSD = riskUSD
            self.confidence = confidence
            self.exitPlan = exitPlan
            self.entryTime = entryTime
            self.symbol = symbol
            self.entryPrice = entryPrice
            self.margin = margin
            self.leverage = leverage
            self.quantity = quantity
            self.currentPrice = currentPrice
            self.unrealizedPnL = unrealizedPnL
            self.closedPnL = closedPnL
            self.liquidationPrice = liquidationPrice
        }

        enum CodingKeys: String, CodingKey {
            case entryOID = "entry_oid"
            case riskUSD = "risk_usd"
            case confidence
            case exitPlan = "exit_plan"
            case entryTime = "entry_time"
            case symbol
            case entryPrice = "entry_price"
            case margin, leverage, quantity
            case currentPrice = "current_price"
            case unrealizedPnL = "unrealized_pnl"
            case closedPnL = "closed_pnl"
            case liquidationPrice = "liquidation_price"
        }
    }

    package struct Entry: Codable, Sendable, Equatable {
        package var modelID: String
        package var llmModel: String?
        package var positions: [String: Position]

        package init(modelID: String, llmModel: String? = nil, positions: [String: Position]) {
            self.modelID = modelID
            self.llmModel = llmModel
            self.positions = positions
        }

        enum CodingKeys: String, CodingKey {
            case modelID = "model_id"
            case llmModel = "llm_model"
            case positions
        }
    }

    /// The capture names this list `accountTotals`; kept for dashboard compatibility.
    package var accountTotals: [Entry]
    package var serverTime: Int64?

    package init(accountTotals: [Entry], serverTime: Int64? = nil) {
        self.accountTotals = accountTotals
        self.serverTime = serverTime
    }
}
