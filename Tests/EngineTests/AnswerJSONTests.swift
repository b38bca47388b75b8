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
}
