import ArenaTestSupport
import EngineTestSupport
import Foundation
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

/// A live cycle journals its order intents before sending them; a crash between the first order and the cycle's
/// record leaves the intents and no record. These tests build each such crash state from a real first cycle (the
/// shipped configuration, the paper exchange, the journal) and restart the engine on it.
@Suite("A cycle interrupted while its orders went out is completed at restart", .serialized)
struct CycleRecoveryTests {
    let manager = ManagerTests()
    static let trader = "baseline-hold"

    struct Run {
        let configuration: ArenaConfiguration
        /// The buy-and-hold trader's record of cycle 1, as the uninterrupted run journaled it.
        let record: CycleRecord
        var journal: JournalDirectory { JournalDirectory(root: configuration.journal.path) }
        var intentPath: String {
            (journal.traderDirectory(CycleRecoveryTests.trader) as NSString).appendingPathComponent("intent.json")
        }
        var ledgerPath: String { configuration.exchange.providers["paper"]?.statePath ?? "" }
        var statePath: String { configuration.manager.statePath }

        func ledger() throws -> SimLedger {
            try JSONDecoder().decode(SimLedger.self, from: Data(contentsOf: URL(fileURLWithPath: ledgerPath)))
        }

        func records() throws -> [CycleRecord] {
            try journal.lines(trader: CycleRecoveryTests.trader).map {
                try JSONDecoder().decode(CycleRecord.self, from: $0)
            }
        }

        /// The state after a crash before the record: the journal lacks cycle 1, the saved state does not count it,
        /// and the intents are on disk.
        func crashBeforeTheRecord() throws {
            for file in journal.files(trader: CycleRecoveryTests.trader) {
                try FileManager.default.removeItem(atPath: file.path)
            }
            var intent = record
            intent.results = []
            try JSONEncoder().encode(intent).write(to: URL(fileURLWithPath: intentPath))
            if FileManager.default.fileExists(atPath: statePath) {
                var state = try JSONDecoder().decode(
                    ManagerState.self,
                    from: Data(contentsOf: URL(fileURLWithPath: statePath))
                )
                state.traders[CycleRecoveryTests.trader]?.cycle = 0
                state.traders[CycleRecoveryTests.trader]?.lastDecisionAt = nil
                try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: statePath))
            }
        }
    }

    func start(_ configuration: ArenaConfiguration, at time: Int64 = EngineFixtures.start) async throws {
        let assembly = try await EngineAssembly.make(
            configuration: configuration,
            logger: manager.logger(),
            clockOverride: ManualClock(now: time)
        )
        do {
            try await assembly.manager.runOnce()
        } catch {
            try await assembly.httpClient.shutdown()
            throw error
        }
        try await assembly.httpClient.shutdown()
    }

    /// One uninterrupted tick on a new scratch directory.
    func firstCycle(_ name: String) async throws -> Run {
        let configuration = try manager.configuration(scratch: try TestPaths.makeScratch(name))
        try await start(configuration)
        let journal = JournalDirectory(root: configuration.journal.path)
        let first = try #require(try journal.lines(trader: Self.trader).first)
        return Run(configuration: configuration, record: try JSONDecoder().decode(CycleRecord.self, from: first))
    }

    @Test func anUninterruptedCycle_leavesNoIntents_andItsRecordHasEveryOrder() async throws {
        let run = try await firstCycle("recovery-none")
        #expect(!FileManager.default.fileExists(atPath: run.intentPath))
        #expect(run.record.recoveredAt == nil)
        #expect(run.record.orders.count >= 3)
        #expect(run.record.results.count == run.record.orders.count)
    }

    @Test func everyOrderAnswered_recordLost_theRecordIsRebuiltFromTheVenue_andNothingFillsTwice() async throws {
        let run = try await firstCycle("recovery-answered")
        let before = try run.ledger()
        try run.crashBeforeTheRecord()

        try await start(run.configuration)
        let records = try run.records()
        #expect(records.map(\.cycle) == [1])
        let recovered = try #require(records.first)
        #expect(recovered.recoveredAt != nil)
        #expect(recovered.orders == run.record.orders)
        #expect(recovered.results == run.record.results)
        #expect(recovered.decisions == run.record.decisions)
        #expect(recovered.error?.contains("completed at restart") == true)
        #expect(!FileManager.default.fileExists(atPath: run.intentPath))
        // The venue was asked, not sent to: the account is as it was.
        let after = try run.ledger()
        #expect(after.accounts[Self.trader] == before.accounts[Self.trader])

        // The trader goes on with cycle 2.
        try await start(run.configuration, at: EngineFixtures.start + 180_000)
        #expect(try run.records().map(\.cycle) == [1, 2])
    }

    @Test func entryFilled_protectionNeverSent_theStopsAndTargetsGoOutAtRestart() async throws {
        let run = try await firstCycle("recovery-protection")
        try run.crashBeforeTheRecord()
        // The crash came right after the entries filled: the venue never saw a stop or a target.
        var ledger = try run.ledger()
        let protection = Set(run.record.orders.filter(\.isProtection).map(\.cloid))
        #expect(!protection.isEmpty)
        for cloid in protection { ledger.results[cloid] = nil }
        ledger.accounts[Self.trader]?.restingOrders.removeAll { protection.contains($0.request.cloid) }
        try JSONEncoder().encode(ledger).write(to: URL(fileURLWithPath: run.ledgerPath))

        try await start(run.configuration)
        let recovered = try #require(try run.records().first)
        #expect(recovered.recoveredAt != nil)
        #expect(recovered.results.count == run.record.orders.count)
        for order in run.record.orders where order.isProtection {
            #expect(recovered.results.first { $0.cloid == order.cloid }?.status == .resting, "\(order.symbol)")
        }
        let resting = try run.ledger().accounts[Self.trader]?.restingOrders.map(\.request.cloid) ?? []
        #expect(Set(resting).isSuperset(of: protection))
        // Every position has its stop again.
        let positions = try run.ledger().accounts[Self.trader]?.trader.positions.keys.sorted() ?? []
        #expect(!positions.isEmpty)
        for symbol in positions {
            #expect(
                try run.ledger().accounts[Self.trader]?.restingOrders.contains {
                    $0.request.symbol == symbol && $0.request.kind == .stopLoss
                } == true,
                "\(symbol)"
            )
        }
    }

    @Test func intentsJournaled_nothingSent_nothingIsSentLater() async throws {
        let donor = try await firstCycle("recovery-donor")
        // A new arena whose first cycle stopped right after journaling its intents.
        let configuration = try manager.configuration(scratch: try TestPaths.makeScratch("recovery-unsent"))
        let run = Run(configuration: configuration, record: donor.record)
        try FileManager.default.createDirectory(
            atPath: run.journal.traderDirectory(Self.trader),
            withIntermediateDirectories: true
        )
        try run.crashBeforeTheRecord()

        try await start(configuration)
        let recovered = try #require(try run.records().first)
        #expect(recovered.cycle == 1)
        #expect(recovered.results.isEmpty)
        #expect(recovered.error?.contains("never reached the venue, not sent") == true)
        let account = try #require(try run.ledger().accounts[Self.trader])
        #expect(account.fills == 0)
        #expect(account.trader.positions.isEmpty)
        #expect(account.restingOrders.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: run.intentPath))
        let state = try JSONDecoder().decode(
            ManagerState.self,
            from: Data(contentsOf: URL(fileURLWithPath: run.statePath))
        )
        #expect(state.traders[Self.trader]?.cycle == 1)
    }

    @Test func intentsWhoseRecordMadeIt_areRemoved_andNothingIsAdded() async throws {
        let run = try await firstCycle("recovery-committed")
        // A crash after the record's fsync, before the intents were removed.
        try JSONEncoder().encode(run.record).write(to: URL(fileURLWithPath: run.intentPath))
        try await start(run.configuration)
        #expect(try run.records().map(\.cycle) == [1])
        #expect(try run.records().first?.recoveredAt == nil)
        #expect(!FileManager.default.fileExists(atPath: run.intentPath))
    }

    @Test func unreadableIntents_stopTheStart_withTheFileNamed() async throws {
        let run = try await firstCycle("recovery-unreadable")
        try Data("{\"trader_id\":".utf8).write(to: URL(fileURLWithPath: run.intentPath))
        await #expect {
            try await start(run.configuration)
        } throws: { error in
            "\(error)".contains("intent.json") && "\(error)".contains("do not decode")
        }
    }
}

@Suite("The drawdown switch's close-out is a journaled cycle", .serialized)
struct CloseOutTests {
    @Test func drawdownCloseOut_isJournaled_closesEveryPosition_andCountsNoInvocation() async throws {
        let recovery = CycleRecoveryTests()
        let run = try await recovery.firstCycle("close-out")
        let trader = CycleRecoveryTests.trader
        // The account loses half its capital (cash gone): past the 30 % drawdown limit.
        var ledger = try run.ledger()
        ledger.accounts[trader]?.trader.cash = 0
        try JSONEncoder().encode(ledger).write(to: URL(fileURLWithPath: run.ledgerPath))
        #expect(ledger.accounts[trader]?.trader.positions.isEmpty == false)

        try await recovery.start(run.configuration, at: EngineFixtures.start + 180_000)
        let records = try run.records()
        #expect(records.map(\.cycle) == [1, 2, 3])
        let closeOut = try #require(records.first { $0.origin == .drawdownSwitch })
        #expect(closeOut.cycle == 2)
        #expect(closeOut.reason == .drawdownLimit)
        #expect(closeOut.systemPrompt == nil && closeOut.decisions.isEmpty)
        #expect(closeOut.orders.count == ledger.accounts[trader]?.trader.positions.count)
        #expect(closeOut.orders.allSatisfy { $0.isReduceOnly })
        #expect(closeOut.results.count == closeOut.orders.count)
        #expect(closeOut.results.allSatisfy { $0.status == .filled })
        let after = try run.ledger()
        #expect(after.accounts[trader]?.trader.positions.isEmpty == true)
        #expect(after.accounts[trader]?.restingOrders.isEmpty == true, "the protection was cancelled")
        // Every order the venue booked is in a record.
        let journaled = Set(
            try ["baseline-hold", "baseline-ema"].flatMap { id in
                try run.journal.lines(trader: id).map { try JSONDecoder().decode(CycleRecord.self, from: $0) }
            }.flatMap { $0.orders.map(\.cloid) }
        )
        #expect(Set(after.results.keys).isSubset(of: journaled))
        // The close-out takes a cycle number, not an invocation: the model cycles 1 and 3 are the invocations.
        let state = try JSONDecoder().decode(
            ManagerState.self,
            from: Data(contentsOf: URL(fileURLWithPath: run.statePath))
        )
        #expect(state.traders[trader]?.cycle == 3)
        #expect(state.traders[trader]?.invocationTimes.count == 2)
        #expect(state.traders[trader]?.isDrawdownLimitHit == true)
        // Replay skips the engine's own cycle and finds the model cycles unchanged.
        let summary = try JournalReplay(configuration: run.configuration, templatesDirectory: nil)
            .replay(trader: trader, records: records)
        #expect(summary.skipped == 1)
        #expect(summary.differences.isEmpty, "\(summary.differences)")

        // Nothing left to close: later ticks add no close-out.
        try await recovery.start(run.configuration, at: EngineFixtures.start + 360_000)
        #expect(try run.records().filter { $0.origin != nil }.count == 1)
    }
}
