import ArenaCore
import Foundation

/// The msgpack subset Hyperliquid actions use, written exactly as msgpack-python's `packb` does: maps in the
/// order given (the key order is part of the signature), the smallest integer width (the unsigned family for
/// values ≥ 0), str8 for 32–255 byte strings, no floats.
package indirect enum MessagePackValue: Equatable, Sendable {
    case map([(String, MessagePackValue)])
    case array([MessagePackValue])
    case string(String)
    case int(Int64)
    case uint(UInt64)
    case bool(Bool)
    case null

    package static func == (left: MessagePackValue, right: MessagePackValue) -> Bool {
        left.encoded() == right.encoded()
    }

    package func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    package func encode(into bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(0xC0)
        case .bool(let value): bytes.append(value ? 0xC3 : 0xC2)
        case .uint(let value): Self.encode(unsigned: value, into: &bytes)
        case .int(let value):
            if value >= 0 {
                Self.encode(unsigned: UInt64(value), into: &bytes)
            } else if value >= -32 {
                bytes.append(UInt8(bitPattern: Int8(value)))
            } else if value >= Int64(Int8.min) {
                bytes.append(0xD0)
                bytes.append(UInt8(bitPattern: Int8(value)))
            } else if value >= Int64(Int16.min) {
                bytes.append(0xD1)
                Self.append(UInt64(UInt16(bitPattern: Int16(value))), width: 2, to: &bytes)
            } else if value >= Int64(Int32.min) {
                bytes.append(0xD2)
                Self.append(UInt64(UInt32(bitPattern: Int32(value))), width: 4, to: &bytes)
            } else {
                bytes.append(0xD3)
                Self.append(UInt64(bitPattern: value), width: 8, to: &bytes)
            }
        case .string(let value):
            let utf8 = Array(value.utf8)
            switch utf8.count {
            case 0...31: bytes.append(0xA0 | UInt8(utf8.count))
            case 32...0xFF:
                bytes.append(0xD9)
                bytes.append(UInt8(utf8.count))
            case 0x100...0xFFFF:
                bytes.append(0xDA)
                Self.append(UInt64(utf8.count), width: 2, to: &bytes)
            default:
                bytes.append(0xDB)
                Self.append(UInt64(utf8.count), width: 4, to: &bytes)
            }
            bytes += utf8
        case .array(let values):
            Self.header(count: values.count, fix: 0x90, sixteen: 0xDC, thirtyTwo: 0xDD, into: &bytes)
            for value in values { value.encode(into: &bytes) }
        case .map(let pairs):
            Self.header(count: pairs.count, fix: 0x80, sixteen: 0xDE, thirtyTwo: 0xDF, into: &bytes)
            for (key, value) in pairs {
                MessagePackValue.string(key).encode(into: &bytes)
                value.encode(into: &bytes)
            }
        }
    }

    private static func encode(unsigned value: UInt64, into bytes: inout [UInt8]) {
        switch value {
        case 0...0x7F: bytes.append(UInt8(value))
        case 0x80...0xFF:
            bytes.append(0xCC)
            bytes.append(UInt8(value))
        case 0x100...0xFFFF:
            bytes.append(0xCD)
            append(value, width: 2, to: &bytes)
        case 0x1_0000...0xFFFF_FFFF:
            bytes.append(0xCE)
            append(value, width: 4, to: &bytes)
        default:
            bytes.append(0xCF)
            append(value, width: 8, to: &bytes)
        }
    }

    private static func header(count: Int, fix: UInt8, sixteen: UInt8, thirtyTwo: UInt8, into bytes: inout [UInt8]) {
        if count <= 15 {
            bytes.append(fix | UInt8(count))
        } else if count <= 0xFFFF {
            bytes.append(sixteen)
            append(UInt64(count), width: 2, to: &bytes)
        } else {
            bytes.append(thirtyTwo)
            append(UInt64(count), width: 4, to: &bytes)
        }
    }

    private static func append(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Compact JSON in the same key order (the request body's `action` must be the object that was hashed).
    package var json: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .uint(let value): return String(value)
        case .string(let value): return Self.quoted(value)
        case .array(let values): return "[" + values.map(\.json).joined(separator: ",") + "]"
        case .map(let pairs):
            return "{" + pairs.map { Self.quoted($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        }
    }

    package static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
