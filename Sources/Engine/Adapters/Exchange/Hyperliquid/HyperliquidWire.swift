import ArenaCore
import Foundation

/// Numbers as Hyperliquid wants them on the wire (PROTOCOL.md §5.5–5.6): the SDK's `float_to_wire`, and its
/// price and size rounding.
package enum HyperliquidWire {
    package struct RoundingError: Error, Equatable, CustomStringConvertible {
        package let value: Double
        package var description: String { "float_to_wire causes rounding: \(value)" }
    }

    /// `f"{x:.8f}"`, refused when that moved the value by 1e-12 or more, then the decimal without trailing zeros
    /// or exponent. `-0.0` gives `"-0"`, as the SDK does.
    package static func floatToWire(_ value: Double) throws(RoundingError) -> String {
        guard value.isFinite else { throw RoundingError(value: value) }
        let rounded = String(format: "%.8f", value)
        guard let back = Double(rounded), abs(back - value) < 1e-12 else { throw RoundingError(value: value) }
        return normalized(rounded)
    }

    /// Strips trailing zeros and a trailing point from a fixed-point decimal string.
    package static func normalized(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = Substring(text)
        while result.hasSuffix("0") { result = result.dropLast() }
        if result.hasSuffix(".") { result = result.dropLast() }
        return result.isEmpty ? "0" : String(result)
    }

    /// Python's `round(x, digits)`: the correctly rounded decimal with `digits` places, read back as a double.
    package static func pythonRound(_ value: Double, _ digits: Int) -> Double {
        Double(String(format: "%.\(max(0, digits))f", value)) ?? value
    }

    /// Decimal places a price may have: `6 − szDecimals` for perps, `8 − szDecimals` for spot.
    package static func maxPriceDecimals(szDecimals: Int, isSpot: Bool = false) -> Int { (isSpot ? 8 : 6) - szDecimals }

    /// A price as the SDK's `_slippage_price` rounds it: 5 significant figures, then the market's decimals.
    package static func price(_ price: Double, szDecimals: Int, isSpot: Bool = false) -> Double {
        let significant = Double(String(format: "%.5g", price)) ?? price
        return pythonRound(significant, maxPriceDecimals(szDecimals: szDecimals, isSpot: isSpot))
    }

    /// As `examples/rounding.py`: prices above 100,000 are rounded to an integer first (integers are always
    /// valid, whatever their significant figures), so `123456.7` becomes `123457` rather than `123460`. The
    /// engine uses this one.
    package static func priceKeepingIntegers(_ value: Double, szDecimals: Int, isSpot: Bool = false) -> Double {
        guard value > 100_000 else { return price(value, szDecimals: szDecimals, isSpot: isSpot) }
        return value.rounded(.toNearestOrEven)
    }

    /// A size with at most `szDecimals` decimals (Python `round`).
    package static func size(_ size: Double, szDecimals: Int) -> Double {
        pythonRound(size, szDecimals)
    }
}
