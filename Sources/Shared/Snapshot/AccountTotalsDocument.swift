/// `GET /api/account-totals`: one row per trader per hourly marker. Timestamps are Unix seconds (float).
package struct AccountTotalsDocument: Codable, Sendable, Equatable {
    /// An open position as account totals show it: the fields of `positions` plus order ids and costs.
    package struct Position: Codable, Sendable, Equatable {
        package var entryOID: Int64
        package var oid: Int64
        package var tpOID: Int64
        package var slOID: Int64
        package var riskUSD: Double
        /// 0..1.
        package var confidence: Double
        @ExplicitNull package var indexCol: String?
        package var exitPlan: ExitPlan
        /// Unix seconds.
        package var entryTime: Double
        package var symbol: String
        package var entryPrice: Double
        package var margin: Double
        package var waitForFill: Bool
        package var currentPrice: Double
        package var closedPnL: Double
        package var liquidationPrice: Double
        package var commission: Double
        package var leverage: Double
        package var slippage: Double
        /// Negative for shorts.
        package var quantity: Double
        package var unrealizedPnL: Double

        package init(
            entryOID: Int64,
            oid: Int64,
            tpOID: Int64,
            slOID: Int64,
            riskUSD: Double,
            confidence: Double,
            indexCol: String? = nil,
            exitPlan: ExitPlan,
            entryTime: Double,
            symbol: String,
            entryPrice: Double,
            margin: Double,
            waitForFill: Bool,
            currentPrice: Double,
            closedPnL: Double,
            liquidationPrice: Double,
            commission: Double,
            leverage: Double,
            slippage: Double,
            quantity: Double,
            unrealizedPnL: Double
        ) {
            self.entryOID = entryOID
            self.oid = oid
            self.tpOID = tpOID
            self.slOID = slOID
            self.riskUSD = riskUSD
            self.confidence = confidence
            self.indexCol = indexCol
            self.exitPlan = exitPlan
            self.entryTime = entryTime
            self.symbol = symbol
            self.entryPrice = entryPrice
            self.margin = margin
            self.waitForFill = waitForFill
            self.currentPrice = currentPrice
            self.closedPnL = closedPnL
            self.liquidationPrice = liquidationPrice
            self.commission = commission
            self.leverage = leverage
            self.slippage = slippage
            self.quantity = quantity
            self.unrealizedPnL = unrealizedPnL
        }

        enum CodingKeys: String, CodingKey {
            case entryOID = "entry_oid"
            case oid
            case tpOID = "tp_oid"
            case slOID = "sl_oid"
            case riskUSD = "risk_usd"
            case confidence
            case indexCol = "index_col"
            case exitPlan = "exit_plan"
            case entryTime = "entry_time"
            case symbol
            case entryPrice = "entry_price"
            case margin
            case waitForFill = "wait_for_fill"
            case currentPrice = "current_price"
            case closedPnL = "closed_pnl"
            case liquidationPrice = "liquidation_price"
            case commission
            case leverage
            case slippage
            case quantity
            case unrealizedPnL = "unrealized_pnl"
        }
    }

    package struct Row: Codable, Sendable, Equatable {
        /// `<model_id>_<hourly marker>`.
        package var id: String
        /// The trader id.
        package var modelID: String
        /// The LLM alias (added field).
        package var llmModel: String?
        /// Unix seconds.
        package var timestamp: Double
        package var dollarEquity: Double
        package var realizedPnL: Double
        package var totalUnrealizedPnL: Double
        /// Percent.
        package var cumPnLPct: Double
        package var sharpeRatio: Double
        package var sinceInceptionHourlyMarker: Int
        package var sinceInceptionMinuteMarker: Int
        package var positions: [String: Position]
        /// Model cost up to this row, in US dollars (added field).
        package var llmCostUSD: Double?
        /// `dollar_equity` minus inception capital minus `llm_cost_usd` (added field).
        package var pnlNetOfLLMUSD: Double?

        package init(
            id: String,
            modelID: String,
            llmModel: String? = nil,
            timestamp: Double,
            dollarEquity: Double,
            realizedPnL: Double,
            totalUnrealizedPnL: Double,
            cumPnLPct: Double,
            sharpeRatio: Double,
            sinceInceptionHourlyMarker: Int,
            sinceInceptionMinuteMarker: Int,
            positions: [String: Position],
            llmCostUSD: Double? = nil,
            pnlNetOfLLMUSD: Double? = nil
        ) {
            self.id = id
            self.modelID = modelID
            self.llmModel = llmModel
            self.timestamp = timestamp
            self.dollarEquity = dollarEquity
            self.realizedPnL = realizedPnL
            self.totalUnrealizedPnL = totalUnrealizedPnL
            self.cumPnLPct = cumPnLPct
            self.sharpeRatio = sharpeRatio
            self.sinceInceptionHourlyMarker = sinceInceptionHourlyMarker
            self.sinceInceptionMinuteMarker = sinceInceptionMinuteMarker
            self.positions = positions
            self.llmCostUSD = llmCostUSD
            self.pnlNetOfLLMUSD = pnlNetOfLLMUSD
        }

        enum CodingKeys: String, CodingKey {
            case id
            case modelID = "model_id"
            case llmModel = "llm_model"
            case timestamp
            case dollarEquity = "dollar_equity"
            case realizedPnL = "realized_pnl"
            case totalUnrealizedPnL = "total_unrealized_pnl"
            case cumPnLPct = "cum_pnl_pct"
            case sharpeRatio = "sharpe_ratio"
            case sinceInceptionHourlyMarker = "since_inception_hourly_marker"
            case sinceInceptionMinuteMarker = "since_inception_minute_marker"
            case positions
            case llmCostUSD = "llm_cost_usd"
            case pnlNetOfLLMUSD = "pnl_net_of_llm_usd"
        }
    }

    package var accountTotals: [Row]
    /// The largest hourly marker in `accountTotals`.
    package var lastHourlyMarkerRead: Int
    package var serverTime: Int64?

    package init(accountTotals: [Row], lastHourlyMarkerRead: Int, serverTime: Int64? = nil) {
        self.accountTotals = accountTotals
        self.lastHourlyMarkerRead = lastHourlyMarkerRead
        self.serverTime = serverTime
    }

    /// Only the rows newer than `marker`, as `?lastHourlyMarker=N` asks.
    package func rows(after marker: Int) -> AccountTotalsDocument {
        let rows = accountTotals.filter { $0.sinceInceptionHourlyMarker > marker }
        return AccountTotalsDocument(
            accountTotals: rows,
            lastHourlyMarkerRead: rows.map(\.sinceInceptionHourlyMarker).max() ?? lastHourlyMarkerRead,
            serverTime: serverTime
        )
    }
}
