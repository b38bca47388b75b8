/// Decimal digits written straight into a byte buffer (JSON numbers, prompt numbers): no `String` per number.
package enum ASCIIDigits {
    /// The digits of `value`.
    package static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        bytes.appendInPlace(upTo: 20) { write(value, to: $0) }
    }

    /// Writes the digits of `value` at `start` (room for 20); returns how many.
    package static func write(_ value: UInt64, to start: UnsafeMutablePointer<UInt8>) -> Int {
        let count = count(value)
        write(value, digits: count, endingAt: start + count)
        return count
    }

    /// How many digits `value` has (1 for zero).
    package static func count(_ value: UInt64) -> Int {
        var count = 1
        var bound: UInt64 = 10
        while count < 20, value >= bound {
            count += 1
            bound = bound &* 10
        }
        return count
    }

    /// The last `digits` digits of `value`, zero-padded on the left, written to end just before `end`, two at a
    /// time from a table of pairs.
    @inline(__always)
    package static func write(_ value: UInt64, digits: Int, endingAt end: UnsafeMutablePointer<UInt8>) {
        let pairs = pairTable.utf8Start
        var rest = value
        var at = end
        var left = digits
        while left >= 2 {
            let pair = Int(rest % 100)
            rest /= 100
            at -= 2
            at[0] = pairs[2 * pair]
            at[1] = pairs[2 * pair + 1]
            left -= 2
        }
        if left == 1 { (at - 1).pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10) }
    }

    /// "00" to "99", in order.
    private static let pairTable: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    /// `String(value)`'s text: a minus sign, then the digits of the magnitude.
    package static func appendSigned(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        append(value.magnitude, to: &bytes)
    }
}
