/// A bracketed list written into scratch room and appended to a buffer at once: one append for the whole list
/// instead of one per item and separator (each append checks the array's uniqueness and capacity). The journal's
/// series of doubles and a prompt's series of numbers are written this way.
package enum BracketedList {
    /// `[item<separator>item…]` for `count` items: `write(index, at)` writes item `index` at `at` (at most
    /// `itemBytes` bytes) and returns its length.
    package static func append(
        _ count: Int,
        itemBytes: Int,
        separator: StaticString,
        to bytes: inout [UInt8],
        _ write: (Int, UnsafeMutablePointer<UInt8>) -> Int
    ) {
        let separatorCount = separator.utf8CodeUnitCount
        bytes.appendInPlace(upTo: count * (itemBytes + separatorCount) + 2) { start in
            start[0] = UInt8(ascii: "[")
            var length = 1
            for index in 0..<count {
                if index > 0 {
                    (start + length).update(from: separator.utf8Start, count: separatorCount)
                    length += separatorCount
                }
                length += write(index, start + length)
            }
            start[length] = UInt8(ascii: "]")
            return length + 1
        }
    }
}
