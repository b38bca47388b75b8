import Foundation
import Logging
import Shared

/// Turns engine state into the nine API documents and publishes them as one snapshot generation.
struct SnapshotExporter: Sendable {
    let configuration: ArenaConfiguration
    let logger: Logger

    var publisher: SnapshotPublisher {
        SnapshotPublisher(
            root: configuration.dataPath,
            keepGenerations: configuration.export.keepGenerations,
            gracePeriod: configuration.export.gracePeriod
        )
    }

    /// Publishes the arena before any cycle: each enabled trader at its starting capital, no positions, no trades.
    @discardableResult
    func publishOpeningSnapshot(now: Date) throws -> Int {
        try publisher.publish(try OpeningSnapshot(configuration: configuration, now: now).encodedFiles())
    }
}

/// The documents of an arena where nothing has traded yet. Every field is present, with zero values.
struct OpeningSnapshot {
    let configuration: ArenaConfiguration
    let now: Date

    var startingCapital: [(trader: TraderConfiguration, capital: Double)] {
        configuration.enabledTraders.map { trader in
            (trader, configuration.manager.totalEquityUSD * trader.allocationPct / 100)
        }
    }

    func encodedFiles() throws -> [String: Data] {
        let encoder = SnapshotCoding.makeEncoder()
        let seconds = now.timeIntervalSince1970
        let traders = startingCapital
        func alias(_ trader: TraderConfiguration) -> String { trader.model }

        let accountTotals = AccountTotalsDocument(
            accountTotals: traders.map { trader, capital in
                .init(
                    id: "\(trader.id)_0",
                    modelID: trader.id,
                    llmModel: alias(trader),
                    timestamp: seconds,
                    dollarEquity: capital,
                    realizedPnL: 0,
                    totalUnrealizedPnL: 0,
                    cumPnLPct: 0,
                    sharpeRatio: 0,
                    sinceInceptionHourlyMarker: 0,
                    sinceInceptionMinuteMarker: 0,
                    positions: [:]
                )
            },
            lastHourlyMarkerRead: 0
        )
        let positions = PositionsDocument(
            accountTotals: traders.map { .init(modelID: $0.trader.id, llmModel: alias($0.trader), positions: [:]) }
        )
        let leaderboard = LeaderboardDocument(
            leaderboard: traders.map { trader, capital in
                .init(
                    id: trader.id,
                    llmModel: alias(trader),
                    numTrades: 0,
                    sharpe: 0,
                    winDollars: 0,
                    numLosses: 0,
                    loseDollars: 0,
                    returnPct: 0,
                    equity: capital,
                    numWins: 0
                )
            }
        )
        let sinceInception = SinceInceptionDocument(
            sinceInceptionValues: traders.map { trader, capital in
                .init(
                    id: trader.id,
                    navSinceInception: capital,
                    inceptionDate: seconds,
                    numInvocations: 0,
                    modelID: trader.id,
                    llmModel: alias(trader)
                )
            }
        )
        let analytics = AnalyticsDocument(
            analytics: traders.map {
                .init(
                    id: $0.trader.id,
                    modelID: $0.trader.id,
                    llmModel: alias($0.trader),
                    updatedAt: seconds
                )
            }
        )
        return [
            SnapshotDocument.cryptoPrices.fileName: try encoder.encode(CryptoPricesDocument(prices: [:])),
            SnapshotDocument.accountTotals.fileName: try encoder.encode(accountTotals),
            SnapshotDocument.trades.fileName: try encoder.encode(TradesDocument(trades: [])),
            SnapshotDocument.positions.fileName: try encoder.encode(positions),
            SnapshotDocument.analytics.fileName: try encoder.encode(analytics),
            SnapshotDocument.leaderboard.fileName: try encoder.encode(leaderboard),
            SnapshotDocument.sinceInceptionValues.fileName: try encoder.encode(sinceInception),
            SnapshotDocument.conversations.fileName: try encoder.encode(ConversationsDocument(conversations: [])),
        ]
    }
}
