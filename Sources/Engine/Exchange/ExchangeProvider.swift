/// One order leg. The client order id (cloid) is derived from (trader, cycle, leg), so the same intent can never
/// become two orders: a venue that sees a cloid again returns the first result.
struct OrderRequest: Sendable, Equatable, Codable {
    enum Kind: String, Sendable, Codable {
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

    var cloid: String
    var trader: String
    var symbol: String
    var isBuy: Bool
    /// Base-asset quantity, positive.
    var size: Double
    var kind: Kind
    var limitPrice: Double?
    var triggerPrice: Double?
    var slippageBps: Double
    var isReduceOnly: Bool
    var leverage: Double
    /// What the entry was for (exported with the position).
    var plan: EntryPlan?

    struct EntryPlan: Sendable, Equatable, Codable {
        var stopLoss: Double?
        var takeProfit: Double?
        var confidence: Double
        var riskUSD: Double
        var invalidationCondition: String
    }
}

/// What the venue did with one order.
struct OrderResult: Sendable, Equatable, Codable {
    enum Status: String, Sendable, Codable {
        case filled
        case resting
        case cancelled
        case rejected
    }

    var cloid: String
    var status: Status
    var orderID: Int64
    var filledSize: Double
    var averagePrice: Double
    var fee: Double
    var reason: ReasonCode?
    var message: String?
}

enum ExchangeError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownTrader(String)
    case unavailable(String)

    var description: String {
        switch self {
        case .unknownTrader(let trader): "no account for trader \(trader)"
        case .unavailable(let reason): "exchange unavailable: \(reason)"
        }
    }
}

/// A venue. Every call is per trader: a trader sees and changes only what it owns.
protocol ExchangeProvider: Sendable {
    var id: String { get }
    var takerFeeRate: Double { get }
    func account(trader: String) async throws -> TraderAccount
    func submit(_ orders: [OrderRequest]) async throws -> [OrderResult]
    func cancel(trader: String, symbol: String) async throws
    /// Round trips the trader has closed, oldest first.
    func closedTrades(trader: String) async throws -> [ClosedTrade]
    /// Once per cycle, before deciding: re-arm safety nets (a live venue's dead-man's switch) and check that every
    /// open position has its stop, re-placing a missing one. Returns the symbols still without a stop.
    func maintain(trader: String, account: TraderAccount) async throws -> [String]
    /// What the venue knows of an order by its cloid: its result, or nil when the venue never saw it. Used at
    /// restart to complete a cycle the engine stopped in while sending (`CycleRecovery`).
    func lookup(_ order: OrderRequest) async throws -> OrderResult?
}

extension ExchangeProvider {
    /// The paper exchange keeps stops in its own ledger: nothing to maintain.
    func maintain(trader: String, account: TraderAccount) async throws -> [String] { [] }
}

typealias ClosedTrade = SimLedger.ClosedTrade
