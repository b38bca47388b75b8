import ArenaCore
import Foundation
import Shared

/// The paper exchange: a `SimLedger` behind an actor, persisted atomically to `state_path` after every change,
/// so a paper account survives restarts.
package actor SimExchange: PaperVenue {
    package nonisolated let id: String
    package nonisolated let takerFeeRate: Double
    private var ledger: SimLedger
    private let statePath: String?

    package init(id: String, ledger: SimLedger, statePath: String?) {
        self.id = id
        self.takerFeeRate = ledger.takerFeeRate
        self.ledger = ledger
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
        guard statePath != nil else { return body(&ledger) }
        let before = ledger
        let result = body(&ledger)
        guard persisting(result) else { return result }
        do {
            try persist()
        } catch {
            ledger = before
            throw error
        }
        return result
    }

    /// A rebalance transfer (see `SimLedger.transfer`), persisted.
    @discardableResult
    package func transfer(trader: String, amount: Double, rebalance: Int) throws -> Bool {
        try change({ $0.transfer(trader: trader, amount: amount, rebalance: rebalance) }, persisting: { $0 })
    }

    package func account(trader: String) throws -> TraderAccount {
        guard let account = ledger.accounts[trader] else { throw ExchangeError.unknownTrader(trader) }
        return account.trader
    }

    package func submit(_ orders: [OrderRequest]) throws -> [OrderResult] {
        try change { ledger in orders.map { ledger.submit($0) } }
    }

    package func lookup(_ order: OrderRequest) -> OrderResult? {
        ledger.results[order.cloid]
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
        ledger.marks.filter { symbols.contains($0.key) }
    }

    /// Moves the marks; persists only when something besides the marks changed (a fill, funding, a trigger, a
    /// liquidation), since marks are re-read from the market after a restart anyway.
    package func updateMarket(prices: [String: Double], funding: [String: Double], now: Int64) throws {
        guard statePath != nil else {
            ledger.updateMarket(prices: prices, funding: funding, now: now)
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
        ledger.accounts[trader]?.closedTrades ?? []
    }

    package func accountAndClosedTrades(trader: String) throws -> (account: TraderAccount, trades: [ClosedTrade]) {
        guard let account = ledger.accounts[trader] else { throw ExchangeError.unknownTrader(trader) }
        return (account.trader, account.closedTrades)
    }

    package func restingOrders(trader: String) -> [SimLedger.RestingOrder] {
        ledger.accounts[trader]?.restingOrders ?? []
    }

    package var marks: [String: Double] { ledger.marks }

    package var state: SimLedger { ledger }

    private func persist() throws {
        guard let statePath else { return }
        try AtomicFile.replaceJSON(statePath, with: ledger)
    }
}

package struct SimStateError: Error, CustomStringConvertible {
    package let path: String
    package let reason: String
    package var description: String { "paper exchange state \(path) is unreadable: \(reason)" }
}
