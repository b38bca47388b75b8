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
    /// `account` then `closedTrades`, in one call where the venue can (the paper exchange, every tick of a
    /// backtest).
    func accountAndClosedTrades(trader: String) async throws -> (account: TraderAccount, trades: [ClosedTrade])
    /// Once per cycle, before deciding: re-arm safety nets (a live venue's dead-man's switch) and check that every
    /// open position has its stop, re-placing a missing one. Returns the symbols still without a stop.
    func maintain(trader: String, account: TraderAccount) async throws -> [String]
    /// What the venue knows of an order by its cloid: its result, or nil when the venue never saw it. Used at
    /// restart to complete a cycle the engine stopped in while sending (`CycleRecovery`).
    func lookup(_ order: OrderRequest) async throws -> OrderResult?
    /// The venue's mark of each symbol now: the price accepted entries are judged at again just before they are
    /// sent. A symbol the venue has no mark for is absent.
    func currentMarks(symbols: [String]) async throws -> [String: Double]
    /// Every engine tick, whatever the traders' cycles do: keep the venue's safety nets alive (a live venue's
    /// dead-man's switch re-armed before it can fire) and, when protection may have been stripped (the switch
    /// fired, or this is the first tick after a start), put every position's stop and target back from the entry
    /// plans. Returns what it did, for the log and metrics.
    func keepAlive(traders: [String], now: Int64) async throws -> KeepAliveReport
}

/// What `ExchangeProvider.keepAlive` did on one tick.
package struct KeepAliveReport: Sendable, Equatable {
    /// The dead-man's switch was armed again.
    package var rearmed = false
    /// The switch had fired (its deadline passed without a re-arm) before this tick.
    package var switchFired = false
    /// Stops and targets put back, as "SYMBOL stop" / "SYMBOL target".
    package var replaced: [String] = []
    /// Positions still without a stop.
    package var unprotected: [String] = []

    package init(rearmed: Bool = false, switchFired: Bool = false, replaced: [String] = [], unprotected: [String] = [])
    {
        self.rearmed = rearmed
        self.switchFired = switchFired
        self.replaced = replaced
        self.unprotected = unprotected
    }
}

extension ExchangeProvider {
    /// A venue without safety nets of its own (the paper exchange's triggers live in its ledger): nothing to keep.
    package func keepAlive(traders: [String], now: Int64) async throws -> KeepAliveReport { KeepAliveReport() }

    package func accountAndClosedTrades(
        trader: String
    ) async throws -> (account: TraderAccount, trades: [ClosedTrade]) {
        let account = try await account(trader: trader)
        return (account, try await closedTrades(trader: trader))
    }
}

/// A paper venue: the engine opens its accounts, marks it from the market, and moves capital between its accounts
/// (rebalancing). A live venue is none of these: its accounts, prices and balances are the exchange's.
package protocol PaperVenue: ExchangeProvider {
    /// Opens the trader's account with `capital` the first time; an existing account is kept as it is.
    func openAccount(trader: String, capital: Double) async throws
    /// Marks every position, applies funding, fires triggers and liquidations at clock time `now`.
    func updateMarket(prices: [String: Double], funding: [String: Double], now: Int64) async throws
    /// The last mark per symbol.
    var marks: [String: Double] { get async }
    /// Whether no account holds a position or a resting order (a market update then only moves the marks).
    var isIdle: Bool { get async }
    /// Moves `amount` (negative: out of) the trader's cash for rebalance number `rebalance`; false when that
    /// rebalance was applied already.
    @discardableResult
    func transfer(trader: String, amount: Double, rebalance: Int) async throws -> Bool
}
