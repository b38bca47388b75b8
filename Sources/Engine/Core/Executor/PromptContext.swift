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

    /// The user prompt's variables (`UserPromptModel` defines them).
    package static func user(_ inputs: Inputs) -> PromptScope { UserPromptModel(inputs).scope() }

    /// The names of the memory variables (README, "Template variables"): a template that reads any of them gets
    /// the trader's memory computed and journaled with each cycle. They are the variables `UserPromptModel`
    /// marks as memory's in the scopes a template reaches without memory (the prompt, a market, a position);
    /// what sits inside the memory's own lists is reached through them.
    package static let memoryVariables: Set<String> = Set(
        [UserPromptModel.Kind.root, .market, .position].flatMap { kind in
            kind.texts.filter(\.needsMemory).map(\.name) + kind.lists.filter(\.needsMemory).map(\.name)
        }
    )

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
    package static func number(_ value: Double) -> String { text { appendNumber(value, to: &$0) } }

    /// `number(value)` appended to `bytes`. The rounded value is a whole number of hundredths, ten-thousandths
    /// or (below 1) millionths-of-its-magnitude, printed here from that integer: the same digits as the shortest
    /// round-trip form of the rounded Double (`numberByDescription`), which a test checks on millions of values,
    /// without formatting a Double. Tiny and huge values, where the two forms could part, take that path.
    static func appendNumber(_ value: Double, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxNumberBytes) { buffer in
            let start = buffer.baseAddress!
            bytes.append(contentsOf: UnsafeBufferPointer(start: start, count: writeNumber(value, to: start)))
        }
    }

    /// The most bytes `number` writes (`-1.2345678901234567e+300` is 24).
    static let maxNumberBytes = 32

    /// Writes `number(value)` at `start` (room for `maxNumberBytes`); returns its length.
    static func writeNumber(_ value: Double, to start: UnsafeMutablePointer<UInt8>) -> Int {
        let magnitude = abs(value)
        let product: Double
        let digits: Int
        if magnitude >= 1000, magnitude < 1e12 {
            product = value * 100
            digits = 2
        } else if magnitude >= 1, magnitude < 1000 {
            product = value * 10_000
            digits = 4
        } else if magnitude >= 1e-4, magnitude < 1 {
            // 6 to 9 decimals; the scale is exact (`pow(10, n)` for these n gives the same Double).
            digits = 5 - decade(magnitude)
            product = value * decimalScales[digits]
        } else if magnitude == 0 {
            start[0] = UInt8(ascii: "0")
            return 1
        } else if magnitude < 1e-4,
            let count = GeneralNumberFormat.fromScaledProduct(value, significantDigits: 6, to: start)
        {
            // `numberByDescription`'s `%.6g` of a small value, written in place.
            return count
        } else {
            var text = numberByDescription(value)
            return text.withUTF8 { utf8 in
                let count = min(utf8.count, maxNumberBytes)
                start.update(from: utf8.baseAddress!, count: count)
                return count
            }
        }
        // `product.rounded()` (half away from zero) as an integer: |product| < 1e14, so the truncation and the
        // remainder are exact.
        var whole = Int64(product)
        let remainder = product - Double(whole)
        if remainder >= 0.5 {
            whole += 1
        } else if remainder <= -0.5 {
            whole -= 1
        }
        guard whole != 0 else {
            start[0] = UInt8(ascii: "0")
            return 1
        }
        // The digits of the integer, the decimal point `digits` from the right; the fraction's trailing zeros
        // (all of them: no point) dropped first. Laid out in place, right to left, two digits at a time.
        var rest = whole.magnitude
        var fraction = digits
        while fraction > 0, rest % 10 == 0 {
            rest /= 10
            fraction -= 1
        }
        let integerDigits = max(ASCIIDigits.count(rest) - fraction, 1)
        let sign = whole < 0 ? 1 : 0
        let length = sign + integerDigits + (fraction > 0 ? fraction + 1 : 0)
        if sign == 1 { start[0] = UInt8(ascii: "-") }
        var end = start + length
        if fraction > 0 {
            var scale: UInt64 = 1
            for _ in 0..<fraction { scale &*= 10 }
            ASCIIDigits.write(rest % scale, digits: fraction, endingAt: end)
            rest /= scale
            end -= fraction + 1
            end[0] = UInt8(ascii: ".")
        }
        ASCIIDigits.write(rest, digits: integerDigits, endingAt: end)
        return length
    }

    /// `floor(log10(magnitude))` for a magnitude in [1e-4, 1): comparisons well inside a decade, the library's
    /// `log10` near a power of ten (where its rounding decides, as it did when the prompts were first written).
    static func decade(_ magnitude: Double) -> Int {
        if magnitude >= 0.100_001 { return -1 }
        if magnitude >= 0.010_000_1, magnitude < 0.099_999 { return -2 }
        if magnitude >= 0.001_000_01, magnitude < 0.009_999_9 { return -3 }
        if magnitude >= 0.000_100_001, magnitude < 0.000_999_99 { return -4 }
        return Int(floor(log10(magnitude)))
    }

    /// 10^n for the decimals `appendNumber` keeps (2 to 9).
    private static let decimalScales: [Double] = (0...9).map { pow(10, Double($0)) }

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
            return value == 0 ? "0" : GeneralNumberFormat.format(value, significantDigits: 6)
        }
        if rounded == 0 { return "0" }
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return String(rounded)
    }

    /// `[a, b, …]` of `number`s.
    package static func list(_ values: [Double]) -> String { text { appendList(values, to: &$0) } }

    /// `list(values)` appended to `bytes`.
    static func appendList(_ values: [Double], to bytes: inout [UInt8]) {
        BracketedList.append(values.count, itemBytes: maxNumberBytes, separator: ", ", to: &bytes) { index, at in
            writeNumber(values[index], to: at)
        }
    }

    private static func text(_ write: (inout [UInt8]) -> Void) -> String {
        var bytes: [UInt8] = []
        write(&bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    package static func iso(_ milliseconds: Int64) -> String { UTCTime.iso8601(milliseconds) }
}
