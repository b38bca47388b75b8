import ArenaCore
import Foundation

/// JSON that keeps object key order (a signed action's bytes depend on it), with integers kept exact.
package indirect enum OrderedJSON: Sendable {
    case object([(String, OrderedJSON)])
    case array([OrderedJSON])
    case string(String)
    case integer(String)
    case double(Double)
    case bool(Bool)
    case null

    package struct Failure: Error {}

    package func messagePack() throws -> MessagePackValue {
        switch self {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .string(let value): return .string(value)
        case .integer(let digits):
            if digits.hasPrefix("-") { return .int(try Int64(digits).unwrap()) }
            return .uint(try UInt64(digits).unwrap())
        case .double: throw Failure()
        case .array(let values): return .array(try values.map { try $0.messagePack() })
        case .object(let pairs): return .map(try pairs.map { ($0.0, try $0.1.messagePack()) })
        }
    }

    package struct Parser {
        package let bytes: [UInt8]
        package var index = 0

        package init(_ bytes: [UInt8]) { self.bytes = bytes }

        /// The byte at the cursor; the end of input inside a value is an error, never a crash.
        package func peek() throws -> UInt8 {
            guard index < bytes.count else { throw Failure() }
            return bytes[index]
        }

        /// Parses one value and requires that nothing but whitespace follows it.
        package mutating func parseDocument() throws -> OrderedJSON {
            let value = try parse()
            skipSpace()
            guard index == bytes.count else { throw Failure() }
            return value
        }

        package mutating func parse() throws -> OrderedJSON {
            skipSpace()
            switch try peek() {
            case UInt8(ascii: "{"):
                index += 1
                var pairs: [(String, OrderedJSON)] = []
                skipSpace()
                if try peek() == UInt8(ascii: "}") {
                    index += 1
                    return .object(pairs)
                }
                while true {
                    skipSpace()
                    guard case .string(let key) = try parse() else { throw Failure() }
                    skipSpace()
                    guard try peek() == UInt8(ascii: ":") else { throw Failure() }
                    index += 1
                    pairs.append((key, try parse()))
                    skipSpace()
                    if try peek() == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard try peek() == UInt8(ascii: "}") else { throw Failure() }
                    index += 1
                    return .object(pairs)
                }
            case UInt8(ascii: "["):
                index += 1
                var values: [OrderedJSON] = []
                skipSpace()
                if try peek() == UInt8(ascii: "]") {
                    index += 1
                    return .array(values)
                }
                while true {
                    values.append(try parse())
                    skipSpace()
                    if try peek() == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard try peek() == UInt8(ascii: "]") else { throw Failure() }
                    index += 1
                    return .array(values)
                }
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while try peek() != UInt8(ascii: "\"") {
                    if try peek() == UInt8(ascii: "\\") { index += 1 }
                    index += 1
                }
                index += 1
                // The system decoder handles the escapes of this one string.
                let raw = Data(bytes[start..<index])
                guard let text = try JSONSerialization.jsonObject(with: raw, options: .fragmentsAllowed) as? String
                else { throw Failure() }
                return .string(text)
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            default:
                let start = index
                while index < bytes.count, "-+0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
                guard index > start else { throw Failure() }
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                if text.contains(where: { ".eE".contains($0) }) { return .double(try Double(text).unwrap()) }
                return .integer(text)
            }
        }

        package mutating func expect(_ word: String) throws {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<(index + expected.count)]) == expected
            else { throw Failure() }
            index += expected.count
        }

        package mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }
    }
}

extension Optional {
    package func unwrap() throws -> Wrapped {
        guard let value = self else { throw OrderedJSON.Failure() }
        return value
    }
}
