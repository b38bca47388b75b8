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
}
