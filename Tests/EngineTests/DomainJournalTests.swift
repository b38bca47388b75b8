import ArenaAdapters
import ArenaCore
import Foundation
import Shared
import Testing

/// Accounts, positions, cycle inputs and decisions write the journal bytes `JSONEncoder` writes from their `Encodable`
/// conformances (sorted keys, unescaped slashes), for random values with every optional present or absent.
@Suite struct DomainJournalTests {
    /// The reference bytes: `JSONEncoder` as the journal configures it.
    static func foundation<T: Encodable>(_ value: T) throws -> Data { try MarketSnapshotJournalTests.foundation(value) }

    @Test func randomAccountsAndInputs_matchJSONEncoder() throws {
        var random = SeededRandom(seed: 99)
        func number() -> Double { random.journalNumber() }
        func maybe<T>(_ value: T) -> T? { random.maybe(value) }
        let texts = ["", "close below 4h EMA/20", "a \"quoted\" \\ reason\n", "ü → 中文"]
        let encoder = SortedJSONEncoder()
        for _ in 0..<300 {
            var positions: [String: Position] = [:]
            for symbol in ["BTC", "ETH", "SOL", "kPEPE"].prefix(random.int(below: 5)) {
                positions[symbol] = Position(
                    symbol: symbol,
                    quantity: number(),
                    entryPrice: number(),
                    leverage: number(),
                    margin: number(),
                    liquidationPrice: number(),
                    markPrice: number(),
                    stopLoss: maybe(number()),
                    takeProfit: maybe(number()),
                    openedAt: Int64(random.next() % 2_000_000_000_000),
                    entryOrderID: Int64(random.next() % 1_000_000),
                    stopOrderID: maybe(Int64(random.next() % 1_000_000)),
                    takeProfitOrderID: maybe(Int64(random.next() % 1_000_000)),
                    confidence: number(),
                    riskUSD: number(),
                    invalidationCondition: texts[random.int(below: texts.count)],
                    entryFee: number(),
                    fundingPaid: number()
                )
            }
            let account = TraderAccount(cash: number(), positions: positions, realizedPnL: number(), feesPaid: number())
            #expect(try encoder.encode(account) == (try Self.foundation(account)))
            #expect(try TraderAccount.read(from: encoder.encode(account)) == account)
            var cooldown: [String: Int64] = [:]
            for symbol in ["BTC", "ETH", "DOGE"].prefix(random.int(below: 4)) {
                cooldown[symbol] = Int64(random.next() % 2_000_000_000_000) - 1_000
            }
            var inputs = CycleInputs(
                startedAt: Int64(random.next() % 2_000_000_000_000),
                inceptionCapital: number(),
                invocationCount: random.int(below: 100_000),
                sharpe: number(),
                cooldownUntil: cooldown,
                isPaused: random.int(below: 2) == 0,
                isDailyLossLimitHit: random.int(below: 2) == 0,
                isDrawdownLimitHit: random.int(below: 2) == 0,
                takerFeeRate: number(),
                unprotectedSymbols: maybe(["ETH", "SOL"].suffix(random.int(below: 3)).map { $0 })
            )
            if random.int(below: 2) == 0 { inputs.memory = random.promptMemory(texts) }
            #expect(try encoder.encode(inputs) == (try Self.foundation(inputs)))
            #expect(try CycleInputs.read(from: encoder.encode(inputs)) == inputs)
            #expect(try encoder.encode(["account": account]) == (try Self.foundation(["account": account])))
            #expect(try encoder.encode(["inputs": inputs]) == (try Self.foundation(["inputs": inputs])))
            let signals: [Decision.Signal] = [.buyToEnter, .sellToEnter, .hold, .closePosition]
            let decisions = (0..<random.int(below: 4)).map { _ in
                Decision(
                    symbol: ["BTC", "ETH", "kPEPE"][random.int(below: 3)],
                    signal: signals[random.int(below: signals.count)],
                    leverage: maybe(1 + random.int(below: 40)),
                    positionSizeUSD: maybe(number()),
                    stopLoss: maybe(number()),
                    takeProfit: maybe(number()),
                    confidence: number(),
                    riskUSD: maybe(number()),
                    invalidationCondition: maybe(texts[random.int(below: texts.count)]),
                    reasoning: maybe(texts[random.int(below: texts.count)])
                )
            }
            #expect(try encoder.encode(decisions) == (try Self.foundation(decisions)))
            #expect(try encoder.encode(["decisions": decisions]) == (try Self.foundation(["decisions": decisions])))
            // A baseline's answer: JSONEncoder with `.sortedKeys` alone, slashes escaped (`\/`).
            let sortedKeys = JSONEncoder()
            sortedKeys.outputFormatting = [.sortedKeys]
            let answer = try AnswerText.text(of: decisions)
            #expect(answer == String(decoding: try sortedKeys.encode(["decisions": decisions]), as: UTF8.self))
            if let first = decisions.first { #expect(try encoder.encode(first) == (try Self.foundation(first))) }
            for decision in decisions { #expect(try Decision.read(from: encoder.encode(decision)) == decision) }
            // A whole record around them reads back too.
            var record = CycleRecord(
                traderID: "t",
                cycle: 1,
                cycleID: "t-1",
                startedAt: 1,
                endedAt: 2,
                outcome: .completed,
                modelAsked: "m",
                account: account,
                decisions: decisions,
                inputs: inputs
            )
            record.recheckAccount = maybe(account)
            let line = try encoder.encode(record)
            #expect(try CycleRecord.read(from: line) == record)
            #expect(try CycleRecord.read(from: line) == JSONDecoder().decode(CycleRecord.self, from: line))
            // An in-process policy's answer, its text written from its decisions only when the record is: the
            // same line as the text itself, through both encoders, and read back as that text.
            let written = try #require(AnswerText.answering(decisions))
            guard case .decisions = written else {
                Issue.record("not kept as decisions")
                return
            }
            record.rawAnswer = written
            // The record's own decisions array: the line wraps their bytes (the same array, so the same bits).
            #expect(decisions.isSameArray(as: record.decisions))
            let fromDecisions = try encoder.encode(record)
            record.rawAnswer = .text(answer)
            #expect(fromDecisions == (try encoder.encode(record)))
            #expect(fromDecisions == (try Self.foundation(record)))
            #expect(try CycleRecord.read(from: fromDecisions).rawAnswer == .text(answer))
            #expect(written == .text(answer) && written.text == answer)
            // Answered decisions equal to the record's but not the same array are written again: a −0 in the
            // answer (`==` takes it for the record's 0) keeps its own text.
            if !decisions.isEmpty {
                var answered = decisions
                answered[0].stopLoss = -0.0
                record.decisions[0].stopLoss = 0
                #expect(answered == record.decisions && !answered.isSameArray(as: record.decisions))
                record.rawAnswer = .decisions(answered)
                let line = try encoder.encode(record)
                record.rawAnswer = .text(try AnswerText.text(of: answered))
                #expect(line == (try encoder.encode(record)))
                #expect(String(decoding: line, as: UTF8.self).contains(#"\"stop_loss\":-0,"#))
                record.decisions = decisions
            }
            // A number without a JSON form: no answer (the policy refuses it, as writing it would).
            if var broken = decisions.first {
                broken.stopLoss = .nan
                #expect(AnswerText.answering(decisions + [broken]) == nil)
                broken.stopLoss = nil
                broken.confidence = .infinity
                #expect(AnswerText.answering([broken]) == nil)
            }
        }
    }

    /// Whole records: attempts, verdicts, orders (with and without a plan), results, templates, the entry re-check
    /// and every optional field present or absent — alone and nested — against `JSONEncoder`.
    @Test func randomRecords_matchJSONEncoder() throws {
        var random = SeededRandom(seed: 2026)
        func number() -> Double { random.journalNumber() }
        func maybe<T>(_ value: T) -> T? { random.maybe(value) }
        func time() -> Int64 { Int64(random.next() % 2_000_000_000_000) }
        let texts = ["", "x", "a \"quoted\" \\ reason\n/slash", "ü → 中文", #"{"decisions":[]}"#]
        func text() -> String { texts[random.int(below: texts.count)] }
        let reasons = Array(ReasonCode.allCases)
        let routes = Array(ModelRoute.allCases)
        let inputs = CycleInputs(
            startedAt: 1,
            inceptionCapital: 1000,
            invocationCount: 2,
            sharpe: 0.5,
            cooldownUntil: ["BTC": 5],
            isPaused: false,
            isDailyLossLimitHit: false,
            isDrawdownLimitHit: true,
            takerFeeRate: 0.00045
        )
        let encoder = SortedJSONEncoder()
        for _ in 0..<300 {
            var record = CycleRecord(
                traderID: text(),
                cycle: random.int(below: 100_000),
                cycleID: text(),
                startedAt: time(),
                endedAt: time(),
                outcome: random.int(below: 2) == 0 ? .completed : .failedClosed,
                reason: maybe(reasons[random.int(below: reasons.count)]),
                error: maybe(text()),
                modelAsked: text(),
                modelAnswered: maybe(text()),
                providerModel: maybe(text()),
                route: maybe(routes[random.int(below: routes.count)]),
                attempts: (0..<random.int(below: 3)).map { _ in
                    LLMAttempt(
                        model: text(),
                        route: routes[random.int(below: routes.count)],
                        outcome: text(),
                        error: maybe(text()),
                        latencyMilliseconds: time(),
                        promptTokens: random.int(below: 100_000),
                        completionTokens: random.int(below: 100_000),
                        costUSD: number()
                    )
                },
                isCacheHit: random.int(below: 2) == 0,
                costUSD: number(),
                rejectedAnswer: maybe(text()),
                systemPrompt: maybe(text()),
                userPrompt: maybe(text()),
                promptDigest: maybe(text()),
                rawAnswer: maybe(text()).map(AnswerText.text)
            )
            record.promptsSkipped = maybe(random.int(below: 2) == 0)
            record.promptTokens = random.int(below: 100_000)
            record.completionTokens = random.int(below: 100_000)
            record.latencyMilliseconds = time()
            record.verdicts = (0..<random.int(below: 3)).map { _ in
                RiskVerdict(
                    symbol: text(),
                    signal: [.buyToEnter, .sellToEnter, .hold, .closePosition][random.int(below: 4)],
                    isAccepted: random.int(below: 2) == 0,
                    reasons: (0..<random.int(below: 3)).map { _ in reasons[random.int(below: reasons.count)] }
                )
            }
            record.orders = (0..<random.int(below: 3)).map { _ in
                OrderRequest(
                    cloid: text(),
                    trader: text(),
                    symbol: text(),
                    isBuy: random.int(below: 2) == 0,
                    size: number(),
                    kind: [.marketIOC, .limitIOC, .limitGTC, .limitALO, .stopLoss, .takeProfit][random.int(below: 6)],
                    limitPrice: maybe(number()),
                    triggerPrice: maybe(number()),
                    slippageBps: number(),
                    isReduceOnly: random.int(below: 2) == 0,
                    leverage: number(),
                    plan: maybe(
                        .init(
                            stopLoss: maybe(number()),
                            takeProfit: maybe(number()),
                            confidence: number(),
                            riskUSD: number(),
                            invalidationCondition: text()
                        )
                    )
                )
            }
            record.results = (0..<random.int(below: 3)).map { _ in
                OrderResult(
                    cloid: text(),
                    status: [.filled, .resting, .cancelled, .rejected][random.int(below: 4)],
                    orderID: time(),
                    filledSize: number(),
                    averagePrice: number(),
                    fee: number(),
                    reason: maybe(reasons[random.int(below: reasons.count)]),
                    message: maybe(text())
                )
            }
            record.templates = (0..<random.int(below: 3)).map { _ in
                TemplateStamp(id: text(), version: text(), digest: text())
            }
            record.inputs = maybe(inputs)
            record.entryRecheck = maybe(
                EntryRecheck(at: time(), prices: ["BTC": number(), "kPEPE": number()], inputs: inputs)
            )
            record.recheckAccount = maybe(TraderAccount(cash: number(), positions: [:], realizedPnL: 0, feesPaid: 1))
            record.recoveredAt = maybe(time())
            record.origin = maybe(.drawdownSwitch)
            record.consensus = maybe(
                ConsensusRecord(
                    model: text(),
                    rule: text(),
                    members: (0..<random.int(below: 3)).map { _ in
                        .init(model: text(), answer: maybe(text()), error: maybe(text()))
                    }
                )
            )
            if record.inputs != nil, random.int(below: 2) == 0 { record.inputs?.memory = random.promptMemory(texts) }
            #expect(try encoder.encode(record) == (try Self.foundation(record)))
            #expect(try encoder.encode([record]) == (try Self.foundation([record])))
            // Read back without JSONDecoder: the same record, as JSONDecoder reads it.
            let line = try encoder.encode(record)
            #expect(try CycleRecord.read(from: line) == record)
            #expect(try CycleRecord.read(from: line) == JSONDecoder().decode(CycleRecord.self, from: line))
        }
    }
}

extension SeededRandom {
    /// A random cycle memory: trades with and without reasoning, cycles with and without a reason and verdicts.
    mutating func promptMemory(_ texts: [String]) -> PromptMemory {
        func text() -> String { texts[int(below: texts.count)] }
        func window() -> PerformanceWindow {
            PerformanceWindow(
                trades: int(below: 9),
                wins: int(below: 5),
                netPnL: journalNumber(),
                sharpe: journalNumber()
            )
        }
        var reasons: [String: String] = [:]
        for symbol in ["BTC", "ETH", "kPEPE"].prefix(int(below: 4)) { reasons[symbol] = text() }
        return PromptMemory(
            entryReasons: reasons,
            trades: (0..<int(below: 3)).map { _ in
                RememberedTrade(
                    symbol: text(),
                    quantity: journalNumber(),
                    entryPrice: journalNumber(),
                    exitPrice: journalNumber(),
                    netPnL: journalNumber(),
                    entryTime: Int64(next() % 2_000_000_000_000),
                    exitTime: Int64(next() % 2_000_000_000_000),
                    entryReasoning: maybe(text()),
                    closeReason: text()
                )
            },
            cycles: (0..<int(below: 3)).map { _ in
                RememberedCycle(
                    time: Int64(next() % 2_000_000_000_000),
                    outcome: text(),
                    reason: maybe(text()),
                    verdicts: (0..<int(below: 3)).map { _ in
                        .init(
                            symbol: text(),
                            signal: text(),
                            accepted: int(below: 2) == 0,
                            reasons: (0..<int(below: 3)).map { _ in text() }
                        )
                    }
                )
            },
            day: window(),
            week: window()
        )
    }

    /// A number the journal must print exactly as JSONEncoder does: an awkward value a third of the time (zeros,
    /// integral, tiny, huge), else a random fraction.
    mutating func journalNumber() -> Double {
        let awkward: [Double] = [0, -0.0, 1, 0.1, 1e-9, 12_345.678, 1e15, 1e17, -3.25]
        return int(below: 3) == 0
            ? awkward[int(below: awkward.count)]
            : (Double(next() % 1_000_000_000) - 5e8) / Double(1 + int(below: 10_000))
    }

    /// `value` or nil, even odds.
    mutating func maybe<T>(_ value: T) -> T? { int(below: 2) == 0 ? nil : value }
}
