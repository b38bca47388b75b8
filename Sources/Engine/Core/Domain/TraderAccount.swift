/// An open position of one trader.
package struct Position: Sendable, Equatable, Codable {
    package var symbol: String
    /// Signed: negative for shorts.
    package var quantity: Double
    package var entryPrice: Double
    package var leverage: Double
    /// Isolated margin locked for this position.
    package var margin: Double
    package var liquidationPrice: Double
    package var markPrice: Double
    package var stopLoss: Double?
    package var takeProfit: Double?
    /// Unix ms.
    package var openedAt: Int64
    package var entryOrderID: Int64
    package var stopOrderID: Int64?
    package var takeProfitOrderID: Int64?
    package var confidence: Double
    package var riskUSD: Double
    package var invalidationCondition: String
    /// Fees paid on the entry fill.
    package var entryFee: Double
    /// Funding paid (positive) or received (negative) while open.
    package var fundingPaid: Double

    package var direction: Double { quantity >= 0 ? 1 : -1 }
    package var notional: Double { abs(quantity) * markPrice }
    package var unrealizedPnL: Double { quantity * (markPrice - entryPrice) }

    package init(
        symbol: String,
        quantity: Double,
        entryPrice: Double,
        leverage: Double,
        margin: Double,
        liquidationPrice: Double,
        markPrice: Double,
        stopLoss: Double? = nil,
        takeProfit: Double? = nil,
        openedAt: Int64,
        entryOrderID: Int64,
        stopOrderID: Int64? = nil,
        takeProfitOrderID: Int64? = nil,
        confidence: Double,
        riskUSD: Double,
        invalidationCondition: String,
        entryFee: Double,
        fundingPaid: Double
    ) {
        self.symbol = symbol
        self.quantity = quantity
        self.entryPrice = entryPrice
        self.leverage = leverage
        self.margin = margin
        self.liquidationPrice = liquidationPrice
        self.markPrice = markPrice
        self.stopLoss = stopLoss
        self.takeProfit = takeProfit
        self.openedAt = openedAt
        self.entryOrderID = entryOrderID
        self.stopOrderID = stopOrderID
        self.takeProfitOrderID = takeProfitOrderID
        self.confidence = confidence
        self.riskUSD = riskUSD
        self.invalidationCondition = invalidationCondition
        self.entryFee = entryFee
        self.fundingPaid = fundingPaid
    }
}

/// A trader's virtual account: its slice of capital and the positions it opened.
package struct TraderAccount: Sendable, Equatable, Codable {
    /// Cash not locked as margin.
    package var cash: Double
    package var positions: [String: Position]
    package var realizedPnL: Double
    package var feesPaid: Double

    // Sums run in symbol order: dictionary order differs between processes, and floating-point addition is not
    // associative, so any other order would make two runs of the same backtest differ in the last digit.
    package var marginUsed: Double { orderedPositions.reduce(0) { $0 + $1.margin } }
    package var unrealizedPnL: Double { orderedPositions.reduce(0) { $0 + $1.unrealizedPnL } }
    package var orderedPositions: [Position] {
        // One position (or none) is in order already: the common case, every tick.
        positions.count < 2 ? Array(positions.values) : positions.keys.sorted().compactMap { positions[$0] }
    }
    /// The same sums in the same order as `marginUsed` and `unrealizedPnL`, over one ordering of the positions.
    package var equity: Double {
        // One position or none (every tick of a backtest): the same sums, no array made.
        if positions.count < 2 {
            let only = positions.values.first
            return cash + (0 + (only?.margin ?? 0)) + (0 + (only?.unrealizedPnL ?? 0))
        }
        let ordered = orderedPositions
        return cash + ordered.reduce(0) { $0 + $1.margin } + ordered.reduce(0) { $0 + $1.unrealizedPnL }
    }

    /// PnL realized so far net of every fee and funding payment: the closed trades' net PnL, less what the open
    /// positions have paid already (their entry fees and funding). Inception capital (with rebalance flows), plus
    /// this, plus the unrealized PnL, is the equity.
    package func realizedNetPnL(closedTrades: [ClosedTrade]) -> Double {
        closedTrades.reduce(0) { $0 + $1.netPnL } - orderedPositions.reduce(0) { $0 + $1.entryFee + $1.fundingPaid }
    }

    package init(
        cash: Double,
        positions: [String: Position],
        realizedPnL: Double,
        feesPaid: Double
    ) {
        self.cash = cash
        self.positions = positions
        self.realizedPnL = realizedPnL
        self.feesPaid = feesPaid
    }
}
