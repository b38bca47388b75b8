import ArenaAdapters
import ArenaCore
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Publishes the arena as one snapshot generation (the nof1 documents, atomically) and hands the publication to
/// the persistence sinks. As a `Service` (`engine run`) it ticks on the engine's clock once the manager has prepared:
/// it publishes when a cycle has changed the state (coalesced, at most once a tick) and every export interval, and
/// once more after the manager has stopped (it is shut down after it). `engine run --once` and backtests call
/// `export` themselves.
package struct SnapshotExporter: Service {
    let publisher: SnapshotPublisher
    let store: ManagerStore
    let traders: [ArenaManager.Trader]
    let exchanges: [String: any ExchangeProvider]
    /// PostgreSQL and Redis, when configured: handed every publication, never waited on.
    let sinks: [any PersistenceSink]
    /// Whether the rebalances document is published (`performance_based` rebalancing).
    let includesRebalances: Bool
    /// The manager's reserve, shown on the leaderboard.
    var reserveUSD: Double? = nil
    let clock: any ArenaClock
    /// Clock milliseconds between two looks at the state.
    package let tickInterval: Int64
    /// Clock milliseconds between two exports when nothing changed.
    let exportInterval: Int64
    /// Whether the manager has prepared (paper accounts open, state begun): nothing is exported before.
    let isReady: @Sendable () -> Bool
    let logger: Logger

    package func run() async throws {
        while !isReady() {
            if Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        var lastExport: Int64?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now()
            let isDue = lastExport.map { now - $0 >= exportInterval } ?? true
            if store.takeDirty() || isDue {
                await export(now: now)
                lastExport = now
            }
            try? await clock.sleep(until: now + tickInterval)
        }
        // The manager has stopped before this (the services shut down in reverse order): its last cycles are in.
        await export(now: clock.now())
    }

    func export(now: Int64) async {
        do {
            var views: [ArenaSnapshotBuilder.TraderView] = []
            var live: [SnapshotPublication.TraderLive] = []
            var prices: [String: Double] = [:]
            for trader in traders {
                guard let exchange = exchanges[trader.configuration.exchangeProvider] else { continue }
                let account = try await exchange.account(trader: trader.configuration.id)
                views.append(
                    .init(
                        configuration: trader.configuration,
                        state: store.state(trader.configuration.id),
                        account: account,
                        trades: try await exchange.closedTrades(trader: trader.configuration.id),
                        suspension: store.suspended[trader.configuration.id]
                    )
                )
                live.append(
                    .init(
                        id: trader.configuration.id,
                        exchangeProvider: trader.configuration.exchangeProvider,
                        account: account
                    )
                )
                if let sim = exchange as? any PaperVenue {
                    prices.merge(await sim.marks) { first, _ in first }
                }
            }
            let files = try ArenaSnapshotBuilder(
                traders: views,
                prices: prices,
                now: now,
                rebalances: includesRebalances ? store.state.rebalances ?? [] : nil,
                reserveUSD: reserveUSD
            ).encodedFiles()
            let generation = try publisher.publish(files)
            if !sinks.isEmpty {
                let publication = SnapshotPublication(
                    generation: generation,
                    now: now,
                    files: files,
                    traders: live,
                    prices: prices
                )
                for sink in sinks { sink.snapshotPublished(publication) }
            }
        } catch {
            logger.error("snapshot export failed", metadata: ["error": "\(error)"])
        }
    }
}
