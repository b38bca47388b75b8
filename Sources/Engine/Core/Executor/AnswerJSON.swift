import Foundation

/// A JSON value of a model's answer, typed: the decision parser reads it without casting `Any`.
///
/// `AnswerJSON.parse` reads the common case — RFC 8259 JSON without `\u` escapes, duplicate keys, integers
/// beyond 64 bits or numbers beyond a Double — straight from the bytes, several times faster than
/// `JSONSerialization`. Anything else it declines (returns nil), and `JSONSerialization` decides, so every text is
/// accepted or refused exactly as before (`AnswerJSONTests` compares both on a corpus and on thousands of random
/// and mutated texts). A number it reads is the nearest Double, as `strtod` gives it; `JSONSerialization` is not
/// always that, even within 15 digits (85169.216309362 reads as 85169.21630936202), so such a value may differ from
/// what `JSONSerialization` alone would give by an ulp. Both of the decision parser's paths read answers here first.
package enum AnswerJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnswerJSON])
    case object([String: AnswerJSON])

    /// The value of `bytes`, or nil when they are not JSON or are outside the subset read here.
    package static func parse(_ bytes: ArraySlice<UInt8>) -> AnswerJSON? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            guard let value = reader.value(depth: 0) else { return nil }
            reader.skipSpace()
            return reader.index == buffer.count ? value : nil
        }
    }

    /// The value `JSONSerialization` gives for `bytes`, typed; nil when it refuses them (or gives no object or
    /// array at the top).
    package static func foundation(_ bytes: ArraySlice<UInt8>) -> AnswerJSON? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) else { return nil }
        return typed(object)
    }

    /// A `JSONSerialization` value, typed (a boolean is an `NSNumber` of type `c`).
    static func typed(_ value: Any) -> AnswerJSON? {
        switch value {
        case is NSNull:
            return .null
        case let number as NSNumber:
            return String(cString: number.objCType) == "c" ? .bool(number.boolValue) : .number(number.doubleValue)
        case let string as String:
            return .string(string)
        case let array as [Any]:
            var values: [AnswerJSON] = []
            values.reserveCapacity(array.count)
            for element in array {
                guard let typed = typed(element) else { return nil }
                values.append(typed)
            }
            return .array(values)
        case let object as [String: Any]:
            var values: [String: AnswerJSON] = [:]
            for (key, element) in object {
                guard let typed = typed(element) else { return nil }
                values[key] = typed
            }
            return .object(values)
        default:
            return nil
        }
    }

    /// Reads values from bytes; the decision parser reads an answer's common shape with it directly.
    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// Deeper than this is declined (JSONSerialization has its own limit).
        static let maxDepth = 64

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) -> AnswerJSON? {
            skipSpace()
            guard index < bytes.count, depth < Self.maxDepth else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string().map(AnswerJSON.string)
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            default: return number()
            }
        }

        mutating func literal(_ word: StaticString, _ value: AnswerJSON) -> AnswerJSON? {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return nil }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return nil }
            index += count
            return value
        }

        mutating func object(depth: Int) -> AnswerJSON? {
            index += 1
            var members: [String: AnswerJSON] = [:]
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let value = value(depth: depth + 1) else { return nil }
                // A repeated key: which one counts is JSONSerialization's to say.
                guard members.updateValue(value, forKey: key) == nil else { return nil }
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                } else {
                    return nil
                }
            }
        }

        mutating func array(depth: Int) -> AnswerJSON? {
            index += 1
            var elements: [AnswerJSON] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                guard let element = value(depth: depth + 1) else { return nil }
                elements.append(element)
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                } else {
                    return nil
                }
            }
        }

        /// A string without `\u` escapes or control characters; the bytes between the quotes are valid UTF-8
        /// (they come from a Swift string cut at ASCII quotes).
        mutating func string() -> String? {
            index += 1
            let start = index
            var hasEscape = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") { break }
                if byte < 0x20 { return nil }
                if byte == UInt8(ascii: "\\") {
                    hasEscape = true
                    index += 1
                    guard index < bytes.count else { return nil }
                    switch bytes[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    default:
                        return nil
                    }
                }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
            index += 1
            guard hasEscape else { return String(decoding: raw, as: UTF8.self) }
            var unescaped: [UInt8] = []
            unescaped.reserveCapacity(raw.count)
            var position = 0
            while position < raw.count {
                var byte = raw[position]
                if byte == UInt8(ascii: "\\") {
                    position += 1
                    switch raw[position] {
                    case UInt8(ascii: "b"): byte = 0x08
                    case UInt8(ascii: "f"): byte = 0x0C
                    case UInt8(ascii: "n"): byte = 0x0A
                    case UInt8(ascii: "r"): byte = 0x0D
                    case UInt8(ascii: "t"): byte = 0x09
                    default: byte = raw[position]
                    }
                }
                unescaped.append(byte)
                position += 1
            }
            return String(decoding: unescaped, as: UTF8.self)
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: an integer as a 64-bit integer converted (as
        /// JSONSerialization gives it), anything else as the nearest Double. Declined: integers beyond 64 bits,
        /// and other numbers whose nearest Double takes more than one exact operation.
        ///
        /// The value is computed while the digits are read, within `ExactDecimal`'s fast path (at most 15
        /// significant digits scaled by at most 10^±22: the nearest Double, as `strtod` gives it); longer mantissas
        /// are left to JSONSerialization. A text of the number, made and read, cost a string and a C conversion per
        /// number; `AnswerJSONTests` compares both on random numbers bit for bit.
        mutating func number() -> AnswerJSON? {
            let start = index
            let isNegative = bytes[index] == UInt8(ascii: "-")
            if isNegative { index += 1 }
            guard index < bytes.count else { return nil }
            // Every digit of the integer and fraction parts, while it fits; `significant` counts from the first
            // non-zero one.
            var mantissa: UInt64 = 0
            var significant = 0
            var fractionDigits = 0
            func add(_ byte: UInt8) {
                let digit = UInt64(byte &- UInt8(ascii: "0"))
                if significant > 0 || digit != 0 { significant += 1 }
                if significant <= 19 { mantissa = mantissa &* 10 &+ digit }
            }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else if isDigit(bytes[index]) {
                while index < bytes.count, isDigit(bytes[index]) {
                    add(bytes[index])
                    index += 1
                }
            } else {
                return nil
            }
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                while index < bytes.count, isDigit(bytes[index]) {
                    add(bytes[index])
                    fractionDigits += 1
                    index += 1
                }
            }
            var exponent = 0
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                var exponentSign = 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    if bytes[index] == UInt8(ascii: "-") { exponentSign = -1 }
                    index += 1
                }
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                while index < bytes.count, isDigit(bytes[index]) {
                    exponent = min(exponent * 10 + Int(bytes[index] &- UInt8(ascii: "0")), 10_000)
                    index += 1
                }
                exponent *= exponentSign
            }
            if isInteger {
                if significant <= 18 {
                    let value = Int64(mantissa)
                    return .number(Double(isNegative ? -value : value))
                }
                // 19 digits or more: Int64's own reading says whether it fits.
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                guard let integer = Int64(text) else { return nil }
                return .number(Double(integer))
            }
            guard
                let magnitude = ExactDecimal.value(
                    mantissa: mantissa,
                    significantDigits: significant,
                    scale: exponent - fractionDigits
                )
            else { return nil }
            return .number(isNegative ? -magnitude : magnitude)
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        /// After any whitespace: whether the next byte is `byte`; consumes it when it is.
        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// After any whitespace, a key and its colon: the bytes between the quotes, when they hold no escape (an
        /// escaped key is left to `value(depth:)`'s reading).
        mutating func plainKey() -> UnsafeBufferPointer<UInt8>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                guard bytes[index] >= 0x20, bytes[index] != UInt8(ascii: "\\") else { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let key = UnsafeBufferPointer(rebasing: bytes[start..<index])
            index += 1
            return take(UInt8(ascii: ":")) ? key : nil
        }
    }
}
