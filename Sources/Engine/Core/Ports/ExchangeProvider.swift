package enum ExchangeError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownTrader(String)
    case unavailable(String)

    package var description: String {
        switch self {
        case .unknownTrader(let trader): "no account for trader \(trader)"
        case .unavailable(let reason): "exchange unavailable: \(reason)"
        }
    }
}

/// A venue. Every call is per trader: a trader sees and changes only what it owns.
package protocol ExchangeProvider: Sendable {
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
    package func maintain(trader: String, account: TraderAccount) async throws -> [String] { [] }
}
