import ArenaCore
import Foundation
import Shared
import Synchronization

/// The paper exchange: a `SimLedger` behind a lock, persisted atomically to `state_path` after every change,
/// so a paper account survives restarts.
///
/// A lock, not an actor: every call is a few microseconds of arithmetic on the ledger, and a backtest calls it twice
/// on every tick — as an actor, each call switched executors twice (the 1-hour benchmark backtest takes ~10 % less
/// time without). Calls are still one at a time. When a state file is kept, its write (milliseconds, with its
/// fsyncs) happens under the lock, so a concurrent caller's thread waits that long instead of suspending.
package final class SimExchange: PaperVenue {
    package let id: String
    package let takerFeeRate: Double
    private let guarded: Mutex<SimLedger>
    private let statePath: String?

    package init(id: String, ledger: SimLedger, statePath: String?) {
        self.id = id
        self.takerFeeRate = ledger.takerFeeRate
        self.guarded = Mutex(ledger)
        self.statePath = statePath
    }

    /// Restores the ledger from `statePath` when it exists, else starts empty with the configured fees.
    package static func open(configuration: ExchangeConfiguration.Provider) throws -> SimExchange {
        var ledger = SimLedger(
            takerFeeBps: configuration.takerFeeBps,
            makerFeeBps: configuration.makerFeeBps,
            slippageBps: configuration.slippageBps
        )
        if let path = configuration.statePath, let data = FileManager.default.contents(atPath: path) {
            do {
                ledger = try JSONDecoder().decode(SimLedger.self, from: data)
            } catch {
                throw SimStateError(path: path, reason: "\(error)")
            }
        }
        return SimExchange(id: configuration.id, ledger: ledger, statePath: configuration.statePath)
    }

    package func openAccount(trader: String, capital: Double) throws {
        try change { $0.openAccount(trader: trader, capital: capital) }
    }

    /// Applies `body` to the ledger and saves the result before anyone is told: when the state cannot be saved
    /// (a full disk), the ledger is put back as it was and the call fails, so nothing is reported — a fill, a
    /// transfer — that a restart would not find. `persisting` says whether the result changed anything worth
    /// saving.
    @discardableResult
    private func change<T>(
        _ body: (inout SimLedger) -> T,
        persisting: (T) -> Bool = { _ in true }
    ) throws -> T {
        try guarded.withLock { ledger throws -> T in
            guard let statePath else { return body(&ledger) }
            let before = ledger
            let result = body(&ledger)
            guard persisting(result) else { return result }
            do {
                try AtomicFile.replaceJSON(statePath, with: ledger)
            } catch {
                ledger = before
                throw error
            }
            return result
        }
    }

    /// `body` on the ledger as it is now.
    private func read<T>(_ body: (borrowing SimLedger) throws -> T) rethrows -> T {
        try guarded.withLock { ledger in try body(ledger) }
    }

    /// A rebalance transfer (see `SimLedger.transfer`), persisted.
    @discardableResult
    package func transfer(trader: String, amount: Double, rebalance: Int) throws -> Bool {
        try change({ $0.transfer(trader: trader, amount: amount, rebalance: rebalance) }, persisting: { $0 })
    }

    package func account(trader: String) throws -> TraderAccount {
        try read { ledger in
            guard let account = ledger.accounts[trader] else { throw ExchangeError.unknownTrader(trader) }
            return account.trader
        }
    }

    package func submit(_ orders: [OrderRequest]) throws -> [OrderResult] {
        try change { ledger in orders.map { ledger.submit($0) } }
    }

    package func lookup(_ order: OrderRequest) -> OrderResult? {
        read { $0.results[order.cloid] }
    }

    package func cancel(trader: String, symbol: String) throws {
        try change { $0.cancel(trader: trader, symbol: symbol) }
    }

    /// Every position's stop and target put back from its plan where none rests (`SimLedger.protect`); returns the
    /// positions still without a stop.
    package func maintain(trader: String, account: TraderAccount) throws -> [String] {
        try change({ $0.protect(trader: trader) }, persisting: { !$0.replaced.isEmpty }).unprotected
    }

    package func currentMarks(symbols: [String]) -> [String: Double] {
        read { $0.marks.filter { symbols.contains($0.key) } }
    }

    /// Moves the marks; persists only when something besides the marks changed (a fill, funding, a trigger, a
    /// liquidation), since marks are re-read from the market after a restart anyway.
    package func updateMarket(prices: [String: Double], funding: [String: Double], now: Int64) throws {
        guard statePath != nil else {
            guarded.withLock { $0.updateMarket(prices: prices, funding: funding, now: now) }
            return
        }
        try change(
            { ledger in
                let before = ledger.ledgerFingerprint
                ledger.updateMarket(prices: prices, funding: funding, now: now)
                return ledger.ledgerFingerprint != before
            },
            persisting: { $0 }
        )
    }

    package func closedTrades(trader: String) -> [ClosedTrade] {
        read { $0.accounts[trader]?.closedTrades ?? [] }
    }

    package func accountAndClosedTrades(trader: String) throws -> (account: TraderAccount, trades: [ClosedTrade]) {
        try read { ledger in
            guard let account = ledger.accounts[trader] else { throw ExchangeError.unknownTrader(trader) }
            return (account.trader, account.closedTrades)
        }
    }

    package func restingOrders(trader: String) -> [SimLedger.RestingOrder] {
        read { $0.accounts[trader]?.restingOrders ?? [] }
    }

    package var marks: [String: Double] { read { $0.marks } }

    package var isIdle: Bool { read { $0.isIdle } }

    package var state: SimLedger { read { $0 } }
}

package struct SimStateError: Error, CustomStringConvertible {
    package let path: String
    package let reason: String
    package var description: String { "paper exchange state \(path) is unreadable: \(reason)" }
}
