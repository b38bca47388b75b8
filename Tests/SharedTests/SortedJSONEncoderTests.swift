import Foundation
import Testing

@testable import Shared

/// `SortedJSONEncoder` against Foundation's `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`): the same
/// bytes for every shape the journal and the snapshots use.
@Suite("Sorted JSON encoder, byte for byte against JSONEncoder")
struct SortedJSONEncoderTests {
    static func foundation<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func same<T: Encodable>(_ value: T, _ comment: Comment? = nil) throws {
        let expected = try foundation(value)
        let actual = try SortedJSONEncoder().encode(value)
        #expect(
            actual == expected,
            "\(String(decoding: actual, as: UTF8.self)) vs \(String(decoding: expected, as: UTF8.self))"
        )
    }

    struct Inner: Codable {
        var name: String
        var values: [Double]
        var flag: Bool?
        var count: Int64
    }

    struct Outer: Codable {
        enum Kind: String, Codable {
            case first = "first_kind"
            case second
        }
        enum CodingKeys: String, CodingKey {
            case id, inner, kind
            case byName = "by_name"
            case optional = "optional_value"
            case nested, list
        }
        var id: Int
        var inner: Inner
        var kind: Kind
        var byName: [String: Inner]
        var optional: String?
        var nested: [[Double]]
        var list: [Inner?]
    }

    @Test func numbers_asFoundationWritesThem() throws {
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1.25e-05, 1e-7, 3e-5, 0.000123, 2.5, 100_000, 100_020.000_000_000_01, 1e15,
            1e16, 1e21, 1e22, 123_456_789_012_345_680, 99_999_999_999_999.9, .leastNonzeroMagnitude,
            .greatestFiniteMagnitude, .pi, 1.0 / 3.0, 4.5e-4, 0.00045, 121_334.261_999_999_99,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            values.append(Double(bitPattern: generator.next()))
            values.append(Double.random(in: -1e6...1e6))
            values.append((Double.random(in: 0...200_000) * 100).rounded() / 100)
        }
        try Self.same(values.filter(\.isFinite))
        try Self.same([Int.min, Int.max, 0, -5] as [Int])
        try Self.same([Int64.min, Int64.max] as [Int64])
        try Self.same([Float(0.1), 1.5, -2] as [Float])
        #expect(throws: EncodingError.self) { try SortedJSONEncoder().encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try SortedJSONEncoder().encode([Double.infinity]) }
    }

    /// A series that writes itself, as a market snapshot's do.
    struct Window: Encodable, SortedJSONWritable {
        var last: Double
        var values: [Double]

        func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
            writer.beginObject()
            writer.key("last", first: true)
            try writer.double(last)
            writer.key("values")
            try writer.doubles(values)
            writer.endObject()
        }
    }

    /// Doubles met again are copied from the encoder's cache: the same bytes as formatting them, through
    /// windows sliding over a series (most values repeat), evictions (far more values than slots) and the edge
    /// values; integral values and `-0` never go through it.
    @Test func numbersSeenBefore_areCopied_withTheSameBytes() throws {
        var generator = SystemRandomNumberGenerator()
        var series: [Double] = [
            -0.0, 0, 1e15, 1e16, 1e21, 1e22, 123_456_789_012_345_680, 99_999_999_999_999.9, .leastNonzeroMagnitude,
            .greatestFiniteMagnitude, -.greatestFiniteMagnitude, -2.2250738585072014e-308, .pi, 1.0 / 3.0, 0.00045,
        ]
        for _ in 0..<12_000 {
            let value = Double(bitPattern: generator.next())
            series.append(value.isFinite ? value : 0.1)
            series.append(Double.random(in: -120_000...120_000))
        }
        let numbers = DoubleTextCache()
        let encoder = SortedJSONEncoder()
        for start in stride(from: 0, to: series.count - 10, by: 3) {
            let window = Window(last: series[start + 9], values: Array(series[start..<start + 10]))
            let expected = try Self.foundation(window)
            let actual = try encoder.encode(window, numbers: numbers)
            #expect(actual == expected, "\(String(decoding: actual, as: UTF8.self))")
            if actual != expected { break }
        }
        // Most values were copied (each is met in several windows).
        #expect(numbers.hits > series.count)
    }

    @Test func strings_escapedAsFoundationEscapesThem() throws {
        var text = ""
        for scalar in 0..<0x80 { text.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        try Self.same([text, "a/b\\c\"d", "é ü 中文 🚀", "\u{2028}\u{2029}\u{7F}", ""])
        try Self.same(["key/with\"quote": 1, "é": 2, "\n": 3])
    }

    /// Strings are scanned sixteen bytes at a time: every character that needs an escape (and some that do not:
    /// DEL, `/`, `!`, `#`, `]`, multi-byte characters whose bytes sit near the tested values) at every offset
    /// of a block, in runs long enough to span several blocks, alone and next to another.
    @Test func strings_escapedAtEveryOffsetOfAWord() throws {
        let specials: [String] = [
            "\"", "\\", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "/", "!", "#", "]", "é", "中", "🚀",
        ]
        var texts: [String] = []
        for length in 0..<40 {
            let plain = String(repeating: "a", count: length)
            texts.append(plain)
            for special in specials {
                for position in 0...length {
                    var text = plain
                    text.insert(contentsOf: special, at: text.index(text.startIndex, offsetBy: position))
                    texts.append(text)
                    texts.append(text + special + plain)
                }
            }
        }
        try Self.same(texts)
    }

    /// `encodeEscapingSlashes` is `JSONEncoder` with `.sortedKeys` alone (what baseline answers were written with).
    @Test func escapingSlashes_isSortedKeysAlone() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = ""
        for scalar in 0..<0x80 { text.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        let value: [String: [String: String]] = [
            "decisions/x": ["a/b": "4h EMA20/EMA50 cross", "plain": text, "none": "", "many": "///\\/"]
        ]
        let actual = try SortedJSONEncoder().encodeEscapingSlashes(value)
        #expect(actual == (try encoder.encode(value)))
        #expect(String(decoding: actual, as: UTF8.self).contains(#"EMA20\/EMA50"#))
    }

    /// The rebalance log's lines and the Redis generation header (and the Postgres rows and Redis values, through
    /// the same call) are written by `encodeEscapingSlashes`: `JSONEncoder`'s `.sortedKeys` bytes, as before.
    @Test func rebalanceLinesAndTheRedisHeader_areSortedKeysBytes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let move = RebalancesDocument.Move(
            modelID: "ema/cross-2",
            equityBefore: 10_023.456789,
            amountUSD: -0.1 - 0.2,
            targetPct: 33.333333333333336,
            score: 1e-7,
            sharpe: -2.5,
            drawdownPct: 0,
            utilisationPct: 12.5,
            marginUsed: 1e21
        )
        let rebalance = RebalancesDocument.Rebalance(
            id: 7,
            timestamp: 1_752_830_100_000,
            poolUSD: 30_000.000000000004,
            moves: [move, move],
            skipped: [.init(modelID: "live/1", reason: "a live venue")]
        )
        #expect(try SortedJSONEncoder().encodeEscapingSlashes(rebalance) == encoder.encode(rebalance))
        #expect(String(decoding: try encoder.encode(rebalance), as: UTF8.self).contains(#"ema\/cross-2"#))
        let header = RedisGenerationHeader(generation: 12, publishedAt: 1_752_830_100_000, documents: ["a/b", "c"])
        #expect(header.encoded == String(decoding: try encoder.encode(header), as: UTF8.self))
    }

    /// A key encoded twice keeps its last value, wherever it stands; objects of one shape with different keys
    /// present (optionals) each get their own order, also when one encoder has seen the shape before.
    struct Twice: Encodable {
        enum Keys: String, CodingKey { case b, a, c }
        var withC: Bool
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .b)
            try container.encode("first", forKey: .a)
            if withC { try container.encode([1.5], forKey: .c) }
            try container.encode("last", forKey: .a)
        }
    }

    struct Sometimes: Codable {
        var z: Int?
        var m: String?
        var a: Double?
    }

    @Test func repeatedKeysAndShapes_asFoundationWritesThem() throws {
        let encoder = SortedJSONEncoder()
        let values: [[Sometimes]] = [
            [.init(z: 1, m: "x", a: 2.5), .init(z: nil, m: "y", a: nil), .init(z: 3, m: nil, a: 0.5)],
            [.init(z: nil, m: nil, a: nil), .init(z: 9, m: "q", a: 1)],
        ]
        for value in values {
            #expect(try encoder.encode(value) == (try Self.foundation(value)))
        }
        for twice in [Twice(withC: true), Twice(withC: false), Twice(withC: true)] {
            #expect(try encoder.encode(twice) == (try Self.foundation(twice)))
            #expect(try encoder.encode([twice, twice]) == (try Self.foundation([twice, twice])))
        }
        let many = Dictionary(uniqueKeysWithValues: (0..<40).map { ("k\($0 * 7 % 40)", $0) })
        for _ in 0..<3 { #expect(try encoder.encode(many) == (try Self.foundation(many))) }
    }

    @Test func keys_sortedByTheirBytes_atEveryLevel() throws {
        try Self.same([
            "rsi7": 1, "rsi14": 2, "a_b": 3, "aB": 4, "Zed": 5, "zed": 6, "b": 7, "B": 8, "é": 9, "_x": 10, "x01": 11,
            "x1": 12,
        ])
        let inner = Inner(name: "n", values: [1, 2.5, -0.0], flag: nil, count: 42)
        let outer = Outer(
            id: 7,
            inner: inner,
            kind: .first,
            byName: ["zz": inner, "aa": Inner(name: "m", values: [], flag: true, count: -1)],
            optional: nil,
            nested: [[], [1e-9, 3]],
            list: [inner, nil]
        )
        try Self.same(outer)
        try Self.same([outer, outer])
        try Self.same(["data": Data([1, 2, 3, 250])])
        try Self.same(Optional<Int>.none)
        try Self.same([String: [String: Double]]())
    }
}
