import Foundation
import Testing

@testable import Shared

@Suite("JSON read from bytes")
struct JSONByteReaderTests {
    static func read<T>(_ text: String, _ body: (inout JSONByteReader) throws -> T) throws -> T {
        try Data(text.utf8).withUnsafeBytes { bytes in
            var reader = JSONByteReader(bytes)
            let value = try body(&reader)
            try reader.finish()
            return value
        }
    }

    /// Every number reads as `strtod` reads it (Swift's `Double(String)`), whether it takes the exact one-division
    /// path (plain decimals of up to 16 digits) or `strtod` itself: random digit strings with the point anywhere,
    /// up to 19 digits, with and without exponents, and the shortest texts of random doubles.
    @Test func numbers_readAsStrtodReadsThem() throws {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var texts = ["0", "-0", "1", "0.5", "-0.000001", "9007199254740993", "9007199254740992.5", "1.0", "100"]
        for _ in 0..<40_000 {
            let digits = 1 + Int(next() % 19)
            var text = String((0..<digits).map { _ in Character(String(next() % 10)) })
            let point = Int(next() % UInt64(digits + 1))
            if point > 0, point < digits { text.insert(".", at: text.index(text.startIndex, offsetBy: point)) }
            while text.count > 1, text.first == "0", text.dropFirst().first != "." { text.removeFirst() }
            if next() % 2 == 0 { text = "-" + text }
            if next() % 5 == 0 { text += "e\(Int(next() % 40) - 20)" }
            texts.append(text)
            texts.append("\(Double(bitPattern: next() & 0x7FEF_FFFF_FFFF_FFFF))")
        }
        var compared = 0
        for text in texts {
            let expected = try #require(Double(text), "\(text)")
            let value = try Self.read(text) { try $0.double() }
            #expect(value.bitPattern == expected.bitPattern, "\(text)")
            compared += 1
        }
        #expect(compared == texts.count)
    }

    @Test func integers_areExact_andRefusedOutOfRangeOrWithAFraction() throws {
        for value: Int64 in [0, -1, 7, Int64.max, Int64.min, 1_700_000_000_000] {
            #expect(try Self.read("\(value)") { try $0.integer() } == value)
        }
        for bad in ["9223372036854775808", "-9223372036854775809", "1.5", "1e3", "-", "+1", "x"] {
            #expect(throws: JSONByteReader.Failure.self, "\(bad)") { try Self.read(bad) { try $0.integer() } }
        }
    }

    @Test func malformedNumbers_areRefused() {
        for bad in [".5", "-.5", "1.2.3", "--1", "1e", "-", "+1", "0x10", "1e999", "NaN"] {
            #expect(throws: JSONByteReader.Failure.self, "\(bad)") { try Self.read(bad) { try $0.double() } }
        }
    }

    /// Keys match the literals of a `switch` by their bytes, and by their decoded text when escaped.
    @Test func keys_matchLiterals_escapedOrNot_andUnknownValuesAreSkipped() throws {
        let text = #"{"skip":{"a":[1,{"b":"\"}"}],"c":null},"sym\u0062ol":"BTC" , "n" : -2.5e-3,"t":true}"#
        let (symbol, number, flag) = try Self.read(text) { reader -> (String?, Double?, Bool?) in
            var symbol: String?
            var number: Double?
            var flag: Bool?
            try reader.beginObject()
            while let key = try reader.nextKey() {
                switch key {
                case "symbol": symbol = try reader.string()
                case "n": number = try reader.double()
                case "t": flag = try reader.bool()
                default: try reader.skipValue()
                }
            }
            return (symbol, number, flag)
        }
        #expect(symbol == "BTC")
        #expect(number == -0.0025)
        #expect(flag == true)
    }
}
