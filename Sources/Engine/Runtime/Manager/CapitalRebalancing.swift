import ArenaAdapters
import ArenaCore
import Foundation
import Logging
import Shared

/// `performance_based` capital rebalancing between paper traders: every interval, between cycles, it gathers each
/// trader's KPIs, plans the moves (`Rebalancer`), journals them (fsynced, `RebalanceLog`) and only then moves the
/// capital. Nothing moves when the journal cannot be written; the journal is re-applied at start.
package struct CapitalRebalancing: Sendable {
    let settings: ArenaManager.Rebalancing
    let store: ManagerStore
    let traders: [ArenaManager.Trader]
    let exchanges: [String: any ExchangeProvider]
    let logger: Logger

    /// Every `rebalance_interval`, between cycles: gathers each paper trader's KPIs, plans the moves, journals
    /// them (fsynced) and only then moves the capital. Nothing moves when the journal cannot be written.
    func runIfDue(now: Int64, persist: () async -> Void) async {
        guard let last = store.lastRebalanceAt else {
            // The first interval starts now: a plan needs some history to judge by.
            store.armRebalancing(at: now)
            return
        }
        guard now - last >= settings.interval, store.runningCount == 0 else { return }
        store.armRebalancing(at: now)
        let (candidates, skipped) = await candidates()
        let moves = settings.rebalancer.plan(candidates)
        guard !moves.isEmpty else {
            logger.info("rebalance due: no capital to move", metadata: ["traders": "\(candidates.count)"])
            return
        }
        let byID = Dictionary(uniqueKeysWithValues: moves.map { ($0.id, $0) })
        let bounds = settings.rebalancer
        let rebalance = RebalancesDocument.Rebalance(
            id: store.nextRebalanceID,
            timestamp: now,
            poolUSD: candidates.reduce(0) { $0 + $1.equity },
            moves: candidates.map { candidate in
                let score = Rebalancer.score(
                    sharpe: candidate.sharpe,
                    drawdownPct: candidate.drawdownPct,
                    utilisation: candidate.utilisation
                )
                return .init(
                    modelID: candidate.id,
                    equityBefore: candidate.equity,
                    amountUSD: byID[candidate.id]?.amount ?? 0,
                    targetPct: byID[candidate.id]?.targetPct ?? candidate.equity / bounds.totalEquityUSD * 100,
                    score: score,
                    sharpe: candidate.sharpe,
                    drawdownPct: candidate.drawdownPct,
                    utilisationPct: candidate.utilisation * 100,
                    marginUsed: candidate.marginUsed
                )
            },
            skipped: skipped
        )
        do {
            try settings.log.append(rebalance)
        } catch {
            logger.error("rebalance not journaled: no capital moved", metadata: ["error": "\(error)"])
            return
        }
        await apply(rebalance)
        logger.notice(
            "capital rebalanced",
            metadata: [
                "rebalance": "\(rebalance.id)",
                "moved_usd": "\(moves.filter { $0.amount > 0 }.reduce(0) { $0 + $1.amount })",
            ]
        )
        await persist()
    }

    /// The traders that take part in a rebalance, with their KPIs, and those left out with why.
    func candidates() async -> ([Rebalancer.Candidate], [RebalancesDocument.Skipped]) {
        var candidates: [Rebalancer.Candidate] = []
        var skipped: [RebalancesDocument.Skipped] = []
        let suspended = store.suspended
        for trader in traders.sorted(by: { $0.configuration.id < $1.configuration.id }) {
            let id = trader.configuration.id
            guard trader.configuration.autoStart else {
                skipped.append(.init(modelID: id, reason: "not started (auto_start: false)"))
                continue
            }
            guard let sim = exchanges[trader.configuration.exchangeProvider] as? any PaperVenue else {
                skipped.append(.init(modelID: id, reason: "live venue: its capital is what the venue account holds"))
                continue
            }
            guard let account = try? await sim.account(trader: id) else {
                skipped.append(.init(modelID: id, reason: "no paper account"))
                continue
            }
            let state = store.state(id)
            let week = state.equityHistory.suffix(24 * 7)
            let shares = week.compactMap { point in point.marginUsed.map { point.equity > 0 ? $0 / point.equity : 0 } }
            let current = account.equity > 0 ? account.marginUsed / account.equity : 0
            candidates.append(
                .init(
                    id: id,
                    equity: account.equity,
                    cash: account.cash,
                    unrealizedPnL: account.unrealizedPnL,
                    marginUsed: account.marginUsed,
                    // Under a day of hourly points a Sharpe ratio is noise: it counts as neutral until then.
                    sharpe: week.count >= 24 ? Performance.sharpe(Array(week)) : 0,
                    drawdownPct: state.peakEquity > 0 ? max(0, (1 - account.equity / state.peakEquity) * 100) : 0,
                    utilisation: shares.isEmpty ? current : shares.reduce(0, +) / Double(shares.count),
                    mayReceive: !state.isDrawdownLimitHit && !state.isDailyLossLimitHit && suspended[id] == nil
                )
            )
        }
        return (candidates, skipped)
    }

    /// Applies a journaled rebalance: the paper ledger's cash, then the trader's measures. Each side remembers
    /// the last rebalance it applied, so re-applying after a crash moves nothing twice.
    func apply(_ rebalance: RebalancesDocument.Rebalance) async {
        for move in rebalance.moves where move.amountUSD != 0 {
            guard let trader = traders.first(where: { $0.configuration.id == move.modelID }),
                let sim = exchanges[trader.configuration.exchangeProvider] as? any PaperVenue
            else {
                logger.error(
                    "journaled rebalance names a trader that is not on a paper venue now; its move is not applied",
                    metadata: ["rebalance": "\(rebalance.id)", "trader": "\(move.modelID)"]
                )
                continue
            }
            do {
                try await sim.transfer(trader: move.modelID, amount: move.amountUSD, rebalance: rebalance.id)
            } catch {
                logger.error(
                    "paper ledger not saved after a rebalance transfer",
                    metadata: ["trader": "\(move.modelID)", "error": "\(error)"]
                )
            }
            store.applyTransfer(trader: move.modelID, amount: move.amountUSD, rebalance: rebalance.id)
        }
        store.recordRebalance(rebalance)
    }

    /// Re-applies the rebalance journal at start (a crash between journaling and applying loses nothing).
    func recover() async throws {
        for rebalance in try settings.log.entries() { await apply(rebalance) }
    }
}
