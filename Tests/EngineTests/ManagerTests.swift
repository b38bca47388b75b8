import ArenaTestSupport
import EngineTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Manager: state, restarts, kill switches", .serialized)
struct ManagerTests {
    func configuration(scratch: URL) throws -> ArenaConfiguration { try EngineFixtures.configuration(scratch: scratch) }
    func logger() -> Logger { EngineFixtures.quietLogger() }

    @Test func restart_continuesCycleNumbers_andSendsNoOrderTwice() async throws {
        let scratch = try TestPaths.makeScratch("manager")
        let configuration = try configuration(scratch: scratch)
        let clock = ManualClock(now: EngineFixtures.start)

        let first = try await EngineAssembly.make(configuration: configuration, logger: logger(), clockOverride: clock)
        try await first.manager.runOnce()
        try await first.httpClient.shutdown()
        let statePath = configuration.manager.statePath
        let afterFirst = try JSONDecoder().decode(
            ManagerState.self,
            from: Data(contentsOf: URL(fileURLWithPath: statePath))
        )
        #expect(afterFirst.traders["baseline-hold"]?.cycle == 1)
        #expect(afterFirst.traders["baseline-ema"]?.cycle == 1)
        let paperPath = try #require(configuration.exchange.providers["paper"]?.statePath)
        let ledger1 = try JSONDecoder().decode(SimLedger.self, from: Data(contentsOf: URL(fileURLWithPath: paperPath)))
        let hold1 = try #require(ledger1.accounts["baseline-hold"])
        #expect(!hold1.trader.positions.isEmpty)

        // A crash after the journal's fsync but before the state was saved: the state file is one cycle behind.
        var behind = afterFirst
        behind.traders["baseline-hold"]?.cycle = 0
        behind.traders["baseline-hold"]?.lastDecisionAt = nil
        try JSONEncoder().encode(behind).write(to: URL(fileURLWithPath: statePath))

        let second = try await EngineAssembly.make(configuration: configuration, logger: logger(), clockOverride: clock)
        try await second.manager.runOnce()
        try await second.httpClient.shutdown()
        let ledger2 = try JSONDecoder().decode(SimLedger.self, from: Data(contentsOf: URL(fileURLWithPath: paperPath)))
        // The journal holds cycle 1, so the count follows it: cycle 2 ran (no cycle number, so no cloid, is used
        // twice), and buy-and-hold, already holding, filled nothing new.
        #expect(ledger2.accounts["baseline-hold"]?.trader == hold1.trader)
        #expect(ledger2.accounts["baseline-hold"]?.fills == hold1.fills)

        // A normal restart later: cycle numbers continue.
        clock.advance(byMilliseconds: 180_000)
        let third = try await EngineAssembly.make(configuration: configuration, logger: logger(), clockOverride: clock)
        try await third.manager.runOnce()
        try await third.httpClient.shutdown()
        let afterThird = try JSONDecoder().decode(
            ManagerState.self,
            from: Data(contentsOf: URL(fileURLWithPath: statePath))
        )
        #expect(afterThird.traders["baseline-ema"]?.cycle == 2)
        #expect(afterThird.traders["baseline-hold"]?.cycle == 3)
        let journal = JournalDirectory(root: configuration.journal.path)
        let numbers = try journal.lines(trader: "baseline-hold").map {
            try JSONDecoder().decode(CycleRecord.self, from: $0).cycle
        }
        #expect(numbers == [1, 2, 3])
        #expect(afterThird.traders["baseline-hold"]?.inceptionCapital == 3000)
        // Buy-and-hold holds: no entry was sent for a symbol it already holds.
        let ledger3 = try JSONDecoder().decode(SimLedger.self, from: Data(contentsOf: URL(fileURLWithPath: paperPath)))
        #expect(ledger3.accounts["baseline-hold"]?.fills == hold1.fills)
        // And the snapshot shows both traders.
        let generation = try #require(SnapshotReader(root: configuration.dataPath).resolve())
        let leaderboard = try JSONDecoder().decode(
            LeaderboardDocument.self,
            from: Data(
                contentsOf: URL(fileURLWithPath: generation.directory).appendingPathComponent("leaderboard.json")
            )
        )
        #expect(Set(leaderboard.leaderboard.map(\.id)) == ["baseline-hold", "baseline-ema"])
    }

    /// `engine pause`, `resume`, `halt-entries` and `allow-entries` reach the manager as request files: each is
    /// applied on the next tick, journaled with who asked and what became of it, and removed; a paused trader's
    /// entries are refused (`TRADER_PAUSED`, in the recorded inputs, so replay agrees) while its positions stay;
    /// the leaderboard says who paused it.
    @Test func operatorRequests_areApplied_journaled_andRefuseEntries() async throws {
        let scratch = try TestPaths.makeScratch("operator")
        let configuration = try configuration(scratch: scratch)
        let clock = ManualClock(now: EngineFixtures.start)
        let statePath = configuration.manager.statePath
        func submit(_ action: OperatorRequest.Action, _ trader: String? = nil) throws {
            _ = try OperatorControls.submit(
                .init(action: action, trader: trader, user: "alice", requestedAt: EngineFixtures.start),
                statePath: statePath
            )
        }
        func records(_ trader: String) throws -> [CycleRecord] {
            try JournalDirectory(root: configuration.journal.path).lines(trader: trader).map {
                try JSONDecoder().decode(CycleRecord.self, from: $0)
            }
        }
        func journal() throws -> [OperatorControls.Entry] {
            try String(
                contentsOfFile: OperatorControls.journalPath(journalRoot: configuration.journal.path),
                encoding: .utf8
            ).split(separator: "\n").map { try JSONDecoder().decode(OperatorControls.Entry.self, from: Data($0.utf8)) }
        }
        func board() throws -> [String: LeaderboardDocument.Entry] {
            let generation = try #require(SnapshotReader(root: configuration.dataPath).resolve())
            let document = try JSONDecoder().decode(
                LeaderboardDocument.self,
                from: Data(contentsOf: URL(fileURLWithPath: generation.directory + "/leaderboard.json"))
            )
            return Dictionary(uniqueKeysWithValues: document.leaderboard.map { ($0.id, $0) })
        }

        let assembly = try await EngineAssembly.make(
            configuration: configuration,
            logger: logger(),
            clockOverride: clock
        )
        try submit(.pause, "baseline-hold")
        try submit(.pause, "nobody")
        try await assembly.manager.runOnce()
        #expect(OperatorControls.pending(statePath: statePath).isEmpty)
        var entries = try journal()
        #expect(entries.map(\.outcome) == ["paused", "refused: unknown trader nobody"])
        #expect(entries.first?.request?.user == "alice")
        // Buy-and-hold's first entry was refused: paused.
        let paused = try #require(try records("baseline-hold").last)
        #expect(paused.inputs?.isPaused == true)
        #expect(paused.verdicts.contains { $0.signal == .buyToEnter })
        #expect(paused.verdicts.allSatisfy { !$0.isAccepted && $0.reasons.contains(.traderPaused) })
        #expect(paused.orders.isEmpty)
        var leaderboard = try board()
        #expect(leaderboard["baseline-hold"]?.status == "paused")
        #expect(leaderboard["baseline-hold"]?.statusReason?.contains("entries paused by alice") == true)
        #expect(leaderboard["baseline-ema"]?.status == "active")

        // The whole arena halted, then allowed again; the pause lifted.
        try submit(.haltEntries)
        clock.advance(byMilliseconds: 180_000)
        try await assembly.manager.runOnce()
        leaderboard = try board()
        #expect(leaderboard["baseline-ema"]?.status == "paused")
        #expect(leaderboard["baseline-ema"]?.statusReason?.contains("entries halted by alice") == true)
        try submit(.allowEntries)
        try submit(.resume, "baseline-hold")
        clock.advance(byMilliseconds: 180_000)
        try await assembly.manager.runOnce()
        entries = try journal()
        #expect(entries.map(\.outcome).suffix(3) == ["entries halted", "entries allowed", "resumed"])
        let resumed = try #require(try records("baseline-hold").last)
        #expect(resumed.inputs?.isPaused == false)
        #expect(resumed.verdicts.contains { $0.signal == .buyToEnter && $0.isAccepted })
        leaderboard = try board()
        #expect(leaderboard.values.allSatisfy { $0.status == "active" })

        // Buy-and-hold holds BTC now. Paused and flattened: a journaled close-out (origin operator, reduce-only
        // closes after its protection is cancelled), then nothing is held and nothing re-entered.
        #expect(resumed.results.contains { $0.status == .filled })
        try submit(.pause, "baseline-hold")
        try submit(.flatten, "baseline-hold")
        clock.advance(byMilliseconds: 180_000)
        try await assembly.manager.runOnce()
        let closeOut = try #require(try records("baseline-hold").last { $0.origin == .operatorFlatten })
        #expect(closeOut.reason == .operatorFlatten)
        #expect(!closeOut.orders.isEmpty && closeOut.orders.allSatisfy(\.isReduceOnly))
        #expect(closeOut.results.contains { $0.status == .filled })
        let exchange = try #require(assembly.manager.exchanges["paper"])
        #expect(try await exchange.account(trader: "baseline-hold").positions.isEmpty)
        clock.advance(byMilliseconds: 180_000)
        try await assembly.manager.runOnce()
        #expect(assembly.manager.store.state("baseline-hold").flattenRequest == nil)
        #expect(try await exchange.account(trader: "baseline-hold").positions.isEmpty)
        #expect(try journal().map(\.outcome).suffix(2) == ["paused", "flatten requested"])
        try await assembly.httpClient.shutdown()
    }

    static let trader = TraderConfiguration(
        id: "t",
        name: "t",
        exchangeProvider: "paper",
        marketProvider: "replay",
        orderStyle: .marketIOC,
        marketIOCSlippageBps: 50,
        promptTemplate: "s",
        executorPromptTemplate: "u",
        model: "m",
        fallbackModels: [],
        decisionInterval: .seconds(180),
        allocationPct: 10,
        autoStart: true,
        symbols: ["BTC"],
        riskParams: CycleHarness.limits,
        disabledReason: nil,
        keyPath: "traders[0]"
    )

    func account(equity: Double) -> TraderAccount {
        TraderAccount(cash: equity, positions: [:], realizedPnL: 0, feesPaid: 0)
    }

    /// The manager's state file is written as `JSONEncoder` with `.sortedKeys` writes it, byte for byte: a state
    /// with two days of hourly equity points, closed trades, cooldowns, a flow and a second trader.
    @Test func stateFile_isJSONEncodersBytes() throws {
        let store = try ManagerStore(path: nil)
        store.begin(trader: "t", capital: 1000, now: EngineFixtures.start)
        store.begin(trader: "ü/2", capital: 250.5, now: EngineFixtures.start)
        for hour: Int64 in 0..<50 {
            let now = EngineFixtures.start + hour * 3_600_000 + 1_000
            let trades =
                hour % 7 == 3
                ? [
                    ClosedTrade(
                        tradeID: hour,
                        trader: "t",
                        symbol: "BTC",
                        quantity: 0.01,
                        leverage: 2,
                        confidence: 0.7,
                        entryOrderID: 2 * hour,
                        exitOrderID: 2 * hour + 1,
                        entryTime: now - 600_000,
                        exitTime: now - 60_000,
                        entryPrice: 100_000 + Double(hour) * 13.37,
                        exitPrice: 99_000.5,
                        entryFee: 0.45,
                        exitFee: 0.445,
                        fundingPaid: -0.012_5,
                        wasLiquidated: false,
                        exitPlan: nil
                    )
                ] : []
            _ = store.observe(
                trader: Self.trader,
                account: account(equity: 1000 + sin(Double(hour)) * 37.123_456_789),
                trades: trades,
                now: now
            )
        }
        let state = store.state
        #expect(state.traders.count == 2)
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys]
        #expect(try AtomicFile.jsonBytes(state) == foundation.encode(state))
    }

    @Test func closedTrade_startsTheSymbolsCooldown() async throws {
        let store = try ManagerStore(path: nil)
        store.begin(trader: "t", capital: 1000, now: EngineFixtures.start)
        let trade = ClosedTrade(
            tradeID: 1,
            trader: "t",
            symbol: "BTC",
            quantity: 0.01,
            leverage: 2,
            confidence: 0.7,
            entryOrderID: 1,
            exitOrderID: 2,
            entryTime: EngineFixtures.start,
            exitTime: EngineFixtures.start + 60_000,
            entryPrice: 100_000,
            exitPrice: 99_000,
            entryFee: 0.45,
            exitFee: 0.45,
            fundingPaid: 0,
            wasLiquidated: false,
            exitPlan: nil
        )
        _ = store.observe(
            trader: Self.trader,
            account: account(equity: 990),
            trades: [trade],
            now: EngineFixtures.start + 61_000
        )
        let state = store.state("t")
        #expect(state.cooldownUntil["BTC"] == EngineFixtures.start + 60_000 + 600_000)
        #expect(state.closedTradesSeen == 1)
    }

    @Test func dailyLossAndDrawdownSwitches_fireOnce_andDailyResetsNextDay() async throws {
        let store = try ManagerStore(path: nil)
        let dayStart = (EngineFixtures.start / 86_400_000) * 86_400_000
        store.begin(trader: "t", capital: 1000, now: dayStart + 1000)
        // −4 %: under both limits (5 % daily, 20 % drawdown).
        #expect(
            store.observe(trader: Self.trader, account: account(equity: 960), trades: [], now: dayStart + 2000)
                == false
        )
        #expect(store.state("t").isDailyLossLimitHit == false)
        // −6 %: the daily switch fires, the drawdown one does not.
        #expect(
            store.observe(trader: Self.trader, account: account(equity: 940), trades: [], now: dayStart + 3000)
                == false
        )
        #expect(store.state("t").isDailyLossLimitHit)
        // −21 % from the peak: the drawdown switch fires once and asks for every position to be closed.
        #expect(
            store.observe(trader: Self.trader, account: account(equity: 790), trades: [], now: dayStart + 4000)
        )
        #expect(
            store.observe(trader: Self.trader, account: account(equity: 780), trades: [], now: dayStart + 5000)
                == false
        )
        #expect(store.state("t").isDrawdownLimitHit)
        // Next UTC day: the daily switch resets, the drawdown switch stays.
        _ = store.observe(
            trader: Self.trader,
            account: account(equity: 780),
            trades: [],
            now: dayStart + 86_400_000 + 1
        )
        #expect(store.state("t").isDailyLossLimitHit == false)
        #expect(store.state("t").isDrawdownLimitHit)
    }

    /// What a tick reads back from observing an account is the trader's state after it: its switches, pause and
    /// flatten request, step by step; a trader never begun starts a state, and history is kept in place.
    /// The state file is written outside the store's lock, so two saves can reach the file in either order: the
    /// older state is never written over the newer.
    @Test func anOlderSave_neverOverwritesANewerOne() async throws {
        let path = NSTemporaryDirectory() + "arena-store-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ManagerStore(path: path)
        let older = store.stage(clockTime: EngineFixtures.start)
        store.begin(trader: "t", capital: 100, now: EngineFixtures.start)
        let newer = store.stage(clockTime: EngineFixtures.start + 1)
        try store.write(newer)
        try store.write(older)
        let reloaded = try ManagerStore(path: path)
        #expect(reloaded.state.traders.keys.sorted() == ["t"])
        #expect(reloaded.state.clockTime == EngineFixtures.start + 1)
        // A later save is written again.
        store.begin(trader: "u", capital: 100, now: EngineFixtures.start)
        try store.save(clockTime: EngineFixtures.start + 2)
        #expect(try ManagerStore(path: path).state.traders.keys.sorted() == ["t", "u"])
    }

    @Test func observeTick_reportsTheStateItLeaves() async throws {
        let store = try ManagerStore(path: nil)
        let dayStart = (EngineFixtures.start / 86_400_000) * 86_400_000
        func observe(equity: Double, at now: Int64) async -> ManagerStore.TickObservation {
            store.observeTick(
                trader: Self.trader.id,
                risk: Self.trader.riskParams,
                account: account(equity: equity),
                trades: [],
                now: now
            )
        }
        func request(_ action: OperatorRequest.Action) async {
            _ = store.apply(
                OperatorRequest(action: action, trader: "t", user: "op", requestedAt: dayStart),
                now: dayStart + 1500
            )
        }
        func expectMatches(_ observed: ManagerStore.TickObservation, closeAll: Bool) async {
            let state = store.state("t")
            #expect(
                observed
                    == .init(
                        closeAll: closeAll,
                        isDrawdownLimitHit: state.isDrawdownLimitHit,
                        isDailyLossLimitHit: state.isDailyLossLimitHit,
                        isPaused: state.isPaused(at: dayStart + 5000),
                        isFlattenRequested: state.flattenRequest != nil
                    )
            )
        }
        // Never begun: observing starts the trader's state (equity history and day included).
        var observed = await observe(equity: 1000, at: dayStart + 1000)
        #expect(
            observed
                == .init(
                    closeAll: false,
                    isDrawdownLimitHit: false,
                    isDailyLossLimitHit: false,
                    isPaused: false,
                    isFlattenRequested: false
                )
        )
        #expect(store.state("t").equityHistory.count == 1)
        #expect(store.state("t").day == dayStart / 86_400_000)
        store.begin(trader: "t", capital: 1000, now: dayStart + 1000)
        await request(.pause)
        observed = await observe(equity: 940, at: dayStart + 5000)
        #expect(observed.isDailyLossLimitHit && observed.isPaused && !observed.isDrawdownLimitHit)
        await expectMatches(observed, closeAll: false)
        await request(.flatten)
        observed = await observe(equity: 790, at: dayStart + 5000)
        #expect(observed.closeAll && observed.isDrawdownLimitHit && observed.isFlattenRequested)
        await expectMatches(observed, closeAll: true)
        await expectMatches(await observe(equity: 780, at: dayStart + 5000), closeAll: false)
        #expect(store.state("t").peakEquity == 1000)
    }

    @Test func equityHistory_getsOnePointPerHour() async throws {
        let store = try ManagerStore(path: nil)
        store.begin(trader: "t", capital: 1000, now: EngineFixtures.start)
        for minute in stride(from: 1, through: 150, by: 1) {
            _ = store.observe(
                trader: Self.trader,
                account: account(equity: 1000 + Double(minute)),
                trades: [],
                now: EngineFixtures.start + Int64(minute) * 60_000
            )
        }
        let history = store.state("t").equityHistory
        #expect(history.map(\.marker) == [0, 1, 2])
        #expect(history[1].equity == 1060)
    }

    /// After a tick has seen a trader's account, seeing it again changes nothing until the trader's next hourly
    /// equity point (counted from its start) or the next UTC day; an operator's flatten, or a trader without a
    /// state, ends the quiet at once. Observing the same account up to that time leaves the state as it was.
    @Test func quietUntil_isTheNextEquityPointOrDay() async throws {
        let store = try ManagerStore(path: nil)
        let dayStart = (EngineFixtures.start / 86_400_000) * 86_400_000
        let started = dayStart + 22 * 3_600_000 + 1_800_000  // 22:30
        store.begin(trader: "t", capital: 1000, now: started)
        func observe(at now: Int64) {
            _ = store.observe(trader: Self.trader, account: account(equity: 990), trades: [], now: now)
        }
        observe(at: started + 60_000)
        #expect(store.quietUntil(traders: ["t"], after: started + 60_000) == started + 3_600_000)
        #expect(store.quietUntil(traders: ["t", "unseen"], after: started + 60_000) == nil)
        // 23:30 to midnight: the day ends first.
        observe(at: started + 3_600_000)
        #expect(store.quietUntil(traders: ["t"], after: started + 3_600_000) == dayStart + 86_400_000)
        let before = store.state("t")
        observe(at: dayStart + 86_400_000 - 1)
        #expect(store.state("t") == before)
        _ = store.apply(
            OperatorRequest(action: .flatten, trader: "t", user: "op", requestedAt: started),
            now: started + 3_600_000
        )
        #expect(store.quietUntil(traders: ["t"], after: started + 3_600_000) == nil)
    }

    @Test func claim_respectsTheConcurrencyLimit_andOneCyclePerTrader() async throws {
        let store = try ManagerStore(path: nil)
        #expect(store.claim("a", limit: 2))
        #expect(store.claim("a", limit: 2) == false)
        #expect(store.claim("b", limit: 2))
        #expect(store.claim("c", limit: 2) == false)
    }

    /// `engine run`'s services: the exporter publishes once the manager has prepared, and once more after the manager
    /// has stopped, so the last generation holds the last cycles and the final marks.
    @Test func exporterService_publishesWhileRunning_andOnceMoreAfterTheManagerStops() async throws {
        let scratch = try TestPaths.makeScratch("exporter")
        let configuration = try configuration(scratch: scratch)
        let assembly = try await EngineAssembly.make(
            configuration: configuration,
            logger: logger(),
            clockOverride: ReplayClock(start: EngineFixtures.start, speed: 120)
        )
        let manager = assembly.manager
        let exporter = try #require(manager.exporter)
        let group = ServiceGroup(services: [exporter, manager], gracefulShutdownSignals: [], logger: logger())
        let running = Task { try await group.run() }
        let reader = SnapshotReader(root: configuration.dataPath)
        func number(_ generation: SnapshotReader.Generation?) -> Int { Int(generation?.id.dropFirst() ?? "") ?? 0 }
        // Both traders decide on the first tick; wait (at most a minute) for a generation that counts their cycles.
        var seen = 0
        for _ in 0..<3000 {
            let hold = manager.store.state("baseline-hold").cycle
            let ema = manager.store.state("baseline-ema").cycle
            let cycled = hold >= 1 && ema >= 1
            if cycled, number(reader.resolve()) >= 2 {
                seen = number(reader.resolve())
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(seen >= 2, "the exporter published while the manager ran")
        await group.triggerGracefulShutdown()
        try await running.value
        let last = try #require(reader.resolve())
        #expect(number(last) > seen, "a generation after the manager stopped")
        // That generation shows every trader's equity as the venue holds it now that nothing moves.
        let leaderboard = try JSONDecoder().decode(
            LeaderboardDocument.self,
            from: Data(contentsOf: URL(fileURLWithPath: last.directory).appendingPathComponent("leaderboard.json"))
        )
        let paper = try #require(manager.exchanges["paper"])
        for row in leaderboard.leaderboard {
            let equity = try await paper.account(trader: row.id).equity
            #expect(abs(row.equity - equity) < 1e-9, "\(row.id)")
        }
        #expect(leaderboard.leaderboard.count == 2)
        try await assembly.httpClient.shutdown()
    }
}
