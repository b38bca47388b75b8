import ArenaAdapters
import ArenaCore
import Crypto
import Foundation
import Logging
import Shared
import Synchronization

/// One trader's decision cycle (docs/ARCHITECTURE.md, "Data flow of one decision cycle"), fail-closed at every step:
/// if anything is missing, stale, malformed or over a limit, no new order is sent and the record says why.
package struct DecisionCycle: Sendable {
    /// The trader's templates, decision schema and intervals as its configuration declares them: the same pipeline
    /// `engine replay` and counterfactuals build (`TraderPipeline.make`).
    let pipeline: TraderPipeline
    let market: any MarketProvider
    let maxStaleness: Int64
    let exchange: any ExchangeProvider
    /// The trader's own model (the head of its chain).
    let model: LLMConfiguration.Model
    /// Router, budget, cache, retries and fallback in front of the model clients.
    let gateway: ModelGateway
    let decisionTimeout: Duration
    let assets: [String: AssetInfo]
    let logger: Logger
    /// The Sharpe ratio of the trader's equity history, computed again only when the history changed.
    let sharpeMemo = SharpeMemo()
    /// False for an in-process baseline model in a backtest that does not record prompts: the policy decides
    /// from the market and account alone, so no prompt is rendered (`CycleRecord.promptsSkipped`).
    let rendersPrompts: Bool
    /// The pipeline's trader and planning view, kept here: read through the pipeline's computed properties, every
    /// `trader.id` copied the whole configuration.
    let trader: TraderConfiguration
    let view: TraderConfigurationView

    package init(
        pipeline: TraderPipeline,
        market: any MarketProvider,
        maxStaleness: Int64,
        exchange: any ExchangeProvider,
        model: LLMConfiguration.Model,
        gateway: ModelGateway,
        decisionTimeout: Duration,
        assets: [String: AssetInfo],
        logger: Logger,
        rendersPrompts: Bool = true
    ) {
        self.rendersPrompts = rendersPrompts
        self.pipeline = pipeline
        self.trader = pipeline.trader
        self.view = pipeline.view
        self.market = market
        self.maxStaleness = maxStaleness
        self.exchange = exchange
        self.model = model
        self.gateway = gateway
        self.decisionTimeout = decisionTimeout
        self.assets = assets
        self.logger = logger
    }

    var symbols: [String] { trader.symbols.isEmpty ? market.symbols : trader.symbols }
    var renderer: PromptRenderer { pipeline.renderer }

    /// Makes the record as it stands, its `orders` the intents about to go out, durable before any is sent
    /// (`JournalWriter.writeIntent`): a crash while sending is then completed at restart (`CycleRecovery`).
    package typealias IntentLog = @Sendable (CycleRecord) async throws -> Void

    /// The trader's state as it is now (the manager's store): read again just before entries are sent, so a kill
    /// switch, daily-loss limit, pause or cooldown set while the model thought still binds.
    package typealias StateReader = @Sendable () async -> TraderState

    /// Why a cycle stopped before it was done: it failed closed with this reason (nothing new was sent).
    struct FailedClosed: Error {
        let reason: ReasonCode
        let message: String
        init(_ reason: ReasonCode, _ message: String) {
            self.reason = reason
            self.message = message
        }
    }

    /// What the cycle saw: the market, the account, and the trader's state as the prompts and risk use it.
    struct Observation {
        let snapshot: MarketSnapshot
        let account: TraderAccount
        let inputs: CycleInputs
        /// The mark of every observed symbol: the prices risk judges at.
        let prices: [String: Double]
    }

    /// What the cycle decided to do: the model's decisions, their risk verdicts, and the closes to send.
    struct Plan {
        let decisions: [Decision]
        var verdicts: [RiskVerdict]
        let closes: [OrderRequest]
    }

    /// Runs cycle number `cycle` at clock time `now` with the trader's current state, in four steps: observe,
    /// decide, plan, execute. With `intentLog`, nothing is sent until the intents are journaled; when they cannot
    /// be, nothing is sent (`JOURNAL_UNAVAILABLE`). `currentState` reads the trader's flags again before entries
    /// are sent (without it, the flags of `state` bind at that time).
    package func run(
        cycle: Int,
        now: Int64,
        state: TraderState,
        clock: any ArenaClock,
        intentLog: IntentLog? = nil,
        currentState: StateReader? = nil
    ) async -> CycleRecord {
        var record = CycleRecord(
            traderID: trader.id,
            cycle: cycle,
            cycleID: "\(trader.id)-\(cycle)",
            startedAt: now,
            endedAt: now,
            outcome: .failedClosed,
            modelAsked: model.alias
        )
        do throws(FailedClosed) {
            let observation = try await observe(now: now, state: state, into: &record)
            let decisions = try await decide(observation, now: now, into: &record)
            let plan = plan(decisions, observation, cycle: cycle, now: now, into: &record)
            try await execute(
                plan,
                observation,
                cycle: cycle,
                recheck: { await recheck(observation, state: await currentState?() ?? state, clock: clock) },
                intentLog: intentLog,
                into: &record
            )
        } catch {
            record.outcome = .failedClosed
            record.reason = error.reason
            record.error = error.message
            logger.debug(
                "cycle failed closed",
                metadata: ["trader": "\(trader.id)", "cycle": "\(cycle)", "reason": "\(error.reason.rawValue)"]
            )
        }
        record.endedAt = clock.now()
        return record
    }

    /// 1–2. Market data (every symbol present and fresh), the trader's account, and the venue's safety nets
    /// (dead-man's switch re-armed, every position's stop checked and re-placed if missing; a position left without
    /// one blocks entries); then the state the prompts and risk read, as recorded inputs.
    func observe(
        now: Int64,
        state: TraderState,
        into record: inout CycleRecord
    ) async throws(FailedClosed) -> Observation {
        let snapshot: MarketSnapshot
        do {
            snapshot = try await market.snapshot(symbols: symbols, now: now)
            record.market = snapshot
            try snapshot.validate(symbols: symbols, now: now, maxStaleness: maxStaleness)
        } catch {
            throw FailedClosed(.staleMarketData, "\(error)")
        }
        let account: TraderAccount
        do {
            account = try await exchange.account(trader: trader.id)
            record.account = account
        } catch {
            throw FailedClosed(.accountUnavailable, "\(error)")
        }
        var unprotected: [String] = []
        do {
            unprotected = try await exchange.maintain(trader: trader.id, account: account)
        } catch {
            unprotected = account.positions.keys.sorted()
            record.error = "maintenance: \(error)"
        }
        var inputs = Self.inputs(
            state: state,
            now: now,
            takerFeeRate: exchange.takerFeeRate,
            sharpe: sharpeMemo.sharpe(state.equityHistory)
        )
        if !unprotected.isEmpty { inputs.unprotectedSymbols = unprotected }
        if rendersPrompts, let depth = renderer.memoryDepth {
            inputs.memory = (state.memory ?? TraderMemory())
                .prompt(now: now, account: account, depth: depth, equityHistory: state.equityHistory)
        }
        record.inputs = inputs
        return Observation(
            snapshot: snapshot,
            account: account,
            inputs: inputs,
            prices: snapshot.symbols.mapValues(\.markPrice)
        )
    }

    /// 3–5. The prompts, rendered from recorded inputs only; the model, through the router, cache, budget and
    /// retries, inside the decision timeout; the answer parsed. An invalid answer is sent back once with the error;
    /// a second invalid answer holds everything. The first answer was paid for: it stays in the record
    /// (`rejected_answer`) whatever happens next.
    func decide(
        _ observation: Observation,
        now: Int64,
        into record: inout CycleRecord
    ) async throws(FailedClosed) -> [Decision] {
        var messages: [ChatMessage] = []
        if rendersPrompts {
            record.templates = [renderer.systemTemplate.stamp, renderer.userTemplate.stamp]
            do {
                messages = try render(
                    market: observation.snapshot,
                    account: observation.account,
                    inputs: observation.inputs,
                    now: now
                )
            } catch {
                throw FailedClosed(.promptInvalid, "\(error)")
            }
            record.systemPrompt = messages[0].content
            record.userPrompt = messages[1].content
            record.promptDigest = Self.digest(messages)
        } else {
            record.promptsSkipped = true
        }

        let request = LLMRequest(
            model: model,
            messages: messages,
            responseSchema: pipeline.decisionSchema,
            timeout: decisionTimeout,
            input: DecisionInput(
                traderID: trader.id,
                symbols: symbols,
                market: observation.snapshot,
                account: observation.account,
                limits: RiskLimitsSummary(trader.riskParams)
            )
        )
        let lane = ModelGateway.Lane(trader: trader.id, traderUSDLimit: trader.riskParams.dailyLLMUSDLimit)
        let deadline = gateway.timer.now() + decisionTimeout.milliseconds
        if let consensus = model.consensus {
            let decisions = try await consult(
                consensus,
                request: request,
                lane: lane,
                deadline: deadline,
                into: &record
            )
            record.decisions = decisions
            return decisions
        }
        let call = await gateway.call(lane, request: request, deadline: deadline)
        record.modelAsked = call.asked
        record.attempts = call.attempts
        guard let answer = call.answer else {
            let failure = call.failure ?? (.llmUnavailable, "no answer")
            throw FailedClosed(failure.reason, failure.message)
        }
        record.book(answer)

        var decisions: [Decision]
        do {
            if let given = answer.response.decisions, let checked = DecisionParser.reread(given) {
                decisions = checked
            } else {
                decisions = try DecisionParser.parse(answer.response.text)
            }
        } catch {
            let firstError = error.message
            record.rejectedAnswer = answer.response.text
            var correction = request
            correction.messages += [
                ChatMessage(role: "assistant", content: answer.response.text),
                ChatMessage(role: "user", content: Self.correctionPrompt(firstError)),
            ]
            let retry = await gateway.call(lane, request: correction, deadline: deadline, pinned: answer.alias)
            record.attempts += retry.attempts
            guard let second = retry.answer else {
                throw FailedClosed(
                    .llmOutputInvalid,
                    "\(firstError); the correction was not answered: \(retry.failure?.message ?? "")"
                )
            }
            record.book(second)
            do {
                decisions = try DecisionParser.parse(second.response.text)
            } catch {
                throw FailedClosed(.llmOutputInvalid, "\(firstError); after correction: \(error.message)")
            }
        }
        record.decisions = decisions
        return decisions
    }

    /// 4–5 for a consensus model: every member asked the same prompt at once (each through the gateway: budget,
    /// digest cache, retries; no correction round), each answer parsed, the valid ones combined per symbol by the
    /// rule. Fewer valid answers than `min_members` fail the cycle closed (`CONSENSUS_NO_QUORUM`), naming each
    /// member that failed. The combined decisions are written as the answer (`raw_answer`) and parsed like any
    /// other, so risk and replay treat them alike; the members' answers are journaled (`consensus`).
    func consult(
        _ consensus: LLMConfiguration.Consensus,
        request: LLMRequest,
        lane: ModelGateway.Lane,
        deadline: Int64,
        into record: inout CycleRecord
    ) async throws(FailedClosed) -> [Decision] {
        let gateway = gateway
        let calls = await withTaskGroup(of: (Int, ModelCall).self, returning: [ModelCall?].self) { group in
            for (index, member) in consensus.members.enumerated() {
                group.addTask {
                    let call = await gateway.call(
                        lane,
                        request: request,
                        deadline: deadline,
                        pinned: member,
                        pinnedReason: .consensus
                    )
                    return (index, call)
                }
            }
            var calls = [ModelCall?](repeating: nil, count: consensus.members.count)
            for await (index, call) in group { calls[index] = call }
            return calls
        }
        var members: [ConsensusRecord.Member] = []
        var latency: Int64 = 0
        var allCached = true
        for (index, alias) in consensus.members.enumerated() {
            guard let call = calls[index] else { continue }
            record.attempts += call.attempts
            if let answer = call.answer {
                record.book(answer)
                latency = max(latency, answer.response.latencyMilliseconds)
                allCached = allCached && answer.isCacheHit
                members.append(.init(model: alias, answer: answer.response.text, error: nil))
            } else {
                allCached = false
                let failure = call.failure.map { "\($0.reason.rawValue): \($0.message)" } ?? "no answer"
                members.append(.init(model: alias, answer: nil, error: failure))
            }
        }
        // The members ran side by side: the cycle waited for the slowest, not for their sum.
        record.latencyMilliseconds = latency
        record.isCacheHit = allCached
        record.modelAnswered = nil
        record.providerModel = nil
        record.rawAnswer = nil
        record.consensus = ConsensusRecord(model: model.alias, rule: consensus.rule.rawValue, members: members)
        let outcome = ConsensusCombiner.combine(members, consensus: consensus, symbols: symbols)
        for failure in outcome.failed {
            logger.warning(
                "consensus member without a valid answer",
                metadata: ["trader": "\(trader.id)", "member": "\(failure.model)", "error": "\(failure.error)"]
            )
        }
        guard outcome.hasQuorum(consensus) else {
            throw FailedClosed(
                .consensusNoQuorum,
                "\(outcome.valid.count) of \(consensus.members.count) members of '\(model.alias)' answered validly, "
                    + "\(consensus.minMembers) needed: "
                    + outcome.failed.map { "\($0.model): \($0.error)" }.joined(separator: "; ")
            )
        }
        record.modelAnswered = model.alias
        record.route = .primary
        do {
            let text = try ConsensusCombiner.answerText(outcome.decisions)
            record.rawAnswer = .text(text)
            return try DecisionParser.parse(text)
        } catch {
            throw FailedClosed(.llmOutputInvalid, "the combined answer: \(error)")
        }
    }

    /// 6–7. Risk: a verdict per decision at the observed prices; then the closes of the accepted exits (entries are
    /// planned in `execute`, against the account as it is just before they are sent).
    func plan(
        _ decisions: [Decision],
        _ observation: Observation,
        cycle: Int,
        now: Int64,
        into record: inout CycleRecord
    ) -> Plan {
        let verdicts = RiskPolicy.evaluate(
            decisions,
            context: riskContext(
                account: observation.account,
                prices: observation.prices,
                inputs: observation.inputs,
                now: now
            )
        )
        record.verdicts = verdicts
        record.outcome = .completed
        let closes = CyclePlanner.closeOrders(
            decisions: decisions,
            verdicts: verdicts,
            account: observation.account,
            view: view,
            cycle: cycle
        )
        return Plan(decisions: decisions, verdicts: verdicts, closes: closes)
    }

    /// The second look before entries go out: the time, the venue's marks of the observed symbols (a symbol whose
    /// mark cannot be read is absent, which refuses its entry) and the trader's flags as they are now.
    func recheck(_ observation: Observation, state: TraderState, clock: any ArenaClock) async -> EntryRecheck {
        let at = clock.now()
        var inputs = Self.inputs(
            state: state,
            now: at,
            takerFeeRate: exchange.takerFeeRate,
            sharpe: sharpeMemo.sharpe(state.equityHistory)
        )
        inputs.unprotectedSymbols = observation.inputs.unprotectedSymbols
        var prices: [String: Double] = [:]
        do {
            prices = try await exchange.currentMarks(symbols: observation.prices.keys.sorted())
        } catch {
            logger.warning(
                "pre-submit marks unavailable: entries refused",
                metadata: ["trader": "\(trader.id)", "error": "\(error)"]
            )
        }
        return EntryRecheck(at: at, prices: prices, inputs: inputs)
    }

    /// 8–9. Closes first (they reduce risk); then entries re-checked against a fresh account, the venue's marks and
    /// the trader's flags as they are just before sending (the second line of defence: an entry that no longer
    /// passes at the fresh mark is refused with `PRICE_MOVED`), each entry's protection sent once it filled.
    /// Every batch of orders is journaled as intents before it is sent.
    func execute(
        _ plan: Plan,
        _ observation: Observation,
        cycle: Int,
        recheck: () async -> EntryRecheck,
        intentLog: IntentLog?,
        into record: inout CycleRecord
    ) async throws(FailedClosed) {
        var verdicts = plan.verdicts
        if let failure = await Self.journalIntents(record, adding: plan.closes, to: intentLog, logger: logger) {
            throw FailedClosed(.journalUnavailable, failure)
        }
        await Self.sendCloses(plan.closes, recordingIn: &record, exchange: exchange)
        let decisions = plan.decisions
        guard decisions.indices.contains(where: { verdicts[$0].isAccepted && decisions[$0].signal.isEntry }) else {
            return
        }
        let fresh: TraderAccount
        do {
            fresh = try await exchange.account(trader: trader.id)
        } catch {
            record.error = "pre-submit account: \(error)"
            return
        }
        record.recheckAccount = fresh
        let second = await recheck()
        record.entryRecheck = second
        let entryLegs = CyclePlanner.entryOrders(
            decisions: decisions,
            verdicts: &verdicts,
            recheck: riskContext(account: fresh, prices: second.prices, inputs: second.inputs, now: second.at),
            approvedPrices: observation.prices,
            view: view,
            cycle: cycle
        )
        record.verdicts = verdicts
        for verdict in verdicts where verdict.reasons.contains(.priceMoved) {
            logger.notice(
                "entry refused: the price moved",
                metadata: [
                    "trader": "\(trader.id)", "symbol": "\(verdict.symbol)",
                    "approved": "\(observation.prices[verdict.symbol] ?? 0)",
                    "now": "\(second.prices[verdict.symbol] ?? 0)",
                    "reasons": "\(verdict.reasons.map(\.rawValue))",
                ]
            )
        }
        if let failure = await Self.journalIntents(
            record,
            adding: entryLegs.flatMap { $0 },
            to: intentLog,
            logger: logger
        ) {
            throw FailedClosed(.journalUnavailable, failure)
        }
        for legs in entryLegs {
            guard let entryLeg = legs.first else { continue }
            record.orders += legs
            do {
                let entryResult = try await exchange.submit([entryLeg])
                record.results += entryResult
                // Protection goes on only once the entry filled.
                if entryResult.first?.status == .filled {
                    record.results += try await exchange.submit(Array(legs.dropFirst()))
                }
            } catch {
                record.error = "entry \(entryLeg.symbol): \(error)"
            }
        }
    }

    /// Journals `record` with `orders` added as its intents; nil once they are durable (or nothing asks for it),
    /// otherwise why they are not, in which case none of them may be sent. Model cycles and the drawdown
    /// close-out both go through here.
    static func journalIntents(
        _ record: CycleRecord,
        adding orders: [OrderRequest],
        to intentLog: IntentLog?,
        logger: Logger
    ) async -> String? {
        guard let intentLog, !orders.isEmpty else { return nil }
        var intent = record
        intent.orders += orders
        do {
            try await intentLog(intent)
            return nil
        } catch {
            logger.error(
                "order intents not journaled: nothing sent",
                metadata: ["trader": "\(record.traderID)", "cycle": "\(record.cycle)", "error": "\(error)"]
            )
            return "orders not sent: their intents could not be journaled: \(error)"
        }
    }

    /// Sends reduce-only closes one at a time, each after cancelling its position's protection, and records each
    /// order and answer in `record`; a failed close is noted there and the next one still goes. Returns the
    /// failures. Model cycles and the drawdown close-out both go through here.
    @discardableResult
    static func sendCloses(
        _ closes: [OrderRequest],
        recordingIn record: inout CycleRecord,
        exchange: any ExchangeProvider
    ) async -> [String] {
        var failures: [String] = []
        for order in closes {
            record.orders.append(order)
            do {
                try await exchange.cancel(trader: order.trader, symbol: order.symbol)
                let results = try await exchange.submit([order])
                record.results += results
                if results.first?.status == .filled { continue }
            } catch {
                record.error = "close \(order.symbol): \(error)"
                failures.append(record.error ?? "")
            }
            // The close did not happen, and the position's protection was cancelled for it: put it back.
            do {
                let account = try await exchange.account(trader: order.trader)
                if try await exchange.maintain(trader: order.trader, account: account).contains(order.symbol) {
                    failures.append("close \(order.symbol) failed and the position is left without a stop")
                }
            } catch {
                failures.append("close \(order.symbol) failed and its protection was not put back: \(error)")
            }
        }
        return failures
    }

    /// What the model is told when its answer was rejected.
    static func correctionPrompt(_ error: String) -> String {
        "Your previous answer was rejected: \(error). Answer again with only the JSON object that follows the schema."
    }

    static func inputs(state: TraderState, now: Int64, takerFeeRate: Double, sharpe: Double) -> CycleInputs {
        CycleInputs(
            startedAt: state.startedAt,
            inceptionCapital: state.inceptionCapital,
            invocationCount: state.invocationCount + 1,
            sharpe: sharpe,
            cooldownUntil: state.cooldownUntil,
            isPaused: state.isPaused(at: now),
            isDailyLossLimitHit: state.isDailyLossLimitHit,
            isDrawdownLimitHit: state.isDrawdownLimitHit,
            takerFeeRate: takerFeeRate
        )
    }

    func riskContext(account: TraderAccount, prices: [String: Double], inputs: CycleInputs, now: Int64) -> RiskContext {
        CyclePlanner.riskContext(
            limits: trader.riskParams,
            symbols: symbols,
            assets: assets,
            account: account,
            prices: prices,
            now: now,
            inputs: inputs
        )
    }

    /// The system and user messages for recorded values.
    func render(
        market: MarketSnapshot,
        account: TraderAccount,
        inputs: CycleInputs,
        now: Int64
    ) throws(PromptTemplate.Failure)
        -> [ChatMessage]
    {
        try renderer.render(market: market, account: account, inputs: inputs, now: now)
    }

    /// sha256 of the rendered messages, hex.
    static func digest(_ messages: [ChatMessage]) -> String {
        var hasher = SHA256()
        // Each text's own bytes, not a copy of them in a `Data` (a prompt is many kilobytes, hashed every cycle).
        func update(_ text: String) {
            var text = text
            text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        }
        for message in messages {
            update(message.role)
            update(message.content)
        }
        return Hex.encode(hasher.finalize())
    }
}

/// The Sharpe ratio of an equity history, remembered while the history is unchanged: it grows by one point an
/// hour, and is read every cycle (a backtest's thousands of times an hour). The history only gains points at its
/// end and loses them at its start, so its length, ends and last point identify it.
final class SharpeMemo: Sendable {
    private struct Key: Equatable, Sendable {
        var count: Int
        var firstTime: Int64
        var lastTime: Int64
        var lastEquity: Double
        var lastFlow: Double?
    }

    private let memo = Mutex<(key: Key, value: Double)?>(nil)

    func sharpe(_ history: [TraderState.EquityPoint]) -> Double {
        guard let first = history.first, let last = history.last else { return Performance.sharpe(history) }
        let key = Key(
            count: history.count,
            firstTime: first.time,
            lastTime: last.time,
            lastEquity: last.equity,
            lastFlow: last.flow
        )
        if let hit = memo.withLock({ $0 }), hit.key == key { return hit.value }
        let value = Performance.sharpe(history)
        memo.withLock { $0 = (key, value) }
        return value
    }
}
