import ArenaTestSupport
import AsyncHTTPClient
import EngineTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

/// The decision cycle end to end, with a fake model speaking real HTTP and the real paper exchange:
/// every failure leaves zero orders, positions and balances unchanged, and the reason recorded.
@Suite("Decision cycle fails closed", .serialized)
struct CycleFailureTests {
    /// Runs one cycle against the fake model answering `answer`, and checks the fail-closed invariants.
    func runFailing(
        _ answer: FakeModelBehaviour.Answer,
        market: FixedMarketProvider = CycleHarness.market(),
        expect reason: ReasonCode,
        inVerdicts: Bool = false,
        decisionTimeout: Duration = .seconds(20),
        prepare: @Sendable (SimExchange) async throws -> Void = { _ in },
        intentLog: DecisionCycle.IntentLog? = nil
    ) async throws {
        let behaviour = FakeModelBehaviour(answer)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await FakeModelServer.makeApplication(behaviour).test(.live) { client in
                let port = try #require(client.port)
                let harness = try await CycleHarness.make(
                    port: port,
                    httpClient: httpClient,
                    market: market,
                    decisionTimeout: decisionTimeout
                )
                try await prepare(harness.exchange)
                let before = try harness.exchange.account(trader: "llm-1")
                let clock = ManualClock(now: CycleHarness.now)
                let record = await harness.cycle.run(
                    cycle: 1,
                    now: CycleHarness.now,
                    state: CycleHarness.state(),
                    clock: clock,
                    intentLog: intentLog
                )
                #expect(record.orders.isEmpty, "orders: \(record.orders)")
                #expect(record.results.isEmpty)
                let after = try harness.exchange.account(trader: "llm-1")
                #expect(after == before)
                #expect(harness.exchange.state.results.keys.allSatisfy { $0.hasPrefix("setup-") })
                if inVerdicts {
                    #expect(record.outcome == .completed)
                    #expect(record.verdicts.allSatisfy { !$0.isAccepted })
                    #expect(record.verdicts.contains { $0.reasons.contains(reason) }, "\(record.verdicts)")
                } else {
                    #expect(record.outcome == .failedClosed)
                    #expect(record.reason == reason, "\(String(describing: record.reason)): \(record.error ?? "")")
                    #expect(record.decisions.isEmpty || reason != .llmOutputInvalid)
                }
                // The key is sent to the model and appears nowhere in what the engine records.
                let encoded = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
                #expect(!encoded.contains("sk-test-never-logged"))
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    @Test func modelTimeout_holdsEverything() async throws {
        // The one test about slowness: the model takes 3 s, the cycle allows 0.8 s.
        try await runFailing(
            .delay(.seconds(3), then: CycleHarness.answer(CycleHarness.entry())),
            expect: .llmUnavailable,
            decisionTimeout: .milliseconds(800)
        )
    }

    @Test func orderIntentsThatCannotBeJournaled_holdEverything() async throws {
        // A valid entry, accepted by risk, but the disk refuses its write-ahead: nothing may be sent.
        final class Attempts: Sendable { let count = Mutex(0) }
        let attempts = Attempts()
        try await runFailing(
            .content(CycleHarness.answer(CycleHarness.entry())),
            expect: .journalUnavailable,
            intentLog: { intent in
                attempts.count.withLock { $0 += 1 }
                #expect(intent.orders.count == 3, "entry, stop and target journaled together")
                throw POSIXError(.ENOSPC)
            }
        )
        #expect(attempts.count.withLock { $0 } == 1)
    }

    @Test func http500_holdsEverything() async throws {
        try await runFailing(.status(500, #"{"error":"overloaded"}"#), expect: .llmUnavailable)
    }

    /// A provider that echoes the request (the key included) in its error body: only the status and a fixed
    /// message reach the record (and from it the conversations document); `runFailing` checks the key is nowhere.
    @Test func aProviderEchoingTheKeyInItsError_leavesNoTraceOfIt() async throws {
        try await runFailing(
            .status(401, #"{"error":{"message":"Incorrect API key provided: sk-test-never-logged"}}"#),
            expect: .llmUnavailable
        )
    }

    @Test func nonJSONBody_holdsEverything() async throws {
        try await runFailing(.rawBody("<html>gateway</html>"), expect: .llmUnavailable)
    }

    @Test func answerWithoutJSON_holdsEverything() async throws {
        try await runFailing(.content("I would buy some bitcoin, probably."), expect: .llmOutputInvalid)
    }

    @Test func truncatedJSON_holdsEverything() async throws {
        try await runFailing(.content(#"{"decisions":[{"symbol":"BTC","signal":"buy_to_en"#), expect: .llmOutputInvalid)
    }

    @Test func schemaBreakingJSON_holdsEverything() async throws {
        try await runFailing(
            .content(#"{"decisions":[{"symbol":"BTC","signal":"moon","confidence":2}]}"#),
            expect: .llmOutputInvalid
        )
    }

    @Test func oneInvalidDecision_letsNoDecisionThrough() async throws {
        let bad = #"{"symbol":"ETH","signal":"sell_to_enter","confidence":0.9}"#
        try await runFailing(.content(CycleHarness.answer(CycleHarness.entry(), bad)), expect: .llmOutputInvalid)
    }

    @Test func unknownSymbol_isRejected() async throws {
        try await runFailing(
            .content(CycleHarness.answer(CycleHarness.entry("DOGE", stop: 0.09, target: 0.2))),
            expect: .unknownSymbol,
            inVerdicts: true
        )
    }

    @Test func leverageOverTheCap_isRejected() async throws {
        try await runFailing(
            .content(CycleHarness.answer(CycleHarness.entry(leverage: 20))),
            expect: .leverageAboveCap,
            inVerdicts: true
        )
    }

    @Test func stopOnTheWrongSide_isRejected() async throws {
        try await runFailing(
            .content(CycleHarness.answer(CycleHarness.entry(stop: 101_000))),
            expect: .stopLossInvalid,
            inVerdicts: true
        )
    }

    @Test func sizeOverTheMaximum_isRejected() async throws {
        try await runFailing(
            .content(CycleHarness.answer(CycleHarness.entry(size: 6000))),
            expect: .positionSizeAboveMax,
            inVerdicts: true
        )
    }

    @Test func marginOverTheMaximum_isRejected() async throws {
        // An open ETH position already uses 30 % of equity; 2500 more at 1× would make 55 % > 50 %.
        let btc = CycleHarness.entry(leverage: 1, size: 2500, stop: 99_000, target: 102_000)
        try await runFailing(.content(CycleHarness.answer(btc)), expect: .marginUsageAboveMax, inVerdicts: true) {
            exchange in
            let order = OrderRequest(
                cloid: "setup-eth",
                trader: "llm-1",
                symbol: "ETH",
                isBuy: true,
                size: 0.75,
                kind: .marketIOC,
                limitPrice: nil,
                triggerPrice: nil,
                slippageBps: 0,
                isReduceOnly: false,
                leverage: 1,
                plan: nil
            )
            _ = try exchange.submit([order])
        }
    }

    @Test func staleMarketData_holdsEverything() async throws {
        try await runFailing(
            .content(CycleHarness.answer(CycleHarness.entry())),
            market: CycleHarness.market(asOf: CycleHarness.now - 3_600_000),
            expect: .staleMarketData
        )
    }

    @Test func missingMarketData_holdsEverything() async throws {
        try await runFailing(
            .content(CycleHarness.answer(CycleHarness.entry())),
            market: CycleHarness.market(symbols: ["BTC"]),
            expect: .staleMarketData
        )
    }

    @Test func goodAnswer_placesEntryStopAndTarget_andTheFakeSawTheSchema() async throws {
        let behaviour = FakeModelBehaviour(
            .content("Sure:\n```json\n\(CycleHarness.answer(CycleHarness.entry()))\n```")
        )
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await FakeModelServer.makeApplication(behaviour).test(.live) { client in
                let harness = try await CycleHarness.make(port: try #require(client.port), httpClient: httpClient)
                let record = await harness.cycle.run(
                    cycle: 7,
                    now: CycleHarness.now,
                    state: CycleHarness.state(),
                    clock: ManualClock(now: CycleHarness.now)
                )
                #expect(record.outcome == .completed)
                #expect(record.results.map(\.status) == [.filled, .resting, .resting])
                #expect(record.promptTokens == 1234)
                #expect(record.modelAnswered == "fake")
                #expect(record.providerModel == "fake-model-1")
                #expect(
                    record.orders.first?.cloid
                        == OrderPlanner.cloid(trader: "llm-1", cycle: 7, symbol: "BTC", leg: "entry")
                )
                let account = try harness.exchange.account(trader: "llm-1")
                #expect(abs((account.positions["BTC"]?.quantity ?? 0) - 0.02) < 1e-12)
                let sent = try #require(behaviour.receivedBodies.first)
                #expect(sent.contains("\"response_format\""))
                #expect(sent.contains("buy_to_enter"))
                #expect(record.userPrompt?.contains("ALL BTC DATA") == true)
                #expect(record.promptDigest?.count == 64)
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }
}
