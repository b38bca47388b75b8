import ArenaTestSupport
import Foundation
import Logging
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Rebalancing (performance_based)")
struct RebalanceTests {
    let rebalancer = Rebalancer(
        bounds: .init(minAllocationPct: 5, maxAllocationPct: 50, maxStepPct: 10),
        totalEquityUSD: 10_000
    )

    func candidate(
        _ id: String,
        equity: Double = 3000,
        marginUsed: Double = 0,
        sharpe: Double = 0,
        drawdownPct: Double = 0,
        utilisation: Double = 0.5,
        mayReceive: Bool = true
    ) -> Rebalancer.Candidate {
        .init(
            id: id,
            equity: equity,
            cash: equity - marginUsed,
            unrealizedPnL: 0,
            marginUsed: marginUsed,
            sharpe: sharpe,
            drawdownPct: drawdownPct,
            utilisation: utilisation,
            mayReceive: mayReceive
        )
    }

    func total(_ moves: [Rebalancer.Move]) -> Double { moves.reduce(0) { $0 + $1.amount } }

    @Test func score_rewardsSharpe_punishesDrawdown_andIdleCapital() {
        let flat = Rebalancer.score(sharpe: 0, drawdownPct: 0, utilisation: 0.5)
        #expect(flat == 1)
        #expect(Rebalancer.score(sharpe: 2, drawdownPct: 0, utilisation: 0.5) == 1.5)
        #expect(Rebalancer.score(sharpe: 9, drawdownPct: 0, utilisation: 0.5) == 1.5)
        #expect(abs(Rebalancer.score(sharpe: 0, drawdownPct: 10, utilisation: 0.5) - 0.8) < 1e-12)
        #expect(Rebalancer.score(sharpe: 0, drawdownPct: 0, utilisation: 0) == 0.5)
        #expect(Rebalancer.score(sharpe: -2, drawdownPct: 80, utilisation: 1) == 0.05)
        #expect(Rebalancer.score(sharpe: .nan, drawdownPct: 0, utilisation: 0.5) == 1)
    }

    @Test func plan_movesCapitalToTheBetterTrader_conservingIt_withinTheStep() {
        let moves = rebalancer.plan([
            candidate("good", sharpe: 2),
            candidate("bad", sharpe: -2, drawdownPct: 20),
        ])
        #expect(moves.count == 2)
        #expect(abs(total(moves)) < 1e-9)
        let good = moves.first { $0.id == "good" }?.amount ?? 0
        // Targets 5,000 / 1,000 of the 6,000 pool, held to 1,000 (10 % of 10,000) per rebalance.
        #expect(good == 1000)
        #expect(moves.first { $0.id == "bad" }?.amount == -1000)
    }

    @Test func plan_neverTakesATraderBelowItsOpenMargin() {
        let moves = rebalancer.plan([
            candidate("good", sharpe: 2),
            candidate("busy", marginUsed: 2800, sharpe: -2),
        ])
        // "busy" has 200 of free cash: that is all that may leave it.
        #expect(moves.first { $0.id == "busy" }?.amount == -200)
        #expect(moves.first { $0.id == "good" }?.amount == 200)
    }

    @Test func plan_respectsTheBounds_andAHaltedTraderOnlyGives() {
        let bounded = Rebalancer(
            bounds: .init(minAllocationPct: 25, maxAllocationPct: 35, maxStepPct: 100),
            totalEquityUSD: 10_000
        )
        let moves = bounded.plan([candidate("a", sharpe: 2), candidate("b", sharpe: -2)])
        // Unbounded the split would be 4,500 / 1,500; the bounds hold it to 3,500 / 2,500.
        #expect(moves.first { $0.id == "a" }?.amount == 500)
        #expect(moves.first { $0.id == "b" }?.amount == -500)

        let halted = rebalancer.plan([
            candidate("halted", sharpe: 2, mayReceive: false),
            candidate("other", sharpe: -2),
        ])
        #expect(halted.isEmpty)
    }

    @Test func plan_movesNothing_forOneTrader_orATrifle() {
        #expect(rebalancer.plan([candidate("alone", sharpe: 2)]).isEmpty)
        // Equal scores, equal equity: nothing to move.
        #expect(rebalancer.plan([candidate("a"), candidate("b")]).isEmpty)
        // 2 USD of imbalance in a 6,000 pool (under 0.1 %): left alone.
        #expect(rebalancer.plan([candidate("a", equity: 3001), candidate("b", equity: 2999)]).isEmpty)
    }

    @Test func plan_roundsToCents_andStillSumsToZero() {
        let moves = rebalancer.plan([
            candidate("a", equity: 3333.33, sharpe: 1.3),
            candidate("b", equity: 2222.22, sharpe: -0.7, drawdownPct: 3.3),
            candidate("c", equity: 1111.11, sharpe: 0.1, utilisation: 0.1),
        ])
        #expect(!moves.isEmpty)
        #expect(abs(total(moves)) < 1e-9)
        for move in moves { #expect(abs(move.amount * 100 - (move.amount * 100).rounded()) < 1e-6) }
    }

    // MARK: In the engine

    func configuration(
        _ scratch: URL,
        strategy: ManagerConfiguration.AllocationStrategy
    ) throws
        -> ArenaConfiguration
    {
        var configuration = try ConfigLoader(
            environment: [
                "ARENA_LLM_BUDGET_PATH": scratch.appendingPathComponent("llm-budget.json").path,
                "ARENA_LLM_CACHE_PATH": scratch.appendingPathComponent("llm-cache.jsonl").path,
            ],
            baseDirectory: TestPaths.packageRoot.path
        ).load(path: TestPaths.shipped.appendingPathComponent("arena.yaml").path)
        configuration.manager.allocationStrategy = strategy
        configuration.manager.rebalanceInterval = .seconds(4 * 3600)
        return configuration
    }

    func backtest(_ configuration: ArenaConfiguration, output: URL) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let day = { (text: String) in Int64(ISO8601DateFormatter().date(from: text)!.timeIntervalSince1970 * 1000) }
        _ = try await Backtest.run(
            base: configuration,
            options: Backtest.Options(
                from: day("2025-07-16T00:00:00Z"),
                to: day("2025-07-18T00:00:00Z"),
                symbols: nil,
                dataDirectory: nil,
                intradayInterval: nil,
                traders: nil,
                output: output.path
            ),
            logger: logger
        )
    }

    @Test func backtest_performanceBased_journalsExportsAndConservesEveryMove() async throws {
        let scratch = try TestPaths.makeScratch("rebalance")
        let configuration = try configuration(scratch, strategy: .performanceBased)
        let output = scratch.appendingPathComponent("out")
        try await backtest(configuration, output: output)

        let journal = output.appendingPathComponent("journal")
        let entries = try RebalanceLog(journalDirectory: journal.path).entries()
        // Two days, every 4 hours: the first interval arms it, then up to 11 rebalances.
        #expect(entries.count >= 2)
        #expect(entries.map(\.id) == Array(1...entries.count))
        let step = 10.0 / 100 * configuration.manager.totalEquityUSD
        for entry in entries {
            #expect(abs(entry.moves.reduce(0) { $0 + $1.amountUSD }) < 1e-6, "rebalance \(entry.id) conserves")
            #expect(abs(entry.poolUSD - entry.moves.reduce(0) { $0 + $1.equityBefore }) < 1e-6)
            for move in entry.moves {
                #expect(abs(move.amountUSD) <= step + 1e-9)
                #expect(move.equityBefore + move.amountUSD >= move.marginUsed - 1e-9, "above the open margin")
            }
            // The LLM trader (disabled without its key) is not part of it; nothing else is left out.
            #expect(Set(entry.moves.map(\.modelID)) == ["baseline-ema", "baseline-hold"])
        }
        // The journal file is not a trader's journal: replay and import see the same two traders.
        #expect(JournalDirectory(root: journal.path).traders() == ["baseline-ema", "baseline-hold"])

        // Exported, newest first, and served by the generation.
        let generation = try #require(SnapshotReader(root: output.appendingPathComponent("mcp-data").path).resolve())
        let exported = try JSONDecoder().decode(
            RebalancesDocument.self,
            from: Data(contentsOf: URL(fileURLWithPath: generation.directory).appendingPathComponent("rebalances.json"))
        )
        #expect(exported.rebalances == entries.reversed())

        // The manager's books: each trader's capital is its allocation plus what moved; together, unchanged
        // (the reserve was never touched).
        let state = try JSONDecoder().decode(
            ManagerState.self,
            from: Data(contentsOf: output.appendingPathComponent("state/manager.json"))
        )
        let allocation = configuration.manager.totalEquityUSD * 30 / 100
        for trader in ["baseline-ema", "baseline-hold"] {
            let moved = entries.flatMap(\.moves).filter { $0.modelID == trader }.reduce(0) { $0 + $1.amountUSD }
            let inception = try #require(state.traders[trader]?.inceptionCapital)
            #expect(abs(inception - (allocation + moved)) < 1e-6, "\(trader)")
            #expect(state.traders[trader]?.lastRebalance == entries.last?.id)
        }
        let flows = state.traders.values.flatMap(\.equityHistory).compactMap(\.flow)
        #expect(!flows.isEmpty)
        #expect(abs(flows.reduce(0, +)) < 1e-6)
    }

    @Test func backtest_static_movesNothing_andExportsNoRebalances() async throws {
        let scratch = try TestPaths.makeScratch("rebalance-static")
        let output = scratch.appendingPathComponent("out")
        try await backtest(try configuration(scratch, strategy: .static), output: output)
        let journal = output.appendingPathComponent("journal")
        #expect(!FileManager.default.fileExists(atPath: journal.appendingPathComponent("rebalances.jsonl").path))
        let generation = try #require(SnapshotReader(root: output.appendingPathComponent("mcp-data").path).resolve())
        #expect(
            !FileManager.default.fileExists(
                atPath: URL(fileURLWithPath: generation.directory).appendingPathComponent("rebalances.json").path
            )
        )
    }

    @Test func aJournaledRebalance_isAppliedAtStart_once() async throws {
        let scratch = try TestPaths.makeScratch("rebalance-recovery")
        let log = RebalanceLog(journalDirectory: scratch.appendingPathComponent("journal").path)
        // A crash after journaling, before applying: the entry is on disk, the ledger never saw it. A torn
        // second line (the crash hit mid-append) is ignored.
        let entry = RebalancesDocument.Rebalance(
            id: 1,
            timestamp: 1000,
            poolUSD: 6000,
            moves: [
                .init(
                    modelID: "a",
                    equityBefore: 3000,
                    amountUSD: 250,
                    targetPct: 32.5,
                    score: 1.2,
                    sharpe: 1,
                    drawdownPct: 0,
                    utilisationPct: 50,
                    marginUsed: 0
                ),
                .init(
                    modelID: "b",
                    equityBefore: 3000,
                    amountUSD: -250,
                    targetPct: 27.5,
                    score: 0.8,
                    sharpe: -1,
                    drawdownPct: 5,
                    utilisationPct: 50,
                    marginUsed: 0
                ),
            ],
            skipped: []
        )
        try log.append(entry)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"id":2,"moves":[{"model_"#.utf8))
        try handle.close()
        #expect(try log.entries() == [entry])

        let ledgerPath = scratch.appendingPathComponent("paper.json").path
        let statePath = scratch.appendingPathComponent("manager.json").path
        for _ in 0..<2 {  // start, "crash", start again
            let sim = SimExchange(
                id: "paper",
                ledger: (FileManager.default.contents(atPath: ledgerPath)).flatMap {
                    try? JSONDecoder().decode(SimLedger.self, from: $0)
                } ?? SimLedger(takerFeeBps: 4.5, makerFeeBps: 1.5, slippageBps: 0),
                statePath: ledgerPath
            )
            let manager = try RebalanceTests.manager(
                sim: sim,
                store: try ManagerStore(path: statePath),
                log: log,
                scratch: scratch
            )
            try await manager.prepare()
            await manager.persist()
            #expect(try sim.account(trader: "a").cash == 3250)
            #expect(try sim.account(trader: "b").cash == 2750)
            #expect(manager.store.state("a").inceptionCapital == 3250)
            #expect(manager.store.state("b").inceptionCapital == 2750)
            #expect(manager.store.nextRebalanceID == 2)
        }
    }

    /// A manager of two paper traders, "a" and "b", with 3,000 each and the given rebalance journal.
    static func manager(sim: SimExchange, store: ManagerStore, log: RebalanceLog, scratch: URL) throws -> ArenaManager {
        let traders = try ["a", "b"].map { id in
            let trader = try ManagerConcurrencyTests().trader(
                id,
                client: BaselinePolicy(modelName: "buy_and_hold")!,
                exchange: sim
            )
            return ArenaManager.Trader(configuration: trader.configuration, cycle: trader.cycle, capital: 3000)
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return ArenaManager(
            traders: traders,
            clock: ManualClock(now: 1000),
            tickInterval: 1000,
            maxConcurrentDecisions: 1,
            exchanges: ["paper": sim],
            markets: [:],
            store: store,
            publisher: nil,
            exportInterval: 60_000,
            rebalancing: .init(
                interval: 3_600_000,
                rebalancer: Rebalancer(bounds: .init(), totalEquityUSD: 10_000),
                log: log
            ),
            logger: logger
        )
    }
}
