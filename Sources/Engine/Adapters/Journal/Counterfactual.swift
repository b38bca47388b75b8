import ArenaCore
import Foundation
import Shared

/// `engine replay --model ALIAS`: sends the prompts of recorded cycles (as recorded, or re-rendered with other
/// templates) to another model through the gateway (digest cache, budget, retries), plans its decisions against
/// the recorded market and account with the live cycle's risk and order functions, and reports where they differ
/// from what was done. With a persisted cache a second run costs nothing.
package struct Counterfactual {
    package struct CycleResult: Sendable {
        package var cycleID: String
        /// Decisions or intents differ from the recorded ones.
        package var differs: Bool
        /// The model gave no usable answer (budget, transport, schema).
        package var failure: String?
        package var recorded: String
        package var alternative: String
        package var isCacheHit: Bool
    }

    package struct Summary: Sendable {
        package var trader: String
        package var model: String
        package var cycles: [CycleResult] = []
        package var skipped = 0
        package var promptTokens = 0
        package var completionTokens = 0
        package var costUSD: Double = 0

        package var differing: Int { cycles.filter(\.differs).count }
        package var failed: Int { cycles.filter { $0.failure != nil }.count }
        package var cacheHits: Int { cycles.filter(\.isCacheHit).count }
    }

    package let configuration: ArenaConfiguration
    package let gateway: ModelGateway
    package let replay: JournalReplay
    package let alias: String
    package let schema: String
    /// Re-render prompts with the replay's templates instead of sending the recorded ones.
    package let rerender: Bool

    package func run(trader id: String, records: [CycleRecord]) async throws -> Summary {
        guard let trader = configuration.traders.first(where: { $0.id == id }) else {
            throw JournalReplay.Failure.unknownTrader(id)
        }
        guard let model = gateway.models[alias] else {
            throw JournalReplay.Failure.template("unknown model '\(alias)'")
        }
        guard model.consensus == nil else {
            throw JournalReplay.Failure.template("'\(alias)' is a consensus: ask one of its members (--model MEMBER)")
        }
        let pipelineRenderer = try replay.pipeline(for: trader).renderer
        let renderer = rerender ? pipelineRenderer : nil
        let symbols = replay.symbols(of: trader)
        let view = TraderConfigurationView(trader)
        // Counterfactual spending counts against the global budget, not the live trader's own limit.
        let lane = ModelGateway.Lane(trader: "replay:\(id)", traderUSDLimit: nil)
        var summary = Summary(trader: id, model: alias)
        for record in records {
            guard let market = record.market, let account = record.account, let inputs = record.inputs,
                record.systemPrompt != nil || record.promptsSkipped == true
            else {
                summary.skipped += 1
                continue
            }
            var messages: [ChatMessage]
            if let system = record.systemPrompt, let user = record.userPrompt, renderer == nil {
                messages = [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: user)]
            } else {
                // A baseline's backtest cycle rendered no prompt: the current templates render it from the
                // recorded market, account and inputs, as the live cycle would have.
                messages = try (renderer ?? pipelineRenderer).render(
                    market: market,
                    account: account,
                    inputs: inputs,
                    now: record.startedAt
                )
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
    package static func intentKey(_ decisions: [Decision]) -> [String] {
        decisions.filter { $0.signal != .hold }.map { "\($0.symbol):\($0.signal.rawValue)" }.sorted()
    }

    package static func orderKey(_ orders: [OrderRequest]) -> [String] {
        orders.map { "\($0.symbol):\($0.isBuy ? "buy" : "sell"):\($0.kind):\($0.isReduceOnly)" }.sorted()
    }

    package static func describe(_ decisions: [Decision], _ orders: [OrderRequest]) -> String {
        let moves = decisions.filter { $0.signal != .hold }.map { decision -> String in
            var text = "\(decision.symbol) \(decision.signal.rawValue)"
            if let leverage = decision.leverage { text += " \(leverage)x" }
            if let size = decision.positionSizeUSD { text += " $\(Int(size.rounded()))" }
            return text
        }
        let intents = orders.count == 1 ? "1 order" : "\(orders.count) orders"
        return (moves.isEmpty ? "hold" : moves.joined(separator: ", ")) + " → \(intents)"
    }

    package init(
        configuration: ArenaConfiguration,
        gateway: ModelGateway,
        replay: JournalReplay,
        alias: String,
        schema: String,
        rerender: Bool
    ) {
        self.configuration = configuration
        self.gateway = gateway
        self.replay = replay
        self.alias = alias
        self.schema = schema
        self.rerender = rerender
    }
}
