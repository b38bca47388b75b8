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

/// Results by prompt version: cycles, refusals and cost booked under the templates each cycle used, trades under
/// the version in force when they were opened, hourly returns under the version in use; per trader and summed
/// across traders; and a backtest run twice on the same candles with another set of templates.
@Suite("Results by prompt version", .serialized)
struct PromptVersionTests {
    static let v1 = [
        TemplateStamp(id: "user", version: "1.0.0", digest: String(repeating: "a", count: 64)),
        TemplateStamp(id: "system", version: "1.0.0", digest: String(repeating: "b", count: 64)),
    ]
    static let v2 = [
        TemplateStamp(id: "user", version: "1.1.0", digest: String(repeating: "c", count: 64)),
        TemplateStamp(id: "system", version: "1.0.0", digest: String(repeating: "b", count: 64)),
    ]

    static func record(
        _ templates: [TemplateStamp],
        at time: Int64,
        refused: [ReasonCode] = [],
        cost: Double = 0
    )
        -> CycleRecord
    {
        var record = CycleRecord(
            traderID: "t",
            cycle: Int(time / 1000),
            cycleID: "t-\(time)",
            startedAt: time,
            endedAt: time,
            outcome: .completed,
            modelAsked: "m"
        )
        record.templates = templates
        record.costUSD = cost
        if !refused.isEmpty {
            record.verdicts = [RiskVerdict(symbol: "BTC", signal: .buyToEnter, isAccepted: false, reasons: refused)]
        }
        return record
    }

    static func trade(entry: Int64, pnl: Double) -> ClosedTrade {
        ClosedTrade(
            tradeID: entry,
            trader: "t",
            symbol: "BTC",
            quantity: 1,
            leverage: 1,
            confidence: 0.5,
            entryOrderID: entry,
            exitOrderID: entry + 1,
            entryTime: entry,
            exitTime: entry + 500,
            entryPrice: 100,
            exitPrice: 100 + pnl,
            entryFee: 0,
            exitFee: 0,
            fundingPaid: 0,
            wasLiquidated: false
        )
    }

    @Test func cyclesTradesAndReturns_areBookedUnderTheirVersion() throws {
        var state = TraderState()
        state.recordPromptVersion(Self.record(Self.v1, at: 1000, refused: [.cooldownActive], cost: 0.5))
        state.recordPromptVersionReturn(0.01)
        state.recordPromptVersion(Self.record(Self.v1, at: 2000))
        state.recordPromptVersion(Self.record(Self.v2, at: 3000, refused: [.cooldownActive, .confidenceBelowMin]))
        state.recordPromptVersionReturn(-0.02)
        state.recordPromptVersionReturn(0.03)
        // Opened under v1, closed later; opened under v2.
        state.recordPromptVersion(Self.trade(entry: 2500, pnl: 7))
        state.recordPromptVersion(Self.trade(entry: 3500, pnl: -2))
        // Back to v1: a new switch, the same statistics.
        state.recordPromptVersion(Self.record(Self.v1, at: 4000))

        let versions = try #require(state.promptVersions)
        #expect(versions.count == 2)
        #expect(versions[0].key == "system@1.0.0#bbbbbbbbbbbb+user@1.0.0#aaaaaaaaaaaa")
        #expect(versions[0].templates.map(\.id) == ["system", "user"])
        #expect(versions[0].cycles == 3)
        #expect(versions[0].firstUsedAt == 1000 && versions[0].lastUsedAt == 4000)
        #expect(versions[0].refusals == ["COOLDOWN_ACTIVE": 1])
        #expect(versions[0].llmCostUSD == 0.5)
        #expect(versions[0].trades == 1 && versions[0].wins == 1 && versions[0].netPnL == 7)
        #expect(versions[0].hourlyReturns.count == 1)
        #expect(versions[1].cycles == 1)
        #expect(versions[1].refusals == ["COOLDOWN_ACTIVE": 1, "CONFIDENCE_BELOW_MIN": 1])
        #expect(versions[1].trades == 1 && versions[1].wins == 0 && versions[1].netPnL == -2)
        #expect(versions[1].hourlyReturns.count == 2)
        #expect(state.promptVersionSwitches?.map(\.time) == [1000, 3000, 4000])
        #expect(state.promptVersion(at: 500) == versions[0].key)
        #expect(state.promptVersion(at: 3999) == versions[1].key)

        // The document: per trader, and summed across traders (the same version used by two traders).
        let view = { (id: String) in
            ArenaSnapshotBuilder.TraderView(
                configuration: CycleHarness.trader(id: id),
                state: state,
                account: TraderAccount(cash: 0, positions: [:], realizedPnL: 0, feesPaid: 0),
                trades: []
            )
        }
        let document = ArenaSnapshotBuilder(traders: [view("a"), view("b")], prices: [:], now: 5000).promptVersions()
        #expect(document.promptVersions.map(\.modelID) == ["a", "a", "b", "b"])
        #expect(document.acrossTraders.map(\.key) == versions.map(\.key))
        let across = try #require(document.acrossTraders.first)
        #expect(across.modelID == nil)
        #expect(across.cycles == 6 && across.trades == 2 && across.wins == 2)
        #expect(across.winRatePct == 100)
        #expect(across.refusals == ["COOLDOWN_ACTIVE": 2])
        #expect(abs(across.pnlNetOfLLMUSD - (14 - 1)) < 1e-12)
        let second = try #require(document.acrossTraders.last)
        // Pooled returns of both traders: −0.02, 0.03 twice.
        var pooled = RunningMoments()
        for value in [-0.02, 0.03, -0.02, 0.03] { pooled.add(value) }
        #expect(abs(second.sharpe - pooled.hourlySharpe) < 1e-9)
        #expect(second.templates.first { $0.id == "user" }?.sha256 == String(repeating: "c", count: 64))
        let decoded = try SnapshotCoding.makeDecoder().decode(
            PromptVersionsDocument.self,
            from: SnapshotCoding.makeEncoder().encode(document)
        )
        #expect(decoded == document)
    }

    @Test func runningMoments_mergeLikeOneSeries() {
        var generator = SeededRandom(seed: 7)
        for _ in 0..<50 {
            let values = (0..<Int.random(in: 0...20, using: &generator)).map { _ in
                Double.random(in: -1...1, using: &generator)
            }
            let split = values.isEmpty ? 0 : Int.random(in: 0...values.count, using: &generator)
            var left = RunningMoments()
            var right = RunningMoments()
            var whole = RunningMoments()
            for value in values[..<split] { left.add(value) }
            for value in values[split...] { right.add(value) }
            for value in values { whole.add(value) }
            let merged = left.merged(with: right)
            #expect(merged.count == whole.count)
            #expect(abs(merged.mean - whole.mean) < 1e-12)
            #expect(abs(merged.squares - whole.squares) < 1e-9)
        }
    }

    /// `engine backtest --compare-templates`: the same candles with another set of templates. The baselines
    /// decide without reading prompts, so their results are the same; the journals and the prompt-version
    /// documents say which templates each run used.
    @Test func backtest_comparesTemplatesOnTheSameCandles() async throws {
        let scratch = try TestPaths.makeScratch("compare-templates")
        let templates = scratch.appendingPathComponent("templates")
        try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent("prompts"), to: templates)
        let system = templates.appendingPathComponent("system/alpha_arena.mustache")
        try (try String(contentsOf: system, encoding: .utf8) + "Think step by step.\n")
            .write(to: system, atomically: true, encoding: .utf8)
        let configuration = try BacktestTests().configuration(scratch)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var current = BacktestTests().options(scratch.appendingPathComponent("current"), to: "2025-07-16T03:00:00Z")
        current.recordsPrompts = true
        var compared = current
        compared.output = scratch.appendingPathComponent("compared").path
        compared.templatesDirectory = templates.path
        let first = try await Backtest.run(base: configuration, options: current, logger: logger)
        let second = try await Backtest.run(base: configuration, options: compared, logger: logger)
        #expect(first == second)
        #expect(Backtest.formatComparison(first, second, directory: templates.path).contains("→"))

        func versions(_ options: Backtest.Options) throws -> PromptVersionsDocument {
            let generation = try #require(
                SnapshotReader(root: (options.output as NSString).appendingPathComponent("mcp-data")).resolve()
            )
            return try JSONDecoder().decode(
                PromptVersionsDocument.self,
                from: Data(
                    contentsOf: URL(fileURLWithPath: generation.directory).appendingPathComponent(
                        PromptVersionsDocument.fileName
                    )
                )
            )
        }
        let before = try versions(current)
        let after = try versions(compared)
        #expect(before.promptVersions.count == 2 && after.promptVersions.count == 2)
        #expect(before.acrossTraders.count == 1 && after.acrossTraders.count == 1)
        let oldSystem = try #require(before.acrossTraders.first?.templates.first { $0.id == "alpha-arena-system" })
        let newSystem = try #require(after.acrossTraders.first?.templates.first { $0.id == "alpha-arena-system" })
        #expect(oldSystem.version == newSystem.version)
        #expect(oldSystem.sha256 != newSystem.sha256)
        #expect(before.acrossTraders.first?.cycles == after.acrossTraders.first?.cycles)
        let records = try JournalReplay.records(
            journal: JournalDirectory(root: (compared.output as NSString).appendingPathComponent("journal")),
            trader: "baseline-ema"
        )
        #expect(records.allSatisfy { $0.systemPrompt?.hasSuffix("Think step by step.\n") == true })
        #expect(records.allSatisfy { $0.templates.contains { $0.digest == newSystem.sha256 } })
    }

    /// The invocation count the prompts and `num_invocations` show keeps counting past the 10,000 invocation
    /// times kept for the statistics (it used to stop at 10,000), and state saved before the count existed
    /// still reads its count from the times.
    @Test func invocationCount_keepsCountingPastTheTimesKept() throws {
        var state = TraderState()
        for index in 0..<11_050 { state.recordInvocation(at: Int64(index) * 180_000) }
        #expect(state.invocationCount == 11_050)
        #expect(state.invocationTimes.count >= TraderState.invocationTimeLimit)
        #expect(state.invocationTimes.count <= TraderState.invocationTimeLimit * 11 / 10)
        #expect(state.invocationTimes.last == Int64(11_049) * 180_000)
        let inputs = DecisionCycle.inputs(state: state, now: 0, takerFeeRate: 0, sharpe: 0)
        #expect(inputs.invocationCount == 11_051)
        let view = ArenaSnapshotBuilder.TraderView(
            configuration: CycleHarness.trader(),
            state: state,
            account: TraderAccount(cash: 0, positions: [:], realizedPnL: 0, feesPaid: 0),
            trades: []
        )
        let builder = ArenaSnapshotBuilder(traders: [view], prices: [:], now: 0)
        #expect(builder.sinceInception().sinceInceptionValues.first?.numInvocations == 11_050)
        #expect(builder.analytics().analytics.first?.invocationBreakdownTable.numInvocations == 11_050)

        var old = TraderState()
        old.invocationTimes = [1, 2, 3]
        let decoded = try JSONDecoder().decode(TraderState.self, from: JSONEncoder().encode(old))
        #expect(decoded.invocations == nil && decoded.invocationCount == 3)
    }
}
