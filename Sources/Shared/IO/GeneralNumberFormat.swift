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
