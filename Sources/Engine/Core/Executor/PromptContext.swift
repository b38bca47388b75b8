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
        /// The trader's memory for the memory variables; nil when the templates use none (they are then absent).
        package var memory: PromptMemory? = nil

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
            decisionSchema: String,
            memory: PromptMemory? = nil
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
            self.memory = memory
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
                "confidence": .text(number(p.confidence)),
                "age_minutes": .text(String(max(0, (inputs.now - p.openedAt) / 60_000))),
            ]
        }
        var scope: PromptScope = [
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
        if let memory = inputs.memory { remember(memory, now: inputs.now, into: &scope) }
        return scope
    }

    /// The names of the memory variables (README, "Template variables"): a template that reads any of them gets
    /// the trader's memory computed and journaled with each cycle.
    package static let memoryVariables: Set<String> = [
        "entry_reasoning", "recent_trades", "recent_cycles",
        "day_trades", "day_win_rate_pct", "day_net_pnl", "day_sharpe",
        "week_trades", "week_win_rate_pct", "week_net_pnl", "week_sharpe",
    ]

    /// Adds the memory variables: each position's entry reasoning, the last closed trades, the last cycles'
    /// decisions and verdicts, and the last day's and week's results.
    static func remember(_ memory: PromptMemory, now: Int64, into scope: inout PromptScope) {
        if case .list(var positions) = scope["positions"] {
            for index in positions.indices {
                guard case .text(let symbol) = positions[index]["symbol"] else { continue }
                positions[index]["entry_reasoning"] = .text(oneLine(memory.entryReasons[symbol]))
            }
            scope["positions"] = .list(positions)
        }
        scope["recent_trades"] = .list(
            memory.trades.reversed().map { trade in
                [
                    "symbol": .text(trade.symbol),
                    "side": .text(trade.quantity >= 0 ? "long" : "short"),
                    "quantity": .text(number(abs(trade.quantity))),
                    "entry_price": .text(number(trade.entryPrice)),
                    "exit_price": .text(number(trade.exitPrice)),
                    "net_pnl": .text(number(trade.netPnL)),
                    "held_minutes": .text(String(max(0, (trade.exitTime - trade.entryTime) / 60_000))),
                    "closed_minutes_ago": .text(String(max(0, (now - trade.exitTime) / 60_000))),
                    "entry_reasoning": .text(oneLine(trade.entryReasoning)),
                    "close_reason": .text(trade.closeReason),
                ]
            }
        )
        scope["recent_cycles"] = .list(
            memory.cycles.reversed().map { cycle in
                [
                    "minutes_ago": .text(String(max(0, (now - cycle.time) / 60_000))),
                    "outcome": .text(cycle.outcome),
                    "reason": .text(cycle.reason ?? "none"),
                    "decisions": .list(
                        cycle.verdicts.map { verdict in
                            [
                                "symbol": .text(verdict.symbol),
                                "signal": .text(verdict.signal),
                                "verdict": .text(verdict.accepted ? "accepted" : "refused"),
                                "reasons": .text(
                                    verdict.reasons.isEmpty ? "none" : verdict.reasons.joined(separator: ", ")
                                ),
                            ]
                        }
                    ),
                ]
            }
        )
        for (prefix, window) in [("day", memory.day), ("week", memory.week)] {
            scope["\(prefix)_trades"] = .text(String(window.trades))
            scope["\(prefix)_win_rate_pct"] = .text(
                window.trades > 0 ? number(Double(window.wins) / Double(window.trades) * 100) : "n/a"
            )
            scope["\(prefix)_net_pnl"] = .text(number(window.netPnL))
            scope["\(prefix)_sharpe"] = .text(number(window.sharpe))
        }
    }

    /// Reasoning on one line (a prompt's list item), or `not recorded`.
    static func oneLine(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "not recorded" }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    private static func symbols(_ inputs: Inputs) -> [String] { symbols(trader: inputs.trader, market: inputs.market) }

    /// The symbols a prompt lists: the trader's own, else every symbol of the market snapshot, sorted.
    package static func symbols(trader: TraderConfiguration, market: MarketSnapshot) -> [String] {
        trader.symbols.isEmpty ? market.symbols.keys.sorted() : trader.symbols
    }

    /// Large values to 2 decimals, unit-sized ones to 4, small ones to 6 significant digits; no trailing zeros.
    /// Rounding to a short decimal and printing the shortest round-trip form gives that decimal exactly.
    package static func number(_ value: Double) -> String {
        var text = ""
        appendNumber(value, to: &text)
        return text
    }

    /// `number(value)` appended to `text`. The rounded value is a whole number of hundredths, ten-thousandths or
    /// (below 1) millionths-of-its-magnitude, printed here from that integer: the same digits as the shortest
    /// round-trip form of the rounded Double (`numberByDescription`), which a test checks on millions of values,
    /// without formatting a Double. Tiny and huge values, where the two forms could part, take that path.
    static func appendNumber(_ value: Double, to text: inout String) {
        let magnitude = abs(value)
        let scaled: Double
        let digits: Int
        if magnitude >= 1000, magnitude < 1e12 {
            scaled = (value * 100).rounded()
            digits = 2
        } else if magnitude >= 1, magnitude < 1000 {
            scaled = (value * 10_000).rounded()
            digits = 4
        } else if magnitude >= 1e-4, magnitude < 1 {
            let exponent = 5 - floor(log10(magnitude))
            scaled = (value * pow(10, exponent)).rounded()
            digits = Int(exponent)
        } else {
            text += numberByDescription(value)
            return
        }
        guard scaled != 0 else {
            text += "0"
            return
        }
        var unit: Int64 = 1
        for _ in 0..<digits { unit *= 10 }
        let whole = Int64(abs(scaled))
        if scaled < 0 { text += "-" }
        text += String(whole / unit)
        var fraction = whole % unit
        guard fraction != 0 else { return }
        var width = digits
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        text += "."
        let written = String(fraction)
        for _ in written.utf8.count..<width { text += "0" }
        text += written
    }

    /// The definition `number` follows: round to the decimal, print the shortest round-trip form.
    static func numberByDescription(_ value: Double) -> String {
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
            appendNumber(value, to: &text)
        }
        text += "]"
        return text
    }

    package static func iso(_ milliseconds: Int64) -> String { UTCTime.iso8601(milliseconds) }
}
