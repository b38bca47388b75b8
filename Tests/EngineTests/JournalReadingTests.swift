import ArenaCore
import Foundation
import Shared
import Testing

/// The journal's own reader (`JSONByteReader`, `CycleRecord.read(from:)`) reads what `JSONDecoder` reads and refuses
/// what it refuses: torn lines, bytes after the record, wrong kinds, missing required keys, bad escapes. Equality on
/// random and real records is checked where those are made (`DomainJournalTests`, `MarketSnapshotJournalTests`,
/// `JournalTests`).
@Suite struct JournalReadingTests {
    static let record: CycleRecord = {
        var record = CycleRecord(
            traderID: "t/1",
            cycle: 7,
            cycleID: "t-7",
            startedAt: 1_700_000_000_000,
            endedAt: 1_700_000_001_000,
            outcome: .completed,
            reason: .priceMoved,
            modelAsked: "m",
            route: .fallback,
            attempts: [LLMAttempt(model: "m", route: .primary, outcome: "ok", costUSD: 0.25)],
            rawAnswer: "{\"decisions\":[]}\n",
            market: MarketSnapshot(
                takenAt: 5,
                symbols: [
                    "BTC": SymbolSnapshot(
                        symbol: "BTC",
                        asOf: 4,
                        price: 100_000.5,
                        markPrice: 100_001,
                        fundingRate: -1.25e-05,
                        ema20: 1,
                        macd: -0.5,
                        rsi7: 55,
                        intraday: .init(prices: [1, 2.5], ema20: [], macd: [0.1], rsi7: [3], rsi14: [4]),
                        context: .init(
                            ema20: 1,
                            ema50: 2,
                            atr3: 3,
                            atr14: 4,
                            volume: 5,
                            averageVolume: 6,
                            macd: [7],
                            rsi14: [8, 9]
                        )
                    )
                ]
            ),
            decisions: [Decision(symbol: "BTC", signal: .buyToEnter, leverage: 3, confidence: 0.7, reasoning: "ü 中")]
        )
        record.promptsSkipped = true
        return record
    }()

    static func line(_ record: CycleRecord = record) throws -> Data { try SortedJSONEncoder().encode(record) }

    /// Both readers on the same bytes: both fail, or both give the same record (returned).
    @discardableResult
    static func bothRead(_ bytes: Data, _ note: String = "") -> CycleRecord? {
        let ours = Result { try CycleRecord.read(from: bytes) }
        let foundation = Result { try JSONDecoder().decode(CycleRecord.self, from: bytes) }
        #expect(
            (try? ours.get()) == (try? foundation.get()),
            "\(note): ours \(ours), JSONDecoder \(foundation)"
        )
        return try? ours.get()
    }

    @Test func everyTornPrefix_isRefused_andTrailingBytesToo() throws {
        let line = try Self.line()
        #expect(try CycleRecord.read(from: line) == Self.record)
        for length in 0..<line.count {
            #expect(throws: JSONByteReader.Failure.self) { try CycleRecord.read(from: line.prefix(length)) }
        }
        #expect(throws: JSONByteReader.Failure.self) { try CycleRecord.read(from: line + Data("x".utf8)) }
        #expect(throws: JSONByteReader.Failure.self) { try CycleRecord.read(from: line + Data("{}".utf8)) }
        #expect(Self.bothRead(Data(" \n".utf8) + line + Data(" \r\n\t".utf8)) == Self.record)
    }

    @Test func otherLayouts_readAlike_unknownKeysSkipped_nullOptionalsAbsent() throws {
        var object = try #require(JSONSerialization.jsonObject(with: Self.line()) as? [String: Any])
        // A reader of an older version meets newer keys of every kind: skipped.
        object["future_field"] = ["nested": [1, 2.5e-3, "s\"\\", true, NSNull(), ["deeper": []]]]
        object["future_flag"] = false
        // An optional written as null reads as absent; a list written as null as empty (decodeIfPresent).
        object["error"] = NSNull()
        object["orders"] = NSNull()
        for options: JSONSerialization.WritingOptions in [[], [.prettyPrinted], [.sortedKeys, .prettyPrinted]] {
            let bytes = try JSONSerialization.data(withJSONObject: object, options: options)
            #expect(Self.bothRead(bytes, "\(options)") == Self.record)
        }
        // Foundation's own encoder's layout (escaped slashes, its key order) reads the same.
        #expect(Self.bothRead(try JSONEncoder().encode(Self.record)) == Self.record)
    }

    @Test func escapes_decodeAsJSONDecoderDecodesThem_andBadOnesAreRefused() throws {
        let line = String(decoding: try Self.line(), as: UTF8.self)
        let escaped = [
            #"\u00fc"#: "ü", #"\ud83d\ude00"#: "😀", #"\/"#: "/", #"\n\t\r\b\f"#: "\n\t\r\u{8}\u{C}",
            #"\\\""#: "\\\"", #"\u4E2D"#: "中",
        ]
        for (escape, text) in escaped {
            let bytes = Data(
                line.replacingOccurrences(of: #""model_asked":"m""#, with: #""model_asked":"\#(escape)""#).utf8
            )
            #expect(Self.bothRead(bytes, escape)?.modelAsked == text)
        }
        for bad in [#"\ud83d"#, #"\ud83dx"#, #"\ude00"#, #"\x"#, #"\u12"#, #"\u12g4"#, "\u{1}", "\\"] {
            let bytes = Data(
                line.replacingOccurrences(of: #""model_asked":"m""#, with: #""model_asked":"\#(bad)""#).utf8
            )
            #expect(throws: JSONByteReader.Failure.self, "\(bad)") { try CycleRecord.read(from: bytes) }
            Self.bothRead(bytes, bad)
        }
        var invalidUTF8 = Data(line.replacingOccurrences(of: #""model_asked":"m""#, with: #""model_asked":"mX""#).utf8)
        invalidUTF8[try #require(invalidUTF8.range(of: Data("mX".utf8))).upperBound - 1] = 0xFF
        #expect(throws: JSONByteReader.Failure.self) { try CycleRecord.read(from: invalidUTF8) }
        Self.bothRead(invalidUTF8, "invalid UTF-8")
    }

    @Test func wrongKinds_missingKeysAndUnknownValues_areRefusedWithTheirPlace() throws {
        let line = String(decoding: try Self.line(), as: UTF8.self)
        func replaced(_ old: String, _ new: String) -> Data {
            #expect(line.contains(old), "\(old)")
            return Data(line.replacingOccurrences(of: old, with: new).utf8)
        }
        let cases: [(String, String)] = [
            (#""cycle":7"#, #""cycle":"7""#),
            (#""cycle":7"#, #""cycle":7.5"#),
            (#""cycle":7"#, #""cycle":99999999999999999999"#),
            (#""cycle":7"#, #""cycle":null"#),
            (#""cycle":7,"#, ""),
            (#""outcome":"completed""#, #""outcome":"done""#),
            (#""reason":"PRICE_MOVED""#, #""reason":"SOMETHING_ELSE""#),
            (#""cache_hit":false"#, #""cache_hit":0"#),
            (#""takenAt":5"#, #""takenAt":[5]"#),
            (#""price":100000.5"#, #""price":"100000.5""#),
            (#""price":100000.5"#, #""price":1e999"#),
            (#""price":100000.5"#, #""price":1e"#),
            (#""price":100000.5,"#, ""),
            (#""signal":"buy_to_enter""#, #""signal":"buy""#),
            (#""prices":[1,2.5]"#, #""prices":[1,,2.5]"#),
            (#""prices":[1,2.5]"#, #""prices":[1 2.5]"#),
            (#""symbol":"BTC""#, #""symbol" "BTC""#),
            (#"{"attempts""#, #"{,"attempts""#),
        ]
        for (old, new) in cases {
            let bytes = replaced(old, new)
            #expect(throws: JSONByteReader.Failure.self, "\(new)") { try CycleRecord.read(from: bytes) }
            Self.bothRead(bytes, new)
        }
        // A trailing comma: `JSONDecoder` reads past it, and so does the journal's reader.
        #expect(Self.bothRead(replaced(#""prices":[1,2.5]"#, #""prices":[1,2.5,]"#))?.market == Self.record.market)
        Self.bothRead(replaced(#""takenAt":5}"#, #""takenAt":5,}"#), "object")
        let missing = replaced(#""model_asked":"m","#, "")
        #expect(throws: JSONByteReader.Failure.self) { try CycleRecord.read(from: missing) }
        do {
            _ = try CycleRecord.read(from: missing)
        } catch {
            #expect("\(error)".contains("'model_asked' is missing"))
        }
    }
}
