import ArenaTestSupport
import Foundation
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine
@testable import Shared

@Suite("Decision parsing")
struct DecisionParserTests {
    static let entry =
        #"{"symbol":"BTC","signal":"buy_to_enter","leverage":5,"position_size_usd":1000,"stop_loss":95,"take_profit":120,"confidence":0.7,"risk_usd":50,"invalidation_condition":"4h close below 90","reasoning":"trend"}"#

    @Test func parsesAPlainAnswer() throws {
        let decisions = try DecisionParser.parse(
            #"{"decisions":[\#(Self.entry),{"symbol":"ETH","signal":"hold","confidence":0.5}]}"#
        )
        #expect(decisions.count == 2)
        #expect(
            decisions[0]
                == Decision(
                    symbol: "BTC",
                    signal: .buyToEnter,
                    leverage: 5,
                    positionSizeUSD: 1000,
                    stopLoss: 95,
                    takeProfit: 120,
                    confidence: 0.7,
                    riskUSD: 50,
                    invalidationCondition: "4h close below 90",
                    reasoning: "trend"
                )
        )
        #expect(decisions[1].signal == .hold)
    }

    @Test func toleratesProseAndCodeFences() throws {
        let fenced = "Here is my plan.\n```json\n{\"decisions\":[\(Self.entry)]}\n```\nGood luck {not json}"
        #expect(try DecisionParser.parse(fenced).count == 1)
        let prose =
            "I think {\"decisions\":[{\"symbol\":\"SOL\",\"signal\":\"close_position\",\"confidence\":1,\"reasoning\":\"brace } in text\"}]} done."
        #expect(try DecisionParser.parse(prose).first?.signal == .closePosition)
    }

    @Test(arguments: [
        ("not json at all", "no JSON object"),
        ("{\"decisions\": [", "no JSON object"),
        ("{\"decisions\": {}}", "'decisions' must be a list"),
        ("{\"decisions\": [], \"extra\": 1}", "unexpected top-level keys: extra"),
        ("{}", "'decisions' must be a list"),
        (
            "{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":0.5,\"stop_loss\":-1}]}",
            "decisions[0].stop_loss: must be a number above 0"
        ),
        (
            "{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":0.5,\"risk_usd\":-1}]}",
            "decisions[0].risk_usd: must be ≥ 0"
        ),
        (
            "{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":0.5,\"reasoning\":\"\(String(repeating: "a", count: 4001))\"}]}",
            "decisions[0].reasoning: must be text of at most 4000 characters"
        ),
        (
            "{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":0.5,\"reasoning\":\"\(String(repeating: "é", count: 4001))\"}]}",
            "decisions[0].reasoning: must be text of at most 4000 characters"
        ),
        (
            "{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"buy_to_enter\",\"confidence\":0.9,\"leverage\":2}]}",
            "decisions[0].position_size_usd: required for buy_to_enter"
        ),
        ("{\"decisions\":[{\"symbol\":\"btc\",\"signal\":\"hold\",\"confidence\":0.5}]}", "symbol"),
        ("{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"buy\",\"confidence\":0.5}]}", "signal"),
        ("{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":70}]}", "confidence"),
        ("{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":true}]}", "confidence"),
        (
            "{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"buy_to_enter\",\"confidence\":0.9}]}",
            "required for buy_to_enter"
        ),
        ("{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":0.5,\"leverage\":2.5}]}", "leverage"),
        (
            "{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":0.5,\"size\":3}]}",
            "unexpected keys: size"
        ),
        (
            "{\"decisions\":[{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":0.5},{\"symbol\":\"BTC\",\"signal\":\"hold\",\"confidence\":0.5}]}",
            "second decision for BTC"
        ),
        // Symbols are ASCII [A-Z0-9]: no other script's digits or letters.
        ("{\"decisions\":[{\"symbol\":\"BTC\u{0663}\",\"signal\":\"hold\",\"confidence\":0.5}]}", "symbol"),
        ("{\"decisions\":[{\"symbol\":\"\u{FF22}TC\",\"signal\":\"hold\",\"confidence\":0.5}]}", "symbol"),
        ("{\"decisions\":[{\"symbol\":\"ÉTH\",\"signal\":\"hold\",\"confidence\":0.5}]}", "symbol"),
    ])
    func rejects(answer: String, expected: String) {
        do {
            let decisions = try DecisionParser.parse(answer)
            Issue.record("accepted \(decisions)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    /// More than one candidate object is ambiguous: the engine does not trade the first one it finds.
    @Test(arguments: [
        // Two code fences.
        "```json\n{\"decisions\":[]}\n```\nOr rather:\n```json\n{\"decisions\":[\(DecisionParserTests.entry)]}\n```",
        // An example object, then the real one.
        "The format is {\"decisions\":[{\"symbol\":\"ETH\",\"signal\":\"hold\",\"confidence\":0.5}]}. Mine: {\"decisions\":[\(DecisionParserTests.entry)]}",
        // An example item outside the answer.
        "e.g. {\"symbol\":\"BTC\"} -> {\"decisions\":[]}",
    ])
    func moreThanOneJSONObject_isAmbiguous(answer: String) {
        do {
            let decisions = try DecisionParser.parse(answer)
            Issue.record("accepted \(decisions)")
        } catch {
            #expect(error.message.contains("ambiguous"), "\(error.message)")
        }
    }

    /// The limit on texts is 4,000 characters, not bytes: 4,000 two-byte or four-byte characters pass.
    @Test func textOf4000Characters_isAccepted_whateverItsBytes() throws {
        for character in ["a", "é", "😀"] {
            let text = String(repeating: character, count: 4000)
            let answer = #"{"decisions":[{"symbol":"BTC","signal":"hold","confidence":0.5,"reasoning":"\#(text)"}]}"#
            #expect(try DecisionParser.parse(answer).first?.reasoning == text)
        }
    }

    @Test func oneInvalidItem_rejectsTheWholeAnswer() {
        let answer = #"{"decisions":[\#(Self.entry),{"symbol":"ETH","signal":"sell_to_enter","confidence":0.9}]}"#
        #expect(throws: DecisionParser.Failure.self) { try DecisionParser.parse(answer) }
    }

    /// The Swift contract and schemas/decision.schema.json must say the same thing.
    @Test func schemaFile_agreesWithTheParser() throws {
        let data = try Data(contentsOf: TestPaths.packageRoot.appendingPathComponent("schemas/decision.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let items = try #require(
            ((schema["properties"] as? [String: Any])?["decisions"] as? [String: Any])?["items"] as? [String: Any]
        )
        let properties = try #require(items["properties"] as? [String: Any])
        #expect(Set(properties.keys) == DecisionParser.itemKeys)
        let signals = try #require((properties["signal"] as? [String: Any])?["enum"] as? [String])
        #expect(Set(signals) == Set(Decision.Signal.allCases.map(\.rawValue)))
        let then = try #require((items["then"] as? [String: Any])?["required"] as? [String])
        #expect(Set(then) == Set(DecisionParser.entryKeys))
        #expect(Set(items["required"] as? [String] ?? []) == ["symbol", "signal", "confidence"])
    }

    /// The direct reading of the common answer (no dictionaries) gives what the general reading gives — the same
    /// decisions, or the same refusal — on random answers (valid and not: keys missing, repeated or unknown, values
    /// out of range or of the wrong type, escapes, whitespace, prose around) and on each with one byte changed.
    @Test func directReading_agreesWithTheGeneralReading() {
        var random = SeededRandom(seed: 41)
        func pick(_ values: [String]) -> String { values[random.int(below: values.count)] }
        func space() -> String { pick(["", "", "", " ", "\n", "\t ", "\r\n"]) }
        // Each key's valid values, then values the parser refuses.
        let values: [String: (valid: [String], invalid: [String])] = [
            "symbol": ([#""BTC""#, #""ETH""#, #""SOL""#], [#""btc""#, #""""#, "7", #""B\/TC""#, "null"]),
            "signal": ([#""buy_to_enter""#, #""sell_to_enter""#, #""hold""#, #""close_position""#], [#""buy""#, "1"]),
            "confidence": (["0.7", "1", "0", "1e-1"], ["1.5", "-0.1", #""0.5""#, "null"]),
            "leverage": (["5", "1", "3e0", "null"], ["0", "2.5", "1001"]),
            "position_size_usd": (["1000", "250.5", "null"], ["0", "-5", "true"]),
            "stop_loss": (["95", "82408.25", "null"], ["0", "[]"]),
            "take_profit": (["120", "0.0001", "null"], ["-1", "{}"]),
            "risk_usd": (["50", "0", "5.4", "null"], ["-1"]),
            "invalidation_condition": (
                [#""4h EMA20\/EMA50 cross""#, #""a \"q\" \\ b\n""#, "null"], [#""\u00e9""#, "1"]
            ),
            "reasoning": ([#""trend""#, #""ü → 中文""#, #""brace } in text""#, "null"], ["false"]),
        ]
        let keys = values.keys.sorted() + ["extra", "symbol"]
        func item() -> String {
            var chosen = ["symbol", "signal", "confidence"].filter { _ in random.int(below: 30) > 0 }
            for key in keys where random.int(below: key == "extra" || key == "symbol" ? 30 : 2) == 0 {
                chosen.append(key)
            }
            if random.int(below: 3) == 0 { chosen.shuffle(using: &random) }
            return "{"
                + chosen.map { key in
                    let value = values[key].map { random.int(below: 8) > 0 ? pick($0.valid) : pick($0.invalid) } ?? "1"
                    return "\(space())\"\(key)\"\(space()):\(space())\(value)\(space())"
                }.joined(separator: ",") + "}"
        }
        var direct = 0
        var accepted = 0
        for round in 0..<4000 {
            let items = (0..<random.int(below: 4)).map { _ in item() }
            var text =
                "\(space()){\(space())\"decisions\"\(space()):\(space())[\(items.joined(separator: ",\(space())"))]}\(space())"
            if random.int(below: 10) == 0 { text = pick(["Here: ", "```json\n", "{}"]) + text }
            if random.int(below: 10) == 0 { text += pick([" ok", "\n```", "{\"decisions\":[]}"]) }
            var variants = [text]
            var bytes = Array(text.utf8)
            let position = random.int(below: bytes.count)
            let noise = Array(#"{}[],:"\ 0123456789eE.+-tfnu"#.utf8)
            switch round % 3 {
            case 0: bytes.remove(at: position)
            case 1: bytes.insert(noise[random.int(below: noise.count)], at: position)
            default: bytes[position] = noise[random.int(below: noise.count)]
            }
            if let mutated = String(validating: bytes, as: UTF8.self) { variants.append(mutated) }
            for variant in variants {
                let general = Result { () throws(DecisionParser.Failure) in try DecisionParser.parseGeneral(variant) }
                let both = Result { () throws(DecisionParser.Failure) in try DecisionParser.parse(variant) }
                #expect(both == general, "\(variant)")
                var copy = variant
                if copy.withUTF8(DecisionParser.parseDirect) != nil { direct += 1 }
                if case .success = general { accepted += 1 }
            }
        }
        // Both readings were exercised: most accepted answers are read directly, and many answers are refused.
        #expect(direct > 600 && accepted > direct && accepted < 6000, "direct \(direct), accepted \(accepted)")
    }
}

extension DecisionParserTests {
    /// An in-process policy's decisions put through the parser's rules (`reread`) give what parsing its answer's
    /// text gives, to the byte once encoded — or nil, and then the text is parsed: never accepted where the text
    /// would be refused. Random decisions with every field valid, invalid, absent, or awkward (any finite
    /// magnitude, integers past 2^53, negative zero, NaN, escapes, long texts, repeated symbols).
    @Test func reread_givesWhatParsingTheAnswerGives() throws {
        var random = SeededRandom(seed: 7)
        func pick<T>(_ values: [T]) -> T { values[random.int(below: values.count)] }
        func number() -> Double {
            switch random.int(below: 6) {
            case 0: return Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF)
            case 1: return Double(random.int(below: 1_000_000)) / 100
            case 2: return pick([0, -0.0, -1, .nan, 0x1p53 + 2, 1e300, .leastNonzeroMagnitude, 0.1 + 0.2])
            default: return Double(random.next() % 100_000_000) * pick([1e-8, 1e-3, 1, 1e3])
            }
        }
        func maybe<T>(_ make: () -> T) -> T? { random.int(below: 4) == 0 ? nil : make() }
        func text() -> String {
            pick([
                "4h EMA20/EMA50 cross", "a \"q\" \\ b\n\t\u{1}", "ü → 中文", "e\u{301}", "", "ema_cross",
                String(repeating: "x", count: 4001), String(repeating: "é", count: 4000),
            ])
        }
        var reread = 0
        var refused = 0
        for _ in 0..<20_000 {
            let decisions = (0..<random.int(below: 5)).map { _ in
                Decision(
                    symbol: pick(["BTC", "ETH", "SOL", "DOGE", "btc", "", "B/TC"]),
                    signal: pick(Decision.Signal.allCases),
                    leverage: maybe { pick([1, 2, 5, 20, 0, 1000, 1001, -3]) },
                    positionSizeUSD: maybe(number),
                    stopLoss: maybe(number),
                    takeProfit: maybe(number),
                    confidence: pick([0.6, 0, 1, -0.0, 1.5, .nan, Double(random.int(below: 1001)) / 1000, number()]),
                    riskUSD: maybe(number),
                    invalidationCondition: maybe(text),
                    reasoning: maybe(text)
                )
            }
            guard let answer = try? AnswerText.text(of: decisions) else {
                // No text for a value that is not finite (the policy fails its call): nor does reread accept it.
                #expect(DecisionParser.reread(decisions) == nil)
                continue
            }
            let parsed = try? DecisionParser.parse(answer)
            guard let checked = DecisionParser.reread(decisions) else {
                if parsed == nil { refused += 1 }
                continue
            }
            reread += 1
            let expected = try #require(parsed, "reread accepted what parsing refuses: \(answer)")
            #expect(checked == expected, "\(answer)")
            #expect(try AnswerText.text(of: checked) == AnswerText.text(of: expected), "\(answer)")
        }
        // Both ways were taken many times.
        #expect(reread > 2_000 && refused > 2_000, "reread \(reread), refused \(refused)")
    }
}

@Suite("Prompt numbers and templates")
struct PromptFormattingTests {
    @Test func numbers_areShortAndStable() {
        #expect(PromptContext.number(117_706.8735) == "117706.87")
        #expect(PromptContext.number(3929.85) == "3929.85")
        #expect(PromptContext.number(193.2351) == "193.2351")
        #expect(PromptContext.number(2.608_154_9) == "2.6082")
        #expect(PromptContext.number(0.195_255_4) == "0.195255")
        #expect(PromptContext.number(-0.000_123_456_7) == "-0.000123457")
        #expect(PromptContext.number(100_000) == "100000")
        #expect(PromptContext.number(0) == "0")
        #expect(PromptContext.number(.nan) == "n/a")
        #expect(
            PromptContext.list([1.5, 117_706.8735, 0, .nan, -0.000_123_456_7])
                == "[1.5, 117706.87, 0, n/a, -0.000123457]"
        )
        #expect(PromptContext.list([]) == "[]")
        #expect(PromptContext.list([42]) == "[42]")
    }

    /// Numbers are printed from the rounded integer, not by formatting a Double: the same text as the shortest
    /// round-trip form of the rounded value, on every scale, sign, rounding boundary and awkward value.
    @Test func numbers_printedFromTheRoundedInteger_matchTheirDefinition() {
        var random = SeededRandom(seed: 4242)
        var checked = 0
        func check(_ value: Double) {
            #expect(PromptContext.number(value) == PromptContext.numberByDescription(value), "\(value)")
            checked += 1
        }
        for value in [
            0, -0.0, 1, -1, 999.99995, 999.999949, 1000, 999.995, 0.99999949, 0.9999995, 1e-4, 0.000099999995,
            1e12, 999_999_999_999.995, 1e13, 1e15, 1e16, 123_456.785, 0.1, 0.2 + 0.1, 1.00005, 2.5e-5, -7.77e-5,
            .infinity, -.infinity, .nan, .ulpOfOne, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ] {
            check(value)
        }
        for _ in 0..<400_000 {
            let exponent = Double(random.int(below: 21)) - 6  // 1e-6 … 1e14
            let mantissa = Double(random.next() % 10_000_000_000) / 1e10
            let sign: Double = random.int(below: 2) == 0 ? 1 : -1
            let value = sign * (1 + 9 * mantissa) * pow(10, exponent)
            check(value)
            // On a rounding boundary of its scale: a half unit of the last kept digit, and its neighbours.
            let scale = abs(value) >= 1000 ? 100 : abs(value) >= 1 ? 10_000 : pow(10, 5 - floor(log10(abs(value))))
            let boundary = ((value * scale).rounded(.down) + 0.5) / scale
            check(boundary)
            check(boundary.nextUp)
            check(boundary.nextDown)
        }
        #expect(checked > 1_600_000)
    }

    /// The decade of a small number is found by comparisons inside a decade and by `log10` near its edges: the
    /// same as `floor(log10(x))` everywhere, the values next to each power of ten included.
    @Test func decadeOfASmallNumber_isFloorOfItsLog() {
        var values: [Double] = []
        for edge in [1e-4, 1e-3, 1e-2, 1e-1, 1.0] {
            var below = edge
            var above = edge
            for _ in 0..<64 {
                below = below.nextDown
                above = above.nextUp
                values += [below, above]
            }
            for relative in [1e-7, 1e-6, 1e-5, 1e-4] { values += [edge * (1 - relative), edge * (1 + relative)] }
        }
        var random = SeededRandom(seed: 77)
        for _ in 0..<200_000 { values.append(pow(10, -4 * Double(random.next() % 1_000_000) / 1_000_000)) }
        for value in values where value >= 1e-4 && value < 1 {
            #expect(PromptContext.decade(value) == Int(floor(log10(value))), "\(value)")
        }
    }

    @Test func template_refusesAContextMissingAVariable() throws {
        let template = try PromptTemplate(
            id: "t",
            file: PromptTemplateFile(version: "1", body: "{{a}} {{#items}}{{b}} {{c}}{{/items}}")
        )
        #expect(template.missingVariables(in: ["a": "1", "items": [["b": "2"]], "c": "3"]).isEmpty)
        #expect(template.missingVariables(in: ["items": [["b": "2"]]]) == ["a", "c"])
        // An empty list renders nothing, so what it would read is not missing.
        #expect(template.missingVariables(in: ["a": "1", "items": .list([])]).isEmpty)
        #expect(throws: PromptTemplate.Failure.self) { try template.render(["a": "1"]) }
        #expect(try template.render(["a": "<x&y>", "items": [["b": "2", "c": "3"]]]) == "<x&y> 2 3")
    }

    /// The direct reader tells item keys apart by length, then bytes: every key is found, and no other text of the
    /// same length (one byte changed, a prefix, a case change) is taken for one.
    @Test func itemKeys_areRecognisedExactly() {
        for key in DecisionParser.ItemFields.Key.allCases {
            let name = Array(key.name.utf8)
            #expect(name.withUnsafeBufferPointer { DecisionParser.ItemFields.Key(bytes: $0) } == key)
            for position in name.indices {
                var changed = name
                changed[position] ^= 0x20
                #expect(changed.withUnsafeBufferPointer { DecisionParser.ItemFields.Key(bytes: $0) } == nil)
            }
            let prefix = Array(name.dropLast())
            #expect(prefix.withUnsafeBufferPointer { DecisionParser.ItemFields.Key(bytes: $0) } == nil)
        }
        #expect([UInt8]().withUnsafeBufferPointer { DecisionParser.ItemFields.Key(bytes: $0) } == nil)
    }
}
