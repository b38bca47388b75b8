import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Shared

/// Risk holds at the fill: accepted entries are judged again at the venue's mark and the trader's flags as they are
/// just before sending, and a market entry can never fill beyond the price that check approved. The cycle runs end
/// to end (fake model over HTTP, the real paper exchange), and `engine replay`'s planner re-derives every verdict.
@Suite("Entries re-checked at the fill price", .serialized)
struct EntryRecheckTests {
    /// One cycle answering a long BTC entry (approved at the snapshot's 100,000, stop 98,000, target 104,000) with
    /// the paper venue's mark at `venueMark` by the time the entry would go out.
    func cycle(
        venueMark: Double,
        currentState: DecisionCycle.StateReader? = nil,
        check: @Sendable (CycleRecord, SimExchange) async throws -> Void
    ) async throws {
        let behaviour = FakeModelBehaviour(.content(CycleHarness.answer(CycleHarness.entry())))
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await FakeModelServer.makeApplication(behaviour).test(.live) { client in
                let harness = try await CycleHarness.make(port: try #require(client.port), httpClient: httpClient)
                // The market the prompt saw stays at 100,000; the venue has moved on.
                try harness.exchange.updateMarket(
                    prices: ["BTC": venueMark, "ETH": 4_000],
                    funding: [:],
                    now: CycleHarness.now
                )
                let record = await harness.cycle.run(
                    cycle: 1,
                    now: CycleHarness.now,
                    state: CycleHarness.state(),
                    clock: ManualClock(now: CycleHarness.now + 6_000),
                    currentState: currentState
                )
                try await check(record, harness.exchange)
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    /// The verdicts and orders `engine replay` derives from the record.
    func replayed(_ record: CycleRecord) -> (verdicts: [RiskVerdict], orders: [OrderRequest]) {
        let trader = CycleHarness.trader()
        return JournalReplay.plan(
            record.decisions,
            record: record,
            trader: trader,
            symbols: CycleHarness.symbols,
            view: TraderConfigurationView(trader),
            recheck: record.recheckAccount
        )
    }

    @Test(arguments: [
        // Through the stop: a long would fill below its own stop.
        (97_500.0, ReasonCode.stopLossInvalid),
        // Near the target: the reward no longer pays for the risk.
        (103_900.0, ReasonCode.riskRewardBelowMin),
    ])
    func anEntryThatFailsAtTheFreshMark_isRefusedWithPriceMoved_andNothingIsSent(
        mark: Double,
        check: ReasonCode
    ) async throws {
        try await cycle(venueMark: mark) { record, exchange in
            #expect(record.outcome == .completed)
            let verdict = try #require(record.verdicts.first { $0.symbol == "BTC" })
            #expect(!verdict.isAccepted)
            #expect(verdict.reasons.first == .priceMoved, "\(verdict.reasons)")
            #expect(verdict.reasons.contains(check), "\(verdict.reasons)")
            #expect(record.orders.isEmpty, "\(record.orders)")
            #expect(record.results.isEmpty)
            #expect(try exchange.account(trader: "llm-1").positions.isEmpty)
            // Both prices are journaled: the approved one in the snapshot, the fresh one in the re-check.
            #expect(record.market?.symbols["BTC"]?.markPrice == 100_000)
            #expect(record.entryRecheck?.prices["BTC"] == mark)
            #expect(record.entryRecheck?.at == CycleHarness.now + 6_000)
            // Replay re-runs the check with the recorded fresh price and agrees; with another price it would not.
            let replay = replayed(record)
            #expect(replay.verdicts == record.verdicts)
            #expect(replay.orders == record.orders)
            var moved = record
            moved.entryRecheck?.prices["BTC"] = 100_000
            #expect(replayed(moved).verdicts != record.verdicts)
        }
    }

    @Test func anEntryThatStillPasses_isSizedAtTheFreshMark_andBoundedByIt() async throws {
        try await cycle(venueMark: 100_200) { record, exchange in
            #expect(record.verdicts.first { $0.symbol == "BTC" }?.isAccepted == true)
            let entry = try #require(record.orders.first)
            #expect(entry.kind == .marketIOC)
            // 2,000 USD at the fresh mark (5 size decimals, rounded down), bounded by that mark + 50 bps.
            #expect(entry.size == 0.01996)
            #expect(entry.limitPrice == 100_200 * 1.005)
            #expect(record.results.map(\.status) == [.filled, .resting, .resting])
            let fill = try #require(record.results.first)
            #expect(fill.averagePrice <= 100_200 * 1.005)
            #expect(try exchange.account(trader: "llm-1").positions["BTC"]?.quantity == 0.01996)
            let replay = replayed(record)
            #expect(replay.verdicts == record.verdicts)
            #expect(replay.orders == record.orders)
        }
    }

    /// A flag set while the model thought (by the manager's tick, the drawdown switch or an operator) binds the
    /// entry; it is the flag's own reason, not a price move.
    @Test(arguments: [
        ReasonCode.drawdownLimit, ReasonCode.dailyLossLimit, ReasonCode.traderPaused, ReasonCode.cooldownActive,
    ])
    func aFlagSetWhileTheModelThought_refusesTheEntry(flag: ReasonCode) async throws {
        var later = CycleHarness.state()
        switch flag {
        case .drawdownLimit: later.isDrawdownLimitHit = true
        case .dailyLossLimit: later.isDailyLossLimitHit = true
        case .traderPaused: later.pausedUntil = CycleHarness.now + 3_600_000
        default: later.cooldownUntil["BTC"] = CycleHarness.now + 600_000
        }
        let state = later
        let reader: DecisionCycle.StateReader = { state }
        try await cycle(venueMark: 100_000, currentState: reader) { record, exchange in
            let verdict = try #require(record.verdicts.first { $0.symbol == "BTC" })
            #expect(!verdict.isAccepted)
            #expect(verdict.reasons.contains(flag), "\(verdict.reasons)")
            #expect(!verdict.reasons.contains(.priceMoved))
            #expect(record.orders.isEmpty)
            #expect(try exchange.account(trader: "llm-1").positions.isEmpty)
            #expect(replayed(record).verdicts == record.verdicts)
        }
    }

    /// Records written before the re-check (schema version 2) still replay as they were planned: one check at the
    /// snapshot, market entries without a bound.
    @Test func aRecordFromBeforeTheRecheck_replaysAsItWasPlanned() async throws {
        try await cycle(venueMark: 100_000) { record, _ in
            var old = record
            old.schemaVersion = 2
            old.entryRecheck = nil
            old.orders = old.orders.map { order in
                var order = order
                if order.kind == .marketIOC { order.limitPrice = nil }
                return order
            }
            let replay = replayed(old)
            #expect(replay.verdicts == old.verdicts)
            #expect(replay.orders == old.orders)
            #expect(replay.orders.first?.limitPrice == nil)
        }
    }

    @Test func theVenueHasNoFreshMark_refusesTheEntry() async throws {
        // A venue whose marks cannot be read is handled the same way (the symbol is absent).
        try await cycle(venueMark: 100_000, currentState: nil) { record, _ in
            var blind = record
            blind.entryRecheck?.prices = [:]
            let replay = replayed(blind)
            #expect(replay.verdicts.first { $0.symbol == "BTC" }?.reasons == [.staleMarketData])
            #expect(replay.orders.isEmpty)
        }
    }
}
