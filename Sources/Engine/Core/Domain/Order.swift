/// One order leg. The client order id (cloid) is derived from (trader, cycle, leg), so the same intent can never
/// become two orders: a venue that sees a cloid again returns the first result.
package struct OrderRequest: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable {
        /// Immediate-or-cancel at the mark, no worse than `slippageBps` from it.
        case marketIOC = "market_ioc"
        case limitIOC = "limit_ioc"
        case limitGTC = "limit_gtc"
        /// Add-liquidity-only: rejected if it would cross.
        case limitALO = "limit_alo"
        /// Reduce-only market order fired when the mark crosses `triggerPrice` against the position.
        case stopLoss = "stop_loss"
        /// Reduce-only market order fired when the mark crosses `triggerPrice` in the position's favour.
        case takeProfit = "take_profit"
    }

    package var cloid: String
    package var trader: String
    package var symbol: String
    package var isBuy: Bool
    /// Base-asset quantity, positive.
    package var size: Double
    package var kind: Kind
    package var limitPrice: Double?
    package var triggerPrice: Double?
    package var slippageBps: Double
    package var isReduceOnly: Bool
    package var leverage: Double
    /// What the entry was for (exported with the position).
    package var plan: EntryPlan?

    package struct EntryPlan: Sendable, Equatable, Codable {
        package var stopLoss: Double?
        package var takeProfit: Double?
        package var confidence: Double
        package var riskUSD: Double
        package var invalidationCondition: String

        package init(
            stopLoss: Double? = nil,
            takeProfit: Double? = nil,
            confidence: Double,
            riskUSD: Double,
            invalidationCondition: String
        ) {
            self.stopLoss = stopLoss
            self.takeProfit = takeProfit
            self.confidence = confidence
            self.riskUSD = riskUSD
            self.invalidationCondition = invalidationCondition
        }
    }

    package init(
        cloid: String,
        trader: String,
        symbol: String,
        isBuy: Bool,
        size: Double,
        kind: Kind,
        limitPrice: Double? = nil,
        triggerPrice: Double? = nil,
        slippageBps: Double,
        isReduceOnly: Bool,
        leverage: Double,
        plan: EntryPlan? = nil
    ) {
        self.cloid = cloid
        self.trader = trader
        self.symbol = symbol
        self.isBuy = isBuy
        self.size = size
        self.kind = kind
        self.limitPrice = limitPrice
        self.triggerPrice = triggerPrice
        self.slippageBps = slippageBps
        self.isReduceOnly = isReduceOnly
        self.leverage = leverage
        self.plan = plan
    }
}

/// What the venue did with one order.
package struct OrderResult: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Codable {
        case filled
        case resting
        case cancelled
        case rejected
    }

    package var cloid: String
    package var status: Status
    package var orderID: Int64
    package var filledSize: Double
    package var averagePrice: Double
    package var fee: Double
    package var reason: ReasonCode?
    package var message: String?

    package init(
        cloid: String,
        status: Status,
        orderID: Int64,
        filledSize: Double,
        averagePrice: Double,
        fee: Double,
        reason: ReasonCode? = nil,
        message: String? = nil
    ) {
        self.cloid = cloid
        self.status = status
        self.orderID = orderID
        self.filledSize = filledSize
        self.averagePrice = averagePrice
        self.fee = fee
        self.reason = reason
        self.message = message
    }
}

/// A round trip, from the fill that opened a position to the one that closed it.
package struct ClosedTrade: Sendable, Codable, Equatable {
    package var tradeID: Int64
    package var trader: String
    package var symbol: String
    /// Signed entry quantity.
    package var quantity: Double
    package var leverage: Double
    package var confidence: Double
    package var entryOrderID: Int64
    package var exitOrderID: Int64
    package var entryTime: Int64
    package var exitTime: Int64
    package var entryPrice: Double
    package var exitPrice: Double
    package var entryFee: Double
    package var exitFee: Double
    package var fundingPaid: Double
    package var wasLiquidated: Bool
    package var exitPlan: OrderRequest.EntryPlan?

    package var grossPnL: Double { quantity * (exitPrice - entryPrice) }
    package var netPnL: Double { grossPnL - entryFee - exitFee - fundingPaid }

    package init(
        tradeID: Int64,
        trader: String,
        symbol: String,
        quantity: Double,
        leverage: Double,
        confidence: Double,
        entryOrderID: Int64,
        exitOrderID: Int64,
        entryTime: Int64,
        exitTime: Int64,
        entryPrice: Double,
        exitPrice: Double,
        entryFee: Double,
        exitFee: Double,
        fundingPaid: Double,
        wasLiquidated: Bool,
        exitPlan: OrderRequest.EntryPlan? = nil
    ) {
        self.tradeID = tradeID
        self.trader = trader
        self.symbol = symbol
        self.quantity = quantity
        self.leverage = leverage
        self.confidence = confidence
        self.entryOrderID = entryOrderID
        self.exitOrderID = exitOrderID
        self.entryTime = entryTime
        self.exitTime = exitTime
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.entryFee = entryFee
        self.exitFee = exitFee
        self.fundingPaid = fundingPaid
        self.wasLiquidated = wasLiquidated
        self.exitPlan = exitPlan
    }
}
