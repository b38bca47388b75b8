import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A value that reads itself from JSON bytes, key by key, without `JSONDecoder`'s generic containers (which cost a
/// metadata lookup and a box per field: ~1 ms of CPU per journal record). It reads what its `Decodable`
/// conformance reads — the same values, the same keys required — so a file reads the same either way;
/// `JournalReadingTests` compares both on every line of real runs and on random records.
package protocol JSONByteReadable: Decodable {
    init(reading reader: inout JSONByteReader) throws
}

extension JSONByteReadable {
    /// Reads one whole JSON document (whitespace around it allowed, nothing else).
    package static func read(from data: Data) throws -> Self {
        try data.withUnsafeBytes { bytes in
            var reader = JSONByteReader(bytes)
            let value = try Self(reading: &reader)
            try reader.finish()
            return value
        }
    }
}

/// Reads JSON value by value from bytes it does not own (valid only inside the `withUnsafeBytes` that gave them).
/// Strict where it matters for a journal: a value of the wrong kind, a missing comma or colon, a torn string or
/// number, bytes after the document, invalid UTF-8 or a raw control character in a string are errors naming the
/// byte offset. Objects are read with `beginObject()` and `nextKey()` until it returns nil; arrays with
/// `beginArray()` and `nextElement()` until it returns false; unknown keys are skipped with `skipValue()`.
package struct JSONByteReader {
    package struct Failure: Error, CustomStringConvertible {
        package var message: String
        package var offset: Int
        package var description: String { "\(message) at byte \(offset)" }
    }

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    /// Right after `{` or `[`: the next key or element has no comma before it.
    private var atStart = false

    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // MARK: Structure

    package mutating func beginObject() throws { try open(UInt8(ascii: "{"), "an object") }

    package mutating func beginArray() throws { try open(UInt8(ascii: "["), "an array") }

    /// An object's key, matched against literals in a `switch` without making a `String` of it.
    package struct Key {
        /// The key's bytes between its quotes, when it has no escapes.
        fileprivate let raw: UnsafeRawBufferPointer
        /// The key decoded, when it has escapes.
        fileprivate let unescaped: String?

        package var string: String { unescaped ?? String(decoding: raw, as: UTF8.self) }

        package static func ~= (pattern: StaticString, key: Key) -> Bool {
            if let unescaped = key.unescaped { return unescaped == pattern.description }
            return pattern.utf8CodeUnitCount == key.raw.count
                && memcmp(pattern.utf8Start, key.raw.baseAddress!, key.raw.count) == 0
        }
    }

    /// The next key of the object being read, its colon consumed; nil (the closing brace consumed) at its end.
    package mutating func nextKey() throws -> Key? {
        guard try nextItem(closing: UInt8(ascii: "}")) else { return nil }
        guard peek() == UInt8(ascii: "\"") else { throw failure("expected a key") }
        let start = index + 1
        var end = start
        var high: UInt8 = 0
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20
        {
            high |= bytes[end]
            end += 1
        }
        let key: Key
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            guard high < 0x80 || String(validating: raw, as: UTF8.self) != nil else {
                throw Failure(message: "invalid UTF-8 in a key", offset: start)
            }
            key = Key(raw: raw, unescaped: nil)
            index = end + 1
        } else {
            key = Key(raw: UnsafeRawBufferPointer(start: nil, count: 0), unescaped: try string())
        }
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw failure("expected ':' after key '\(key.string)'") }
        index += 1
        return key
    }

    /// Whether the array being read has another element (false: its closing bracket consumed).
    package mutating func nextElement() throws -> Bool { try nextItem(closing: UInt8(ascii: "]")) }

    /// The document is over: only whitespace is left.
    package mutating func finish() throws {
        skipWhitespace()
        guard index == bytes.count else { throw failure("unexpected bytes after the value") }
    }

    /// The error for a required key that was absent.
    @usableFromInline
    package func missing(_ key: String, in type: String) -> Failure {
        Failure(message: "\(type): key '\(key)' is missing", offset: index)
    }

    /// `value` when the key was read; the missing-key error otherwise. (Overloads for the common types: the generic
    /// one is not specialized across modules.)
    @inlinable
    package func required<T>(_ value: T?, _ key: String, in type: String) throws -> T {
        guard let value else { throw missing(key, in: type) }
        return value
    }

    package func required(_ value: Double?, _ key: String, in type: String) throws -> Double {
        guard let value else { throw missing(key, in: type) }
        return value
    }

    package func required(_ value: [Double]?, _ key: String, in type: String) throws -> [Double] {
        guard let value else { throw missing(key, in: type) }
        return value
    }

    package func required(_ value: Int64?, _ key: String, in type: String) throws -> Int64 {
        guard let value else { throw missing(key, in: type) }
        return value
    }

    package func required(_ value: Int?, _ key: String, in type: String) throws -> Int {
        guard let value else { throw missing(key, in: type) }
        return value
    }

    package func required(_ value: String?, _ key: String, in type: String) throws -> String {
        guard let value else { throw missing(key, in: type) }
        return value
    }

    package func required(_ value: Bool?, _ key: String, in type: String) throws -> Bool {
        guard let value else { throw missing(key, in: type) }
        return value
    }

    // MARK: Values

    /// Whether an object comes next (without consuming anything).
    package mutating func objectComesNext() -> Bool {
        skipWhitespace()
        return peek() == UInt8(ascii: "{")
    }

    /// Consumes a `null` if one comes next.
    package mutating func null() -> Bool {
        skipWhitespace()
        guard matches("null") else { return false }
        index += 4
        return true
    }

    package mutating func bool() throws -> Bool {
        skipWhitespace()
        if matches("true") {
            index += 4
            return true
        }
        if matches("false") {
            index += 5
            return false
        }
        throw failure("expected true or false")
    }

    package mutating func string() throws -> String {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw failure("expected a string") }
        let start = index + 1
        var end = start
        var high: UInt8 = 0
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                index = end + 1
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                // ASCII is valid UTF-8 as it is (and makes its String without the generic validation).
                if high < 0x80 { return String(decoding: raw, as: UTF8.self) }
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw Failure(message: "invalid UTF-8 in a string", offset: start)
                }
                return text
            }
            high |= byte
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start, plainUntil: end) }
            if byte < 0x20 { throw Failure(message: "control character in a string", offset: end) }
            end += 1
        }
        throw Failure(message: "unterminated string", offset: start - 1)
    }

    package mutating func double() throws -> Double {
        skipWhitespace()
        // One pass for the common case, exact with one division (Clinger's fast path): a plain decimal (`-`,
        // digits, `.`, digits; no exponent) whose digits make an integer below 2^53, with at most 22 of them after
        // the point. The integer and the power of ten are then exact doubles and the division rounds correctly,
        // as `strtod` does. Anything else goes to `strtod`.
        let start = index
        var position = start
        let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let leadsWithDigit = position < bytes.count && bytes[position] &- UInt8(ascii: "0") < 10
        var significand: UInt64 = 0
        var digits = 0
        var fraction = -1
        while position < bytes.count {
            let byte = bytes[position]
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                significand = significand &* 10 &+ UInt64(digit)
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else if byte == UInt8(ascii: "."), fraction < 0 {
                fraction = 0
            } else {
                break
            }
            position += 1
        }
        if leadsWithDigit, digits <= 16, fraction != 0, fraction <= 22, significand < 1 << 53,
            position == bytes.count || !Self.isNumberByte(bytes[position])
        {
            index = position
            var value = Double(significand)
            if fraction > 0 { value /= Self.exactPowers[fraction] }
            return negative ? -value : value
        }
        let (from, end) = try numberBounds()
        let count = end - from
        return try withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { text in
            let base = text.baseAddress!
            UnsafeMutableRawPointer(base).copyMemory(from: bytes.baseAddress! + from, byteCount: count)
            base[count] = 0
            var stop: UnsafeMutablePointer<CChar>?
            let value = strtod(base, &stop)
            guard stop == base + count, value.isFinite else {
                throw Failure(message: "invalid number", offset: from)
            }
            return value
        }
    }

    /// An integer written without fraction or exponent, within Int64.
    package mutating func integer() throws -> Int64 {
        let (start, end) = try numberBounds()
        var position = start
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        guard position < end else { throw Failure(message: "invalid integer", offset: start) }
        var magnitude: UInt64 = 0
        while position < end {
            let digit = bytes[position] &- UInt8(ascii: "0")
            guard digit < 10 else { throw Failure(message: "expected an integer", offset: start) }
            let (times, overflowA) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times.addingReportingOverflow(UInt64(digit))
            guard !overflowA, !overflowB else { throw Failure(message: "integer out of range", offset: start) }
            magnitude = sum
            position += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else {
                throw Failure(message: "integer out of range", offset: start)
            }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw Failure(message: "integer out of range", offset: start) }
        return Int64(magnitude)
    }

    package mutating func int() throws -> Int { Int(try integer()) }

    /// A string that must be one of `T`'s raw values.
    package mutating func rawValue<T: RawRepresentable>(_ type: T.Type) throws -> T where T.RawValue == String {
        let start = index
        let text = try string()
        guard let value = T(rawValue: text) else {
            throw Failure(message: "'\(text)' is not a valid \(T.self)", offset: start)
        }
        return value
    }

    package mutating func optionalDouble() throws -> Double? { null() ? nil : try double() }
    package mutating func optionalInteger() throws -> Int64? { null() ? nil : try integer() }
    package mutating func optionalString() throws -> String? { null() ? nil : try string() }
    package mutating func optionalBool() throws -> Bool? { null() ? nil : try bool() }

    package mutating func doubles() throws -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(16)
        try beginArray()
        while try nextElement() { values.append(try double()) }
        return values
    }

    package mutating func strings() throws -> [String] {
        var values: [String] = []
        try beginArray()
        while try nextElement() { values.append(try string()) }
        return values
    }

    package mutating func array<T: JSONByteReadable>(of type: T.Type) throws -> [T] {
        var values: [T] = []
        try beginArray()
        while try nextElement() { values.append(try T(reading: &self)) }
        return values
    }

    /// A value of a type that does not read itself, through `JSONDecoder` on its bytes (for the rare parts of a
    /// record).
    package mutating func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        skipWhitespace()
        let start = index
        try skipValue()
        return try JSONDecoder().decode(T.self, from: Data(bytes[start..<index]))
    }

    /// Skips one value of any kind (an unknown key's).
    package mutating func skipValue() throws {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"):
            try beginObject()
            while try nextKey() != nil { try skipValue() }
        case UInt8(ascii: "["):
            try beginArray()
            while try nextElement() { try skipValue() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"):
            guard null() else { throw failure("expected a value") }
        default: _ = try double()
        }
    }

    // MARK: Private

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private func failure(_ message: String) -> Failure { Failure(message: message, offset: index) }

    private func matches(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func open(_ bracket: UInt8, _ what: String) throws {
        skipWhitespace()
        guard peek() == bracket else { throw failure("expected \(what)") }
        index += 1
        atStart = true
    }

    private mutating func nextItem(closing: UInt8) throws -> Bool {
        skipWhitespace()
        guard let byte = peek() else { throw failure("unexpected end of input") }
        if byte == closing {
            index += 1
            atStart = false
            return false
        }
        if atStart {
            atStart = false
            return true
        }
        guard byte == UInt8(ascii: ",") else {
            throw failure("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
        }
        index += 1
        skipWhitespace()
        guard let next = peek() else { throw failure("unexpected end of input") }
        // A comma before the closing bracket is allowed, as `JSONDecoder` allows it.
        if next == closing {
            index += 1
            return false
        }
        return true
    }

    /// The bounds of the number that comes next (its characters only; `double()` and `integer()` judge them).
    private mutating func numberBounds() throws -> (Int, Int) {
        skipWhitespace()
        let start = index
        let digit = start < bytes.count && bytes[start] == UInt8(ascii: "-") ? start + 1 : start
        guard digit < bytes.count, bytes[digit] &- UInt8(ascii: "0") < 10 else { throw failure("expected a number") }
        var end = start
        while end < bytes.count, Self.isNumberByte(bytes[end]) { end += 1 }
        index = end
        return (start, end)
    }

    /// A byte a JSON number may hold.
    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"):
            true
        default: false
        }
    }

    /// Powers of ten a double holds exactly.
    private static let exactPowers: [Double] = (0...22).map { power in
        var value = 1.0
        for _ in 0..<power { value *= 10 }
        return value
    }

    /// A string with escapes, from its first byte `start`; the bytes before `plainUntil` have none. Its end is
    /// found first, then it is unescaped into scratch room of that size (an escape never grows its text) with plain
    /// runs copied whole, and made a String once.
    private mutating func escapedString(from start: Int, plainUntil: Int) throws -> String {
        var end = plainUntil
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard end < bytes.count else { throw Failure(message: "unterminated string", offset: start - 1) }
        let string = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: end - start) { scratch in
            let base = scratch.baseAddress!
            var length = 0
            var high: UInt8 = 0
            var position = start
            while position < end {
                var run = position
                while run < end, bytes[run] != UInt8(ascii: "\\") {
                    guard bytes[run] >= 0x20 else {
                        throw Failure(message: "control character in a string", offset: run)
                    }
                    high |= bytes[run]
                    run += 1
                }
                UnsafeMutableRawPointer(base + length).copyMemory(
                    from: bytes.baseAddress! + position,
                    byteCount: run - position
                )
                length += run - position
                position = run
                guard position < end else { break }
                let escape = bytes[position + 1]
                position += 2
                func put(_ byte: UInt8) {
                    base[length] = byte
                    length += 1
                }
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): put(escape)
                case UInt8(ascii: "b"): put(0x08)
                case UInt8(ascii: "f"): put(0x0C)
                case UInt8(ascii: "n"): put(0x0A)
                case UInt8(ascii: "r"): put(0x0D)
                case UInt8(ascii: "t"): put(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4(at: position)
                    position += 4
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate needs its low one: `\uD83D\uDE00`.
                        guard position + 6 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
                            bytes[position + 1] == UInt8(ascii: "u")
                        else { throw Failure(message: "unpaired surrogate in a string", offset: position) }
                        let low = try hex4(at: position + 2)
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw Failure(message: "unpaired surrogate in a string", offset: position)
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        position += 6
                    }
                    guard let unicode = Unicode.Scalar(scalar) else {
                        throw Failure(message: "unpaired surrogate in a string", offset: position)
                    }
                    UTF8.encode(unicode) { put($0) }
                default: throw Failure(message: "invalid escape in a string", offset: position - 2)
                }
            }
            let text = UnsafeBufferPointer(start: base, count: length)
            // With no raw byte above 0x7F the text is valid as it is (escapes make valid UTF-8) and is made without
            // the generic validation; raw bytes above it are validated.
            if high < 0x80 { return String(decoding: text, as: UTF8.self) as String? }
            return String(validating: text, as: UTF8.self)
        }
        guard let string else { throw Failure(message: "invalid UTF-8 in a string", offset: start) }
        index = end + 1
        return string
    }

    private func hex4(at position: Int) throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw Failure(message: "torn \\u escape", offset: position) }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure(message: "invalid \\u escape", offset: position)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
