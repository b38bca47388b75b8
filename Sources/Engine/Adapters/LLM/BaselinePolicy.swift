import ArenaCore
import Foundation
import Shared

/// The leaderboard's yardsticks: deterministic policies that answer through the same contract as a model
/// (JSON text in the decision format), so their decisions go through parsing and risk like any other.
package struct BaselinePolicy: LLMClient {
    package enum Kind: String, CaseIterable {
        /// Enter long every symbol once and keep it until its stop or target closes it.
        case buyAndHold = "buy_and_hold"
        /// Follow the 4-hour EMA 20/50 trend: long above, short below; close when it flips.
        case emaCross = "ema_cross"
    }

    package let kind: Kind

    package init?(modelName: String) {
        guard let kind = Kind(rawValue: modelName) else { return nil }
        self.kind = kind
    }

    package func complete(_ request: LLMRequest) async throws(LLMError) -> LLMResponse {
        let decisions = decide(request.input)
        // The text is written from the decisions when it is read (in a backtest, by the journal's encoding
        // threads), not here: checked writable now, as writing it here did.
        guard let answer = AnswerText.answering(decisions) else {
            throw .malformedResponse("cannot encode baseline decisions")
        }
        return LLMResponse(
            answer: answer,
            modelName: kind.rawValue,
            promptTokens: 0,
            completionTokens: 0,
            latencyMilliseconds: 0,
            decisions: decisions
        )
    }

    package func decide(_ input: DecisionInput) -> [Decision] {
        var decisions: [Decision] = []
        let limits = input.limits
        let equity = input.account.equity
        let perSymbol = equity * min(limits.maxMarginUsagePct, 90) / 100 / Double(max(input.symbols.count, 1)) * 0.9
        for symbol in input.symbols.sorted() {
            guard let market = input.market.symbols[symbol] else { continue }
            let position = input.account.positions[symbol]
            let trend: Double
            switch kind {
            case .buyAndHold:
                trend = 1
            case .emaCross:
                trend = market.context.ema20 >= market.context.ema50 ? 1 : -1
            }
            if let position {
                if position.direction != trend {
                    decisions.append(
                        Decision(symbol: symbol, signal: .closePosition, confidence: 0.8, reasoning: "trend flipped")
                    )
                }
                continue
            }
            guard input.account.positions.count + decisions.filter(\.signal.isEntry).count < limits.maxPositions else {
                continue
            }
            let leverage = kind == .buyAndHold ? 1 : min(2, Int(min(limits.majorCoinLeverage, limits.altcoinLeverage)))
            let size = (min(limits.maxPositionSizeUSD, perSymbol * Double(leverage)) * 100).rounded(.down) / 100
            guard size >= 10 else { continue }
            // Stop distance: a multiple of the 4-hour ATR (2 for buy-and-hold, 1 for the trend follower), at most
            // what the per-trade risk limit allows (with a margin).
            let allowed = limits.maxRiskPerTradePct / 100 * equity * 0.8 / size - 0.002
            let atrMultiple = kind == .buyAndHold ? 2.0 : 1.0
            let distance = min(max(atrMultiple * market.context.atr14 / market.price, 0.005), 0.08, max(allowed, 0.001))
            let reward = distance * max(2, limits.minRiskRewardRatio * 1.25)
            decisions.append(
                Decision(
                    symbol: symbol,
                    signal: trend > 0 ? .buyToEnter : .sellToEnter,
                    leverage: leverage,
                    positionSizeUSD: size,
                    stopLoss: Self.round(market.price * (1 - trend * distance)),
                    takeProfit: Self.round(market.price * (1 + trend * reward)),
                    confidence: min(1, max(0.6, limits.minConfidence / 100 + 0.05)),
                    riskUSD: Self.round(size * distance),
                    invalidationCondition: kind == .buyAndHold
                        ? "none: held until stop or target" : "4h EMA20/EMA50 cross",
                    reasoning: kind.rawValue
                )
            )
        }
        return decisions
    }

    /// Five significant figures, as venues accept.
    package static func round(_ value: Double) -> Double {
        guard value > 0 else { return value }
        let magnitude = pow(10, 4 - floor(log10(value)))
        return (value * magnitude).rounded() / magnitude
    }
}
