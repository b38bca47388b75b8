/// Decimal digits written straight into a byte buffer (JSON numbers, prompt numbers): no `String` per number.
package enum ASCIIDigits {
    /// The digits of `value`.
    package static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            let start = buffer.baseAddress!
            bytes.append(contentsOf: UnsafeBufferPointer(start: start, count: write(value, to: start)))
        }
    }

    /// Writes the digits of `value` at `start` (room for 20); returns how many.
    package static func write(_ value: UInt64, to start: UnsafeMutablePointer<UInt8>) -> Int {
        var count = 1
        var bound: UInt64 = 10
        while count < 20, value >= bound {
            count += 1
            bound = bound &* 10
        }
        var rest = value
        var index = count
        repeat {
            index -= 1
            start[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while index > 0
        return count
    }

    /// `String(value)`'s text: a minus sign, then the digits of the magnitude.
    package static func appendSigned(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        append(value.magnitude, to: &bytes)
    }
}
