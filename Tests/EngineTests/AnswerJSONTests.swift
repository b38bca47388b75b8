import EngineTestSupport
import Foundation
import Testing

@testable import ArenaCore

/// The answer reader accepts exactly what JSONSerialization accepts, with the same values: whatever it reads
/// itself must equal JSONSerialization's value, and whatever JSONSerialization refuses it must decline.
@Suite struct AnswerJSONTests {
    /// Checks one text; returns whether the fast reader read it itself.
    @discardableResult
    static func check(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let bytes = ArraySlice(Array(text.utf8))
        guard let fast = AnswerJSON.parse(bytes) else { return false }
        let reference = AnswerJSON.foundation(bytes)
        #expect(fast == reference, "\(text)", sourceLocation: sourceLocation)
        return true
    }

    @Test func corpus_readsTheCommonCase_andDeclinesTheRest() {
        let read = [
            #"{"decisions":[{"symbol":"BTC","signal":"buy_to_enter","leverage":5,"position_size_usd":2000.0,"stop_loss":98000,"take_profit":104000.5,"confidence":0.72,"risk_usd":40,"invalidation_condition":"close < 4h EMA/20","reasoning":"a \"quoted\" \\ reason\nline two\t/ü → 中文"}]}"#,
            "{ \"decisions\" : [ ] }\n",
            #"{"a":-0,"b":-0.0,"c":1E2,"d":1e-7,"e":123456789012345678,"f":0.1,"g":true,"h":false,"i":null,"j":[[],{}]}"#,
            #"{"x":9007199254740993,"y":-9223372036854775808,"z":123456789012.345,"w":1.5e-21}"#,
        ]
        for text in read { #expect(Self.check(text), "\(text)") }
        let declined = [
            #"{"a":"\u00e9"}"#,  // \u escapes: JSONSerialization's
            #"{"a":1,"a":2}"#,  // a repeated key
            #"{"a":92233720368547758070}"#,  // beyond 64 bits
            #"{"a":1e400}"#, #"{"a":1e-400}"#,  // beyond a Double
            // More than 15 significant digits, or a power of ten beyond 10^±22: JSONSerialization's reading of
            // these is not always the nearest Double (this test found it), so it decides them.
            #"{"a":123456789.123456789}"#, #"{"a":1.7976931348623157e308}"#, #"{"a":4.9e-324}"#, #"{"a":1e23}"#,
            #"{"a":01}"#, #"{"a":.5}"#, #"{"a":1.}"#, #"{"a":+1}"#, #"{"a":NaN}"#, #"{"a":1,}"#, #"{'a':1}"#,
            "{\"a\":\"tab\there\"}", #"{"a":"\x"}"#, #"{"a":tru}"#, #"{"a" 1}"#, #"{"a":[1 2]}"#, #"{"a":1} x"#,
            #"{"a":1 // comment"#, "{\"a\":\"unterminated}",
        ]
        for text in declined {
            #expect(AnswerJSON.parse(ArraySlice(Array(text.utf8))) == nil, "\(text)")
        }
    }

    @Test func randomAndMutatedTexts_agreeWithJSONSerialization() {
        var random = SeededRandom(seed: 17)
        let strings = ["", "BTC", "buy_to_enter", "a \\\"q\\\" \\\\ b\\n\\t\\/", "ü → 中文", "\\u0041", "{x}", "[1,2]"]
        let numbers = [
            "0", "-0", "1", "-1", "0.5", "-0.25", "1e3", "1E-3", "2.5e+10", "123456789.123456789", "0.1",
            "9007199254740993", "1e308", "1e309", "5e-324", "1e-330", "00", "1.", ".1", "-", "1e",
        ]
        func value(_ depth: Int) -> String {
            switch random.int(below: depth > 2 ? 5 : 7) {
            case 0: return numbers[random.int(below: numbers.count)]
            case 1: return "\"\(strings[random.int(below: strings.count)])\""
            case 2: return ["true", "false", "null"][random.int(below: 3)]
            case 3, 4: return numbers[random.int(below: 11)]
            case 5:
                return "[" + (0..<random.int(below: 4)).map { _ in value(depth + 1) }.joined(separator: ",") + "]"
            default:
                let keys = ["symbol", "signal", "confidence", "a", "b", "symbol"]
                return "{"
                    + (0..<random.int(below: 4)).map { _ in
                        "\"\(keys[random.int(below: keys.count)])\"\(space()):\(space())\(value(depth + 1))"
                    }.joined(separator: ",\(space())") + "}"
            }
        }
        func space() -> String { ["", "", " ", "\n", "\t ", "\r\n"][random.int(below: 6)] }
        let noise: [UInt8] = Array(#"{}[],:"\ 0123456789eE.+-tfnu"#.utf8)
        var read = 0
        var valid = 0
        for _ in 0..<3000 {
            let text = "{\"decisions\":\(space())\(value(0))}"
            if AnswerJSON.foundation(ArraySlice(Array(text.utf8))) != nil { valid += 1 }
            if Self.check(text) { read += 1 }
            // The same text with one byte deleted, inserted or replaced.
            var bytes = Array(text.utf8)
            let position = random.int(below: bytes.count)
            switch random.int(below: 3) {
            case 0: bytes.remove(at: position)
            case 1: bytes.insert(noise[random.int(below: noise.count)], at: position)
            default: bytes[position] = noise[random.int(below: noise.count)]
            }
            Self.check(String(decoding: bytes, as: UTF8.self))
        }
        // The reader must carry the common case, not decline its way to agreement.
        #expect(valid > 1000)
        #expect(Double(read) > 0.6 * Double(valid), "read \(read) of \(valid) valid texts")
    }

    /// Numbers are computed while their digits are read (one exact multiplication or division): bit for bit the
    /// nearest Double, as `strtod` reads the text, the sign of a zero included, across the digits, points and
    /// exponents the reader takes itself.
    @Test func numbers_areTheNearestDouble_bitForBit() {
        var random = SeededRandom(seed: 29)
        var checked = 0
        for _ in 0..<20_000 {
            let digits = String(
                (0..<(1 + random.int(below: 15))).map { _ in
                    Character(String(random.int(below: 10)))
                }
            )
            var text = random.int(below: 2) == 0 ? "-" : ""
            let point = random.int(below: digits.count + 1)
            var integer = String(digits.prefix(point))
            let fraction = String(digits.dropFirst(point))
            // JSON: no leading zero before other digits.
            while integer.count > 1, integer.hasPrefix("0") { integer.removeFirst() }
            text += integer.isEmpty ? "0" : integer
            if !fraction.isEmpty, random.int(below: 4) != 0 { text += "." + fraction }
            if random.int(below: 3) == 0 {
                text += ["e", "E", "e+", "e-", "E-"][random.int(below: 5)] + String(random.int(below: 23))
            }
            let bytes = ArraySlice(Array("{\"a\":\(text)}".utf8))
            guard case .object(let object) = AnswerJSON.parse(bytes), case .number(let value) = object["a"] else {
                continue  // declined (beyond 10^±22 after the point moves): JSONSerialization decides
            }
            checked += 1
            // An integer is a 64-bit integer converted (so "-0" is 0), as JSONSerialization reads it.
            let isInteger = !text.contains { ".eE".contains($0) }
            let nearest = isInteger ? Double(Int64(text)!) : Double(text)!
            #expect(value.bitPattern == nearest.bitPattern, "\(text): \(value) against \(nearest)")
            // Not compared with JSONSerialization: its reading is not always the nearest Double even within 15
            // digits (85169.216309362 reads as 85169.21630936202), which the earlier reader (`strtod`) did not
            // follow either; both of the parser's paths give `strtod`'s value here.
        }
        #expect(checked > 15_000)
        // Integers as 64-bit integers converted, 19 digits and the sign of zero included.
        for text in ["-0", "0", "123456789012345678", "-922337203685477580", "9223372036854775807", "-0.0", "0e5"] {
            guard case .object(let object) = AnswerJSON.parse(ArraySlice(Array("{\"a\":\(text)}".utf8))),
                case .number(let value) = object["a"]
            else {
                Issue.record("\(text) declined")
                continue
            }
            let expected = text.contains(".") || text.contains("e") ? Double(text)! : Double(Int64(text)!)
            #expect(value.bitPattern == expected.bitPattern, "\(text)")
        }
    }
}
