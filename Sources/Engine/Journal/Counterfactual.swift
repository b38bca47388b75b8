import Foundation
import Shared

/// `engine replay --model ALIAS`: sends the prompts of recorded cycles (as recorded, or re-rendered with other
/// templates) to another model through the gateway (digest cache, budget, retries), plans its decisions against
/// the recorded market and account with the live cycle's risk and order functions, and reports where they differ
/// from what was done. With a persisted cache a second run costs nothing.
struct Counterfactual {
    struct CycleResult: Sendable {
        var cycleID: String
        /// Decisions or intents differ from the recorded ones.
        var differs: Bool
        /// The model gave no usable answer (budget, transport, schema).
        var failure: String?
        var recorded: String
        var alternative: String
        var isCacheHit: Bool
    }

    struct Summary: Sendable {
        var trader: String
        var model: String
        var cycles: [CycleResult] = []
        var skipped = 0
        var promptTokens = 0
        var completionTokens = 0
        var costUSD: Double = 0

        var differing: Int { cycles.filter(\.differs).count }
        var failed: Int { cycles.filter { $0.failure != nil }.count }
        var cacheHits: Int { cycles.filter(\.isCacheHit).count }
    }

    let configuration: ArenaConfiguration
    let gateway: ModelGateway
    let replay: JournalReplay
    let alias: String
    let schema: String
    /// Re-render prompts with the replay's templates instead of sending the recorded ones.
    let rerender: Bool

    func run(trader id: String, records: [CycleRecord]) async throws -> Summary {
        guard let trader = configuration.traders.first(where: { $0.id == id }) else {
            throw JournalReplay.Failure.unknownTrader(id)
        }
        guard let model = gateway.models[alias] else {
            throw JournalReplay.Failure.template("unknown model '\(alias)'")
        }
        let renderer = rerender ? try replay.renderer(for: trader) : nil
        let symbols = replay.symbols(of: trader)
        let view = JournalReplay.view(of: trader)
        // Counterfactual spending counts against the global budget, not the live trader's own limit.
        let lane = ModelGateway.Lane(trader: "replay:\(id)", traderUSDLimit: nil)
        var summary = Summary(trader: id, model: alias)
        for record in records {
            guard let market = record.market, let account = record.account, let inputs = record.inputs,
                let system = record.systemPrompt, let user = record.userPrompt
            else {
                summary.skipped += 1
                continue
            }
            var messages = [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: user)]
            if let renderer {
                messages = try renderer.render(market: market, account: account, inputs: inputs, now: record.startedAt)
            }
            let request = LLMRequest(
                model: model,
                messages: messages,
                responseSchema: schema,
                timeout: configuration.executor.decisionTimeout,
                input: DecisionInput(
                    traderID: id,
                    symbols: symbols,
                    market: market,
                    account: account,
                    limits: RiskLimitsSummary(trader.riskParams)
                )
            )
            let call = await gateway.call(
                lane,
                request: request,
                deadline: gateway.timer.now() + configuration.executor.decisionTimeout.milliseconds,
                pinned: alias,
                pinnedReason: .primary
            )
            let recordedText = Self.describe(record.decisions, record.orders)
            guard let answer = call.answer else {
                summary.cycles.append(
                    .init(
                        cycleID: record.cycleID,
                        differs: false,
                        failure: call.failure?.message ?? "no answer",
                        recorded: recordedText,
                        alternative: "",
                        isCacheHit: false
                    )
                )
                continue
            }
            summary.promptTokens += answer.response.promptTokens
            summary.completionTokens += answer.response.completionTokens
            summary.costUSD += answer.costUSD
            let decisions: [Decision]
            do {
                decisions = try DecisionParser.parse(answer.response.text)
            } catch {
                summary.cycles.append(
                    .init(
                        cycleID: record.cycleID,
                        differs: true,
                        failure: "invalid answer: \(error.message)",
                        recorded: recordedText,
                        alternative: "hold everything (LLM_OUTPUT_INVALID)",
                        isCacheHit: answer.isCacheHit
                    )
                )
                continue
            }
            // An entry the recorded cycle never sent has no pre-submit account: the cycle's account stands in.
            let (_, orders) = JournalReplay.plan(
                decisions,
                record: record,
                trader: trader,
                symbols: symbols,
                view: view,
                recheck: record.recheckAccount ?? account
            )
            let differs =
                Self.intentKey(decisions) != Self.intentKey(record.decisions)
                || Self.orderKey(orders) != Self.orderKey(record.orders)
            summary.cycles.append(
                .init(
                    cycleID: record.cycleID,
                    differs: differs,
                    failure: nil,
                    recorded: recordedText,
                    alternative: Self.describe(decisions, orders),
                    isCacheHit: answer.isCacheHit
                )
            )
        }
        return summary
    }

    /// What a decision set means for trading: symbol and signal (a hold and an absent symbol are the same).
    static func intentKey(_ decisions: [Decision]) -> [String] {
        decisions.filter { $0.signal != .hold }.map { "\($0.symbol):\($0.signal.rawValue)" }.sorted()
    }

    static func orderKey(_ orders: [OrderRequest]) -> [String] {
        orders.map { "\($0.symbol):\($0.isBuy ? "buy" : "sell"):\($0.kind):\($0.isReduceOnly)" }.sorted()
    }

    static func describe(_ decisions: [Decision], _ orders: [OrderRequest]) -> String {
        let moves = decisions.filter { $0.signal != .hold }.map { decision -> String in
            var text = "\(decision.symbol) \(decision.signal.rawValue)"
            if let leverage = decision.leverage { text += " \(leverage)x" }
            if let size = decision.positionSizeUSD { text += " $\(Int(size.rounded()))" }
            return text
        }
        let intents = orders.count == 1 ? "1 order" : "\(orders.count) orders"
        return (moves.isEmpty ? "hold" : moves.joined(separator: ", ")) + " → \(intents)"
    }
}
