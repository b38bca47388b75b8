import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Shared

/// What marks the paper venues: only fresh prices, and only from the markets their own traders use.
@Suite("Market feeds marking the paper venues")
struct MarketFeedTests {
    static func market(_ id: String, btc: Double, asOf: Int64) -> FixedMarketProvider {
        var symbol = CycleHarness.symbolSnapshot("BTC", price: btc, asOf: asOf)
        symbol.markPrice = btc
        return FixedMarketProvider(
            id: id,
            symbols: ["BTC"],
            snapshot: MarketSnapshot(takenAt: asOf, symbols: ["BTC": symbol])
        )
    }

    /// A hot-standby chain applies the snapshot's staleness rule to its marks too: a stale first member hands
    /// over to the next; with every member stale there are no marks at all (the venue keeps its last ones).
    @Test func standbyMarks_skipAStaleMember_andFailWhenAllAreStale() async throws {
        let now = CycleHarness.now
        let stale = Self.market("stale", btc: 90_000, asOf: now - 3_600_000)
        let fresh = Self.market("fresh", btc: 100_000, asOf: now - 10_000)
        let chain = StandbyMarketProvider(id: "chain", members: [stale, fresh], maxStaleness: 600_000)
        let marks = try await chain.marks(now: now)
        #expect(marks.prices == ["BTC": 100_000])
        let allStale = StandbyMarketProvider(id: "chain", members: [stale], maxStaleness: 600_000)
        await #expect(throws: (any Error).self) { try await allStale.marks(now: now) }
    }

    /// Two paper venues on two markets quoting different prices: each venue is marked from its own traders'
    /// market only.
    @Test func eachPaperVenue_isMarkedFromItsTradersMarketOnly() async throws {
        let now = CycleHarness.now
        func venue(_ id: String) -> SimExchange {
            SimExchange(id: id, ledger: SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 2), statePath: nil)
        }
        let first = venue("paper-a")
        let second = venue("paper-b")
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        func trader(_ id: String, venue: String, market: String) async throws -> ArenaManager.Trader {
            var configuration = CycleHarness.trader()
            configuration.exchangeProvider = venue
            configuration.marketProvider = market
            let harness = try await CycleHarness.make(port: 9, httpClient: httpClient)
            return ArenaManager.Trader(configuration: configuration, cycle: harness.cycle, capital: 1000)
        }
        let manager = ArenaManager(
            traders: [
                try await trader("a", venue: "paper-a", market: "m-a"),
                try await trader("b", venue: "paper-b", market: "m-b"),
            ],
            clock: ManualClock(now: now),
            tickInterval: 1000,
            maxConcurrentDecisions: 2,
            exchanges: ["paper-a": first, "paper-b": second],
            markets: [
                "m-a": Self.market("m-a", btc: 100_000, asOf: now),
                "m-b": Self.market("m-b", btc: 90_000, asOf: now),
            ],
            store: try ManagerStore(path: nil),
            publisher: nil,
            exportInterval: 60_000,
            logger: EngineFixtures.quietLogger()
        )
        try await manager.refreshMarkets(now: now)
        try await httpClient.shutdown()
        #expect(first.marks["BTC"] == 100_000)
        #expect(second.marks["BTC"] == 90_000)
    }
}
