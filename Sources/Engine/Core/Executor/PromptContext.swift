import Foundation
import Shared

/// Builds the variables the prompt templates read, from recorded values only, so that the same inputs always
/// render the same prompt. Numbers are formatted here, once, for a stable digest.
package enum PromptContext {
    package struct Inputs: Sendable {
        package var trader: TraderConfiguration
        package var venue: String
        package var capital: Double
        package var market: MarketSnapshot
        package var account: TraderAccount
        package var now: Int64
        package var startedAt: Int64
        package var invocationCount: Int
        package var sharpe: Double
        package var intradayInterval: String
        package var contextInterval: String
        package var decisionSchema: String

        package init(
            trader: TraderConfiguration,
            venue: String,
            capital: Double,
            market: MarketSnapshot,
            account: TraderAccount,
            now: Int64,
            startedAt: Int64,
            invocationCount: Int,
            sharpe: Double,
            intradayInterval: String,
            contextInterval: String,
            decisionSchema: String
        ) {
            self.trader = trader
            self.venue = venue
            self.capital = capital
            self.market = market
            self.account = account
            self.now = now
            self.startedAt = startedAt
            self.invocationCount = invocationCount
            self.sharpe = sharpe
            self.intradayInterval = intradayInterval
            self.contextInterval = contextInterval
            self.decisionSchema = decisionSchema
        }
    }

    package static func system(_ inputs: Inputs) -> PromptScope {
        let limits = inputs.trader.riskParams
        return [
            "trader_name": .text(inputs.trader.name),
            "trader_id": .text(inputs.trader.id),
            "venue": .text(inputs.venue),
            "capital_usd": .text(number(inputs.capital)),
            "symbols": .text(symbols(inputs).joined(separator: ", ")),
            "major_coin_leverage": .text(number(limits.majorCoinLeverage)),
            "altcoin_leverage": .text(number(limits.altcoinLeverage)),
            "max_positions": .text(String(limits.maxPositions)),
            "max_position_size_usd": .text(number(limits.maxPositionSizeUSD)),
            "max_risk_per_trade_pct": .text(number(limits.maxRiskPerTradePct)),
            "min_risk_reward_ratio": .text(number(limits.minRiskRewardRatio)),
            "min_confidence": .text(number(limits.minConfidence / 100)),
            "decision_schema": .text(inputs.decisionSchema),
        ]
    }

    package static func user(_ inputs: Inputs) -> PromptScope {
        let account = inputs.account
        let equity = account.equity
        let markets: [PromptScope] = symbols(inputs).compactMap { symbol in
            guard let s = inputs.market.symbols[symbol] else { return nil }
            return [
                "symbol": .text(symbol),
                "price": .text(number(s.price)),
                "ema20": .text(number(s.ema20)),
                "macd": .text(number(s.macd)),
                "rsi7": .text(number(s.rsi7)),
                "open_interest": .text(s.openInterest.map(number) ?? "n/a"),
                "funding_rate": .text(s.fundingRate.map { String(format: "%.8g", $0) } ?? "n/a"),
                "intraday_prices": .text(list(s.intraday.prices)),
                "intraday_ema20": .text(list(s.intraday.ema20)),
                "intraday_macd": .text(list(s.intraday.macd)),
                "intraday_rsi7": .text(list(s.intraday.rsi7)),
                "intraday_rsi14": .text(list(s.intraday.rsi14)),
                "context_ema20": .text(number(s.context.ema20)),
                "context_ema50": .text(number(s.context.ema50)),
                "context_atr3": .text(number(s.context.atr3)),
                "context_atr14": .text(number(s.context.atr14)),
                "context_volume": .text(number(s.context.volume)),
                "context_volume_avg": .text(number(s.context.averageVolume)),
                "context_macd": .text(list(s.context.macd)),
                "context_rsi14": .text(list(s.context.rsi14)),
            ]
        }
        let positions: [PromptScope] = account.positions.keys.sorted().compactMap { symbol in
            guard let p = account.positions[symbol] else { return nil }
            return [
                "symbol": .text(symbol),
                "quantity": .text(number(p.quantity)),
                "entry_price": .text(number(p.entryPrice)),
                "current_price": .text(number(p.markPrice)),
                "liquidation_price": .text(number(p.liquidationPrice)),
                "unrealized_pnl": .text(number(p.unrealizedPnL)),
                "leverage": .text(number(p.leverage)),
                "stop_loss": .text(p.stopLoss.map(number) ?? "none"),
                "profit_target": .text(p.takeProfit.map(number) ?? "none"),
                "invalidation_condition": .text(p.invalidationCondition),
            ]
        }
        return [
            "minutes_since_start": .text(String(max(0, (inputs.now - inputs.startedAt) / 60_000))),
            "now_iso": .text(iso(inputs.now)),
            "invocation_count": .text(String(inputs.invocationCount)),
            "intraday_interval": .text(inputs.intradayInterval),
            "context_interval": .text(inputs.contextInterval),
            "markets": .list(markets),
            "return_pct": .text(number(inputs.capital > 0 ? (equity / inputs.capital - 1) * 100 : 0)),
            "cash_usd": .text(number(account.cash)),
            "equity_usd": .text(number(equity)),
            "sharpe": .text(number(inputs.sharpe)),
            "positions": .list(positions),
        ]
    }

    private static func symbols(_ inputs: Inputs) -> [String] {
        inputs.trader.symbols.isEmpty ? inputs.market.symbols.keys.sorted() : inputs.trader.symbols
    }

    /// Large values to 2 decimals, unit-sized ones to 4, small ones to 6 significant digits; no trailing zeros.
    /// Rounding to a short decimal and printing the shortest round-trip form gives that decimal exactly.
    package static func number(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let magnitude = abs(value)
        let rounded: Double
        if magnitude >= 1000 {
            rounded = (value * 100).rounded() / 100
        } else if magnitude >= 1 {
            rounded = (value * 10_000).rounded() / 10_000
        } else if magnitude >= 1e-4 {
            let scale = pow(10, 5 - floor(log10(magnitude)))
            rounded = (value * scale).rounded() / scale
        } else {
            return value == 0 ? "0" : String(format: "%.6g", value)
        }
        if rounded == 0 { return "0" }
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return String(rounded)
    }

    package static func list(_ values: [Double]) -> String {
        var text = "["
        text.reserveCapacity(2 + values.count * 12)
        for (index, value) in values.enumerated() {
            if index > 0 { text += ", " }
            text += number(value)
        }
        text += "]"
        return text
    }

    package static func iso(_ milliseconds: Int64) -> String { UTCTime.iso8601(milliseconds) }
}
