/// An open position of one trader.
struct Position: Sendable, Equatable, Codable {
    var symbol: String
    /// Signed: negative for shorts.
    var quantity: Double
    var entryPrice: Double
    var leverage: Double
    /// Isolated margin locked for this position.
    var margin: Double
    var liquidationPrice: Double
    var markPrice: Double
    var stopLoss: Double?
    var takeProfit: Double?
    /// Unix ms.
    var openedAt: Int64
    var entryOrderID: Int64
    var stopOrderID: Int64?
    var takeProfitOrderID: Int64?
    var confidence: Double
    var riskUSD: Double
    var invalidationCondition: String
    /// Fees paid on the entry fill.
    var entryFee: Double
    /// Funding paid (positive) or received (negative) while open.
    var fundingPaid: Double

    var direction: Double { quantity >= 0 ? 1 : -1 }
    var notional: Double { abs(quantity) * markPrice }
    var unrealizedPnL: Double { quantity * (markPrice - entryPrice) }
}

/// A trader's virtual account: its slice of capital and the positions it opened.
struct TraderAccount: Sendable, Equatable, Codable {
    /// Cash not locked as margin.
    var cash: Double
    var positions: [String: Position]
    var realizedPnL: Double
    var feesPaid: Double

    // Sums run in symbol order: dictionary order differs between processes, and floating-point addition is not
    // associative, so any other order would make two runs of the same backtest differ in the last digit.
    var marginUsed: Double { orderedPositions.reduce(0) { $0 + $1.margin } }
    var unrealizedPnL: Double { orderedPositions.reduce(0) { $0 + $1.unrealizedPnL } }
    var orderedPositions: [Position] { positions.keys.sorted().compactMap { positions[$0] } }
    var equity: Double { cash + marginUsed + unrealizedPnL }
}
