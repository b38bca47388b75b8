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

    /// `%.Ng` laid out from the shortest round-trip digits (`description`'s) when there are at most N of them and
    /// N ≤ 15: the C library rounds the exact binary value to N digits, and a normal value lies within half an ulp
    /// (< 2.3 × 10^(X−15) for a leading digit at 10^X) of its shortest digits, far less than half a unit in the
    /// N-th place — so it rounds to those digits. Otherwise (more digits, a subnormal, not finite) nil.
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
            guard leading < trailing, trailing - leading <= precision else { return nil }
            let significant = digits[leading..<trailing]
            // The power of ten of the first significant digit.
            let decade = point - 1 - leading + exponent
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
