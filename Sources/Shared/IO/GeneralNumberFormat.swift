#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// C's `%.Ng` for a Double, straight from the C library: the text `String(format: "%.Ng", value)` gives
/// (Foundation hands `%g` to the C library in the C locale), without Foundation's format parser — ten times
/// cheaper, for values formatted on every cycle (a prompt's funding rates). Tests compare both.
package enum GeneralNumberFormat {
    /// `%.<significantDigits>g` of `value`; `significantDigits` is 1 to 17.
    package static func format(_ value: Double, significantDigits: Int) -> String {
        precondition((1...17).contains(significantDigits), "significant digits out of range")
        let scaled = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxScaledBytes) { buffer -> String? in
            let count = fromScaledProduct(value, significantDigits: significantDigits, to: buffer.baseAddress!)
            return count.map {
                String(decoding: UnsafeBufferPointer(start: buffer.baseAddress, count: $0), as: UTF8.self)
            }
        }
        return scaled ?? unscaled(value, significantDigits: significantDigits)
    }

    /// `format(value, significantDigits:)` appended to `bytes`, written in place when the scaled path can (a
    /// prompt's funding rates).
    package static func append(_ value: Double, significantDigits: Int, to bytes: inout [UInt8]) {
        precondition((1...17).contains(significantDigits), "significant digits out of range")
        let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxScaledBytes) { buffer -> Bool in
            guard let count = fromScaledProduct(value, significantDigits: significantDigits, to: buffer.baseAddress!)
            else { return false }
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress, count: count))
            return true
        }
        if !written { bytes.append(contentsOf: unscaled(value, significantDigits: significantDigits).utf8) }
    }

    /// The text when the scaled path declines: from the shortest digits, else from the C library.
    private static func unscaled(_ value: Double, significantDigits: Int) -> String {
        if let text = fromShortestDigits(value, significantDigits: significantDigits) { return text }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { buffer in
            let pattern = patterns[significantDigits]
            let written = pattern.withCString { format in
                withVaList([value]) { arguments in vsnprintf(buffer.baseAddress, 48, format, arguments) }
            }
            let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(max(0, min(written, 47))))
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static let patterns: [String] = (0...17).map { "%.\($0)g" }

    /// The most bytes `fromScaledProduct` writes (`-1.23456789e-300` is 16).
    package static let maxScaledBytes = 24

    /// 10^n, exact as Doubles, n from 0 to 22.
    private static let exactTens: [Double] = (0...22).map { exponent in
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }

    /// `%.Ng` written at `start` (room for `maxScaledBytes`) from the N digits as a whole number, N ≤ 9: the value
    /// times (or divided by) an exact power of ten that puts its first significant digit at 10^(N−1) — one
    /// correctly rounded operation, so the product is within half an ulp (≤ 6e-8 below 10^9) of the exact scaled
    /// value — then rounded to the nearest whole number. That is the C library's rounding of the exact value
    /// unless the product's fraction is within 1e-6 of one half, where the two could part (or the exact value
    /// is a tie, which the C library rounds to even): nil then, and for a decade `log10` misjudged (the whole
    /// number is not N digits), a subnormal, zero or a value that is not finite — the other paths decide.
    /// No string, no digits of `description`: a prompt's small numbers (funding rates, the MACD of a coin priced
    /// in cents) were 7 % of a replay through those.
    package static func fromScaledProduct(
        _ value: Double,
        significantDigits precision: Int,
        to start: UnsafeMutablePointer<UInt8>
    ) -> Int? {
        guard precision <= 9, value.isNormal else { return nil }
        let magnitude = value.magnitude
        var decade = Int(floor(log10(magnitude)))
        let shift = precision - 1 - decade
        guard shift >= -22, shift <= 22 else { return nil }
        let product = shift >= 0 ? magnitude * exactTens[shift] : magnitude / exactTens[-shift]
        let floored = product.rounded(.down)
        let fraction = product - floored
        guard abs(fraction - 0.5) > 1e-6 else { return nil }
        var whole = UInt64(floored) + (fraction > 0.5 ? 1 : 0)
        let low = UInt64(exactTens[precision - 1])
        if whole == low * 10 {
            // Rounded up into the next decade: 1 followed by zeros.
            whole = low
            decade += 1
        }
        guard whole >= low, whole < low * 10 else { return nil }
        // The digits, most significant first, trailing zeros dropped (`%g` drops them).
        var digits: (UInt64, Int) = (whole, precision)
        while digits.1 > 1, digits.0 % 10 == 0 {
            digits.0 /= 10
            digits.1 -= 1
        }
        let (significant, count) = digits
        var length = 0
        if value < 0 {
            start[0] = UInt8(ascii: "-")
            length = 1
        }
        /// Writes `count` digits of `number` (zero-padded on the left) at `at`.
        func put(_ number: UInt64, count: Int, at: UnsafeMutablePointer<UInt8>) {
            ASCIIDigits.write(number, digits: count, endingAt: at + count)
        }
        let tens = UInt64(exactTens[count - 1])
        if decade < -4 || decade >= precision {
            // d[.ddd]e±XX: at least two exponent digits.
            put(significant / tens, count: 1, at: start + length)
            length += 1
            if count > 1 {
                start[length] = UInt8(ascii: ".")
                put(significant % tens, count: count - 1, at: start + length + 1)
                length += count
            }
            start[length] = UInt8(ascii: "e")
            start[length + 1] = decade < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
            let exponent = UInt64(abs(decade))
            let exponentDigits = exponent >= 100 ? 3 : 2
            put(exponent, count: exponentDigits, at: start + length + 2)
            return length + 2 + exponentDigits
        }
        if decade >= 0 {
            // Whole digits (zeros past the significant ones), then the rest after a point.
            let wholeDigits = decade + 1
            if count <= wholeDigits {
                put(significant * UInt64(exactTens[wholeDigits - count]), count: wholeDigits, at: start + length)
                return length + wholeDigits
            }
            let fractionTens = UInt64(exactTens[count - wholeDigits])
            put(significant / fractionTens, count: wholeDigits, at: start + length)
            start[length + wholeDigits] = UInt8(ascii: ".")
            put(significant % fractionTens, count: count - wholeDigits, at: start + length + wholeDigits + 1)
            return length + count + 1
        }
        // 0.000ddd: −decade − 1 zeros after the point.
        let zeros = -decade - 1
        start[length] = UInt8(ascii: "0")
        start[length + 1] = UInt8(ascii: ".")
        for place in 0..<zeros { start[length + 2 + place] = UInt8(ascii: "0") }
        put(significant, count: count, at: start + length + 2 + zeros)
        return length + 2 + zeros + count
    }

    /// `%.Ng` laid out from the shortest round-trip digits S (`description`'s), N ≤ 15. The C library rounds the
    /// exact binary value x to N digits. With at most N digits, S is that rounding: x lies within half an ulp
    /// (< 2.3 × 10^(X−15) for a leading digit at 10^X) of S, far less than half a unit in the N-th place. With
    /// more, S rounded to N digits is x's rounding, unless S is exactly the halfway point B (its digits after the
    /// N-th are "5"): a B strictly between x and S would round-trip to x too, with N + 1 digits — shorter than S,
    /// or as short and nearer to x, which the shortest digits rule out — so x and S lie on the same side of B.
    /// Nil for that halfway case, a subnormal or a value that is not finite (the C library decides).
    static func fromShortestDigits(_ value: Double, significantDigits precision: Int) -> String? {
        guard precision <= 15, value.isNormal || value == 0 else { return nil }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        var text = value.magnitude.description
        return text.withUTF8 { utf8 -> String? in
            // The digits without the point, where the point was, and the exponent after `e`.
            var digits: [UInt8] = []
            digits.reserveCapacity(24)
            var point = -1
            var index = 0
            while index < utf8.count, utf8[index] != UInt8(ascii: "e") {
                if utf8[index] == UInt8(ascii: ".") {
                    point = digits.count
                } else {
                    digits.append(utf8[index])
                }
                index += 1
            }
            if point < 0 { point = digits.count }
            var exponent = 0
            if index < utf8.count {
                let negative = utf8[index + 1] == UInt8(ascii: "-")
                for byte in utf8[(index + 2)...] { exponent = exponent * 10 + Int(byte - UInt8(ascii: "0")) }
                if negative { exponent = -exponent }
            }
            let leading = digits.firstIndex { $0 != UInt8(ascii: "0") } ?? digits.count
            let trailing = digits.lastIndex { $0 != UInt8(ascii: "0") }.map { $0 + 1 } ?? leading
            guard leading < trailing else { return nil }
            var significant = digits[leading..<trailing]
            // The power of ten of the first significant digit.
            var decade = point - 1 - leading + exponent
            if significant.count > precision {
                let next = significant[significant.startIndex + precision]
                guard next != UInt8(ascii: "5") || significant.count > precision + 1 else { return nil }
                significant = significant.prefix(precision)
                if next >= UInt8(ascii: "5") {
                    // Up, carrying through nines; all nines become 1 followed by zeros, a decade higher.
                    var place = significant.endIndex - 1
                    while place >= significant.startIndex, significant[place] == UInt8(ascii: "9") {
                        significant[place] = UInt8(ascii: "0")
                        place -= 1
                    }
                    if place < significant.startIndex {
                        significant[significant.startIndex] = UInt8(ascii: "1")
                        decade += 1
                    } else {
                        significant[place] += 1
                    }
                }
                // `%g` drops trailing zeros.
                while significant.count > 1, significant.last == UInt8(ascii: "0") { significant.removeLast() }
            }
            var out: [UInt8] = value < 0 ? [UInt8(ascii: "-")] : []
            out.reserveCapacity(32)
            if decade < -4 || decade >= precision {
                // d[.ddd]e±XX: at least two exponent digits.
                out.append(significant[significant.startIndex])
                if significant.count > 1 {
                    out.append(UInt8(ascii: "."))
                    out += significant.dropFirst()
                }
                out.append(UInt8(ascii: "e"))
                out.append(decade < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
                if abs(decade) < 10 { out.append(UInt8(ascii: "0")) }
                out += String(abs(decade)).utf8
            } else if decade >= 0 {
                // Whole digits (zeros past the significant ones), then the rest after a point.
                for place in 0...decade {
                    out.append(
                        place < significant.count ? significant[significant.startIndex + place] : UInt8(ascii: "0")
                    )
                }
                if significant.count > decade + 1 {
                    out.append(UInt8(ascii: "."))
                    out += significant.dropFirst(decade + 1)
                }
            } else {
                out += [UInt8(ascii: "0"), UInt8(ascii: ".")]
                out += repeatElement(UInt8(ascii: "0"), count: -decade - 1)
                out += significant
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
