import ArenaAdapters
import ArenaCore
import Foundation
import Logging
import Shared

/// Publishes the arena as one snapshot generation (the nof1 documents, atomically) and hands the publication to
/// the persistence sinks. The manager calls it after cycles (coalesced) and every export interval.
struct SnapshotExporter: Sendable {
    let publisher: SnapshotPublisher
    let store: ManagerStore
    let traders: [ArenaManager.Trader]
    let exchanges: [String: any ExchangeProvider]
    /// PostgreSQL and Redis, when configured: handed every publication, never waited on.
    let sinks: [any PersistenceSink]
    /// Whether the rebalances document is published (`performance_based` rebalancing).
    let includesRebalances: Bool
    let logger: Logger

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
                        state: await store.state(trader.configuration.id),
                        account: account,
                        trades: try await exchange.closedTrades(trader: trader.configuration.id)
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
                rebalances: includesRebalances ? await store.state.rebalances ?? [] : nil
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
