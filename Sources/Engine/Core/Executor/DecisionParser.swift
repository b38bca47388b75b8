import Foundation

/// Turns a model's raw text into decisions, or says exactly why it cannot. Tolerant of wrapping (prose, a code
/// fence), strict about content: an answer with any invalid item yields no decisions at all.
package enum DecisionParser {
    package struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        package let message: String
        package var description: String { message }

        package init(message: String) {
            self.message = message
        }
    }

    package static let itemKeys = Set(ItemFields.Key.allCases.map(\.name))
    static let entryFields: [ItemFields.Key] = [.leverage, .positionSizeUSD, .stopLoss, .takeProfit, .riskUSD]
    package static let entryKeys = entryFields.map(\.name)
    package static let maxDecisions = 32

    /// An item's fields by key, read from a parsed object or straight from the answer's bytes.
    struct ItemFields {
        enum Key: Int, CaseIterable {
            case symbol, signal, leverage, positionSizeUSD, stopLoss, takeProfit, confidence, riskUSD
            case invalidationCondition, reasoning

            var name: String { staticName.description }

            /// The key whose name is `bytes`, if any: told apart by length, then compared whole.
            init?(bytes: UnsafeBufferPointer<UInt8>) {
                func either(_ first: Key, _ second: Key? = nil) -> Key? {
                    if DecisionParser.equal(bytes, first.staticName) { return first }
                    if let second, DecisionParser.equal(bytes, second.staticName) { return second }
                    return nil
                }
                let key: Key? =
                    switch bytes.count {
                    case 6: either(.symbol, .signal)
                    case 8: either(.leverage, .riskUSD)
                    case 9: either(.stopLoss, .reasoning)
                    case 10: either(.confidence)
                    case 11: either(.takeProfit)
                    case 17: either(.positionSizeUSD)
                    case 22: either(.invalidationCondition)
                    default: nil
                    }
                guard let key else { return nil }
                self = key
            }

            /// `name`, without a string made for it.
            var staticName: StaticString {
                switch self {
                case .symbol: "symbol"
                case .signal: "signal"
                case .leverage: "leverage"
                case .positionSizeUSD: "position_size_usd"
                case .stopLoss: "stop_loss"
                case .takeProfit: "take_profit"
                case .confidence: "confidence"
                case .riskUSD: "risk_usd"
                case .invalidationCondition: "invalidation_condition"
                case .reasoning: "reasoning"
                }
            }
        }

        private var values = InlineArray<10, AnswerJSON?>(repeating: nil)

        init() {}

        /// The fields of a parsed object whose keys are all item keys.
        init(_ object: [String: AnswerJSON]) {
            for key in Key.allCases { values[key.rawValue] = object[key.name] }
        }

        subscript(key: Key) -> AnswerJSON? {
            get { values[key.rawValue] }
            set { values[key.rawValue] = newValue }
        }
    }

    package static func parse(_ text: String) throws(Failure) -> [Decision] {
        var text = text
        if let decisions = text.withUTF8(parseDirect) { return decisions }
        return try parseGeneral(text)
    }

    /// The common answer read straight into decisions, without dictionaries: the whole text (whitespace aside) one
    /// object `{"decisions":[…]}` whose items are objects of item keys, each once, with values `AnswerJSON` reads
    /// itself. Nil for anything else and for any answer that fails; `parseGeneral` then decides, so results and
    /// messages are always the general reading's (`DecisionParserTests` compares both on random and mutated
    /// answers).
    static func parseDirect(_ bytes: UnsafeBufferPointer<UInt8>) -> [Decision]? {
        var reader = AnswerJSON.Reader(bytes: bytes)
        guard reader.take(UInt8(ascii: "{")), let rootKey = reader.plainKey(), equal(rootKey, "decisions"),
            reader.take(UInt8(ascii: "["))
        else { return nil }
        var decisions: [Decision] = []
        if !reader.take(UInt8(ascii: "]")) {
            repeat {
                guard decisions.count < maxDecisions, reader.take(UInt8(ascii: "{")) else { return nil }
                var fields = ItemFields()
                if !reader.take(UInt8(ascii: "}")) {
                    repeat {
                        guard let name = reader.plainKey(), let key = ItemFields.Key(bytes: name), fields[key] == nil,
                            let value = reader.value(depth: 3)
                        else { return nil }
                        fields[key] = value
                    } while reader.take(UInt8(ascii: ","))
                    guard reader.take(UInt8(ascii: "}")) else { return nil }
                }
                guard let decision = try? parseItem(fields, at: decisions.count),
                    !decisions.contains(where: { $0.symbol == decision.symbol })
                else { return nil }
                decisions.append(decision)
            } while reader.take(UInt8(ascii: ","))
            guard reader.take(UInt8(ascii: "]")) else { return nil }
        }
        guard reader.take(UInt8(ascii: "}")) else { return nil }
        reader.skipSpace()
        return reader.index == bytes.count ? decisions : nil
    }

    /// Decisions an in-process policy wrote its answer from, put through the parser's own rules (each item's
    /// fields handed to `parseItem` as the values the text holds; at most `maxDecisions`; one per symbol): what
    /// `parse` of that answer gives — the text's numbers are the shortest forms that read back as the same
    /// Doubles, its strings escaped and unescaped to the same bytes (`DecisionParserTests` compares both on random
    /// decisions) — without reading the text back (a backtest's baseline answers every cycle). Nil when an item
    /// fails, when a value would not come back the same (a negative zero is read as zero; a NaN is no number):
    /// the text is parsed then, and decides.
    package static func reread(_ decisions: [Decision]) -> [Decision]? {
        guard decisions.count <= maxDecisions else { return nil }
        for (index, decision) in decisions.enumerated() {
            var fields = ItemFields()
            fields[.symbol] = .string(decision.symbol)
            fields[.signal] = .string(decision.signal.rawValue)
            fields[.confidence] = .number(decision.confidence)
            fields[.leverage] = decision.leverage.map { .number(Double($0)) }
            fields[.positionSizeUSD] = decision.positionSizeUSD.map(AnswerJSON.number)
            fields[.stopLoss] = decision.stopLoss.map(AnswerJSON.number)
            fields[.takeProfit] = decision.takeProfit.map(AnswerJSON.number)
            fields[.riskUSD] = decision.riskUSD.map(AnswerJSON.number)
            fields[.invalidationCondition] = decision.invalidationCondition.map(AnswerJSON.string)
            fields[.reasoning] = decision.reasoning.map(AnswerJSON.string)
            guard readsBack(decision.confidence), readsBack(decision.positionSizeUSD), readsBack(decision.stopLoss),
                readsBack(decision.takeProfit), readsBack(decision.riskUSD),
                let read = try? parseItem(fields, at: index), read == decision,
                !decisions[..<index].contains(where: { $0.symbol == decision.symbol })
            else { return nil }
        }
        return decisions
    }

    /// Whether the answer's text of `value` (its shortest round-trip digits) reads back as `value` itself: a whole
    /// number below 10^15 (its digits, read as an integer), or one that is `M / 10^k` for a whole `M` below 10^15
    /// and k ≤ 9 — the quotient of two exact Doubles, so `value` is that decimal correctly rounded, its shortest
    /// digits are at most 15 and the reader's exact path (`ExactDecimal`) gives `value` back. False for anything
    /// else (a value past 10^15, more digits, a negative zero, which reads back as zero): the text is parsed then.
    private static func readsBack(_ value: Double?) -> Bool {
        guard let value else { return true }
        guard value.isFinite, value.magnitude < 1e15, !(value == 0 && value.sign == .minus) else { return false }
        if value == value.rounded(.towardZero) { return true }
        var scale = 1.0
        for _ in 1...9 {
            scale *= 10
            let product = value * scale
            if product == product.rounded(.towardZero) {
                return product.magnitude < 1e15 && product / scale == value
            }
        }
        return false
    }

    /// Whether `bytes` are `name`'s.
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        bytes.count == name.utf8CodeUnitCount
            && (bytes.isEmpty || memcmp(bytes.baseAddress!, name.utf8Start, bytes.count) == 0)
    }

    /// Any answer: its one JSON object found wherever it is, parsed, then read item by item.
    static func parseGeneral(_ text: String) throws(Failure) -> [Decision] {
        guard let root = try extractObject(text) else {
            throw Failure(message: "no JSON object found in the answer")
        }
        if root.keys.contains(where: { $0 != "decisions" }) {
            let extra = Set(root.keys).subtracting(["decisions"])
            throw Failure(message: "unexpected top-level keys: \(extra.sorted().joined(separator: ", "))")
        }
        guard case .array(let items) = root["decisions"] else { throw Failure(message: "'decisions' must be a list") }
        guard items.count <= maxDecisions else { throw Failure(message: "more than \(maxDecisions) decisions") }
        var decisions: [Decision] = []
        var symbols: Set<String> = []
        for (index, item) in items.enumerated() {
            guard case .object(let object) = item else { throw Failure(message: "decisions[\(index)]: not an object") }
            if object.keys.contains(where: { !itemKeys.contains($0) }) {
                let extra = Set(object.keys).subtracting(itemKeys)
                throw Failure(
                    message: "decisions[\(index)]: unexpected keys: \(extra.sorted().joined(separator: ", "))"
                )
            }
            let decision = try parseItem(ItemFields(object), at: index)
            guard symbols.insert(decision.symbol).inserted else {
                throw Failure(message: "decisions[\(index)]: a second decision for \(decision.symbol)")
            }
            decisions.append(decision)
        }
        return decisions
    }

    private static func parseItem(_ fields: ItemFields, at index: Int) throws(Failure) -> Decision {
        // Messages are made only when an item fails: a valid answer builds no text.
        func path(_ key: ItemFields.Key) -> String { "decisions[\(index)].\(key.name)" }
        guard case .string(let symbol) = fields[.symbol], isValidSymbol(symbol) else {
            throw Failure(message: "\(path(.symbol)): must be an upper-case symbol such as BTC")
        }
        guard case .string(let rawSignal) = fields[.signal], let signal = Decision.Signal(rawValue: rawSignal) else {
            throw Failure(
                message: "\(path(.signal)): must be one of buy_to_enter, sell_to_enter, hold, close_position"
            )
        }
        guard let confidence = number(fields[.confidence]), (0...1).contains(confidence) else {
            throw Failure(message: "\(path(.confidence)): must be a number from 0 to 1")
        }
        var decision = Decision(symbol: symbol, signal: signal, confidence: confidence)
        if signal.isEntry {
            for key in entryFields where fields[key] == nil || fields[key] == .null {
                throw Failure(message: "\(path(key)): required for \(rawSignal)")
            }
        }
        if let raw = fields[.leverage], raw != .null {
            guard let value = number(raw), value >= 1, value == value.rounded(), value <= 1000 else {
                throw Failure(message: "\(path(.leverage)): must be an integer of at least 1")
            }
            decision.leverage = Int(value)
        }
        func positive(_ key: ItemFields.Key) throws(Failure) -> Double? {
            guard let raw = fields[key], raw != .null else { return nil }
            guard let value = number(raw), value > 0 else {
                throw Failure(message: "\(path(key)): must be a number above 0")
            }
            return value
        }
        func text(_ key: ItemFields.Key) throws(Failure) -> String? {
            guard let raw = fields[key], raw != .null else { return nil }
            // At most 4,000 UTF-8 bytes is at most 4,000 characters; only a longer text is counted.
            guard case .string(let value) = raw, value.utf8.count <= 4000 || value.count <= 4000 else {
                throw Failure(message: "\(path(key)): must be text of at most 4000 characters")
            }
            return value
        }
        decision.positionSizeUSD = try positive(.positionSizeUSD)
        decision.stopLoss = try positive(.stopLoss)
        decision.takeProfit = try positive(.takeProfit)
        if let raw = fields[.riskUSD], raw != .null {
            guard let value = number(raw), value >= 0 else {
                throw Failure(message: "\(path(.riskUSD)): must be ≥ 0")
            }
            decision.riskUSD = value
        }
        decision.invalidationCondition = try text(.invalidationCondition)
        decision.reasoning = try text(.reasoning)
        return decision
    }

    /// A finite JSON number (not a boolean).
    private static func number(_ raw: AnswerJSON?) -> Double? {
        guard case .number(let value) = raw, value.isFinite else { return nil }
        return value
    }

    /// ASCII `[A-Z0-9]{1,16}`, as the decision schema says (no other script's letters or digits).
    private static func isValidSymbol(_ symbol: String) -> Bool {
        (1...16).contains(symbol.utf8.count)
            && symbol.utf8.allSatisfy {
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            }
    }

    /// The JSON object in `text`: the one balanced `{…}` span (strings and escapes respected) that parses as a
    /// JSON object, wherever it is (in prose, in a code fence). None is "no JSON object"; more than one (two fences,
    /// or an example object before the real one) is ambiguous and fails, so the engine never trades a guess.
    /// Returns the object as parsed (each span is parsed once).
    package static func extractObject(_ text: String) throws(Failure) -> [String: AnswerJSON]? {
        let objects = jsonObjects(in: text)
        guard objects.count <= 1 else {
            throw Failure(message: "the answer holds \(objects.count) JSON objects: ambiguous, none is used")
        }
        return objects.first
    }

    /// Every top-level balanced `{…}` span of `text` that parses as a JSON object, parsed, in order.
    static func jsonObjects(in text: String) -> [[String: AnswerJSON]] {
        let bytes = Array(text.utf8)
        var objects: [[String: AnswerJSON]] = []
        var start = 0
        while let open = bytes[start...].firstIndex(of: UInt8(ascii: "{")) {
            guard let close = matchingBrace(bytes, from: open) else {
                start = open + 1
                continue
            }
            // The bytes of a String, cut at ASCII braces: valid UTF-8 as they stand. Read directly when they are in
            // the common subset, else by JSONSerialization (which then decides whether they are JSON at all).
            let span = bytes[open...close]
            if case .object(let object) = AnswerJSON.parse(span) ?? AnswerJSON.foundation(span) {
                objects.append(object)
                start = close + 1
            } else {
                start = open + 1
            }
        }
        return objects
    }

    /// The index of the `}` that closes the `{` at `open`, strings and escapes respected; nil when it never closes.
    private static func matchingBrace(_ bytes: [UInt8], from open: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for index in open..<bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return index }
            }
        }
        return nil
    }
}
