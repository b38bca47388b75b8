import Crypto
import Foundation
import Logging
import Shared

/// One trader's decision cycle (DESIGN.md, "Data flow of one decision cycle"), fail-closed at every step:
/// if anything is missing, stale, malformed or over a limit, no new order is sent and the record says why.
struct DecisionCycle: Sendable {
    let trader: TraderConfiguration
    let market: any MarketProvider
    let maxStaleness: Int64
    let exchange: any ExchangeProvider
    let model: LLMConfiguration.Model
    let client: any LLMClient
    let systemTemplate: PromptTemplate
    let userTemplate: PromptTemplate
    let decisionSchema: String
    let decisionTimeout: Duration
    let intradayInterval: String
    let contextInterval: String
    let assets: [String: AssetInfo]
    let logger: Logger

    var symbols: [String] { trader.symbols.isEmpty ? market.symbols : trader.symbols }
    var view: TraderConfigurationView {
        TraderConfigurationView(
            id: trader.id,
            slippageBps: trader.marketIOCSlippageBps,
            usesLimitIOC: trader.orderStyle == .limitIOC
        )
    }

    /// Runs cycle number `cycle` at clock time `now` with the trader's current state.
    func run(cycle: Int, now: Int64, state: TraderState, clock: any ArenaClock) async -> CycleRecord {
        var record = CycleRecord(
            traderID: trader.id,
            cycle: cycle,
            cycleID: "\(trader.id)-\(cycle)",
            startedAt: now,
            endedAt: now,
            outcome: .failedClosed,
            modelAsked: model.alias
        )
        func fail(_ reason: ReasonCode, _ message: String) -> CycleRecord {
            record.reason = reason
            record.error = message
            record.endedAt = clock.now()
            logger.debug(
                "cycle failed closed",
                metadata: ["trader": "\(trader.id)", "cycle": "\(cycle)", "reason": "\(reason.rawValue)"]
            )
            return record
        }

        // 1. Market data: every symbol present and fresh.
        let snapshot: MarketSnapshot
        do {
            snapshot = try await market.snapshot(symbols: symbols, now: now)
            record.market = snapshot
            try snapshot.validate(symbols: symbols, now: now, maxStaleness: maxStaleness)
        } catch {
            return fail(.staleMarketData, "\(error)")
        }

        // 2. The trader's account.
        let account: TraderAccount
        do {
            account = try await exchange.account(trader: trader.id)
            record.account = account
        } catch {
            return fail(.accountUnavailable, "\(error)")
        }

        // 3. Prompts.
        let inputs = PromptContext.Inputs(
            trader: trader,
            venue: exchange.id,
            capital: state.inceptionCapital,
            market: snapshot,
            account: account,
            now: now,
            startedAt: state.startedAt,
            invocationCount: state.invocationTimes.count + 1,
            sharpe: Performance.sharpe(state.equityHistory),
            intradayInterval: intradayInterval,
            contextInterval: contextInterval,
            decisionSchema: decisionSchema
        )
        let messages: [ChatMessage]
        do {
            messages = [
                ChatMessage(role: "system", content: try systemTemplate.render(PromptContext.system(inputs))),
                ChatMessage(role: "user", content: try userTemplate.render(PromptContext.user(inputs))),
            ]
        } catch {
            return fail(.promptInvalid, "\(error)")
        }
        record.systemPrompt = messages[0].content
        record.userPrompt = messages[1].content
        record.promptDigest = Self.digest(messages)

        // 4. The model.
        let request = LLMRequest(
            model: model,
            messages: messages,
            responseSchema: decisionSchema,
            timeout: decisionTimeout,
            input: DecisionInput(
                traderID: trader.id,
                symbols: symbols,
                market: snapshot,
                account: account,
                limits: RiskLimitsSummary(trader.riskParams)
            )
        )
        let response: LLMResponse
        do {
            response = try await client.complete(request)
        } catch {
            return fail(.llmUnavailable, error.description)
        }
        record.modelAnswered = response.modelName
        record.rawAnswer = response.text
        record.promptTokens = response.promptTokens
        record.completionTokens = response.completionTokens
        record.latencyMilliseconds = response.latencyMilliseconds

        // 5. Parse: an invalid answer holds everything.
        let decisions: [Decision]
        do {
            decisions = try DecisionParser.parse(response.text)
        } catch {
            return fail(.llmOutputInvalid, error.message)
        }
        record.decisions = decisions

        // 6. Risk.
        let prices = snapshot.symbols.mapValues(\.markPrice)
        let context = riskContext(account: account, prices: prices, state: state, now: now)
        let verdicts = RiskPolicy.evaluate(decisions, context: context)
        record.verdicts = verdicts
        record.outcome = .completed

        // 7–9. Closes first (they reduce risk), then entries re-checked against a fresh account.
        for (decision, verdict) in zip(decisions, verdicts)
        where verdict.isAccepted && decision.signal == .closePosition {
            guard let position = account.positions[decision.symbol] else { continue }
            let order = OrderPlanner.close(position, trader: view, cycle: cycle)
            record.orders.append(order)
            do {
                try await exchange.cancel(trader: trader.id, symbol: decision.symbol)
                record.results += try await exchange.submit([order])
            } catch {
                record.error = "close \(decision.symbol): \(error)"
            }
        }
        let entries = zip(decisions, verdicts).filter { $0.1.isAccepted && $0.0.signal.isEntry }.map(\.0)
        guard !entries.isEmpty else {
            record.endedAt = clock.now()
            return record
        }
        // 8. Second line of defence: size and margin against the account as it is now.
        let fresh: TraderAccount
        do {
            fresh = try await exchange.account(trader: trader.id)
        } catch {
            record.error = "pre-submit account: \(error)"
            record.endedAt = clock.now()
            return record
        }
        let recheck = RiskPolicy.evaluate(
            entries,
            context: riskContext(account: fresh, prices: prices, state: state, now: now)
        )
        for (decision, verdict) in zip(entries, recheck) {
            guard verdict.isAccepted, let price = prices[decision.symbol], let asset = assets[decision.symbol] else {
                if let index = record.verdicts.firstIndex(where: { $0.symbol == decision.symbol }) {
                    record.verdicts[index] = verdict
                }
                continue
            }
            let legs = OrderPlanner.entry(decision, trader: view, cycle: cycle, price: price, asset: asset)
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
                record.error = "entry \(decision.symbol): \(error)"
            }
        }
        record.endedAt = clock.now()
        return record
    }

    func riskContext(account: TraderAccount, prices: [String: Double], state: TraderState, now: Int64) -> RiskContext {
        RiskContext(
            limits: trader.riskParams,
            symbols: Set(symbols),
            prices: prices,
            assets: assets,
            account: account,
            now: now,
            cooldownUntil: state.cooldownUntil,
            isPaused: (state.pausedUntil ?? 0) > now,
            isDailyLossLimitHit: state.isDailyLossLimitHit,
            isDrawdownLimitHit: state.isDrawdownLimitHit,
            takerFeeRate: exchange.takerFeeRate
        )
    }

    /// sha256 of the rendered messages, hex.
    static func digest(_ messages: [ChatMessage]) -> String {
        var hasher = SHA256()
        for message in messages {
            hasher.update(data: Data(message.role.utf8))
            hasher.update(data: Data([0]))
            hasher.update(data: Data(message.content.utf8))
            hasher.update(data: Data([0]))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
