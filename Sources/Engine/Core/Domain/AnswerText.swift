import Shared

/// A model's answer as a cycle records it (`raw_answer`): the text a model sent, or the decisions an in-process
/// policy (a baseline) answered with, whose text is written when it is first read. That text is JSONEncoder's
/// `.sortedKeys` bytes of `{"decisions": […]}` with slashes escaped, as earlier journals recorded it. A backtest's
/// baseline answers every cycle and nothing on the trading loop reads its text (the cycle checks the decisions
/// themselves, `DecisionParser.reread`): the journal's encoding threads write it, beside the loop.
package enum AnswerText: Sendable, Codable, CustomStringConvertible {
    case text(String)
    /// Only through `answering(_:)`: every number finite, so the text can always be written.
    case decisions([Decision])

    /// The answer of an in-process policy that decided `decisions`; nil when one of their numbers is not finite
    /// (no JSON form: such an answer cannot be written, and is refused where it is made).
    package static func answering(_ decisions: [Decision]) -> AnswerText? {
        decisions.allSatisfy(\.hasFiniteNumbers) ? .decisions(decisions) : nil
    }

    package var text: String {
        switch self {
        case .text(let text):
            return text
        case .decisions(let decisions):
            do {
                return try Self.text(of: decisions)
            } catch {
                preconditionFailure("an answer's decisions were checked finite when it was made: \(error)")
            }
        }
    }

    package var description: String { text }

    /// The decisions' answer text (throws for a number that is not finite).
    package static func text(of decisions: [Decision]) throws -> String {
        var writer = SortedJSONWriter()
        try writer.array(decisions)
        return text(ofWritten: writer.bytes[...])
    }

    /// The answer text of decisions whose journal bytes (`[…]`, `SortedJSONWriter.array`) are `written`.
    package static func text(ofWritten written: ArraySlice<UInt8>) -> String {
        var bytes = Array(#"{"decisions":"#.utf8)
        bytes.reserveCapacity(bytes.count + written.count + 1)
        bytes.append(contentsOf: written)
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: SortedJSONEncoder.escapingSlashes(bytes), as: UTF8.self)
    }

    package init(from decoder: any Decoder) throws {
        self = .text(try decoder.singleValueContainer().decode(String.self))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

extension AnswerText: Equatable {
    /// By text: an answer written from decisions equals the same text received.
    package static func == (lhs: AnswerText, rhs: AnswerText) -> Bool { lhs.text == rhs.text }
}

extension AnswerText: ExpressibleByStringLiteral {
    package init(stringLiteral value: String) { self = .text(value) }
}

extension [Decision] {
    /// Whether both are one array (the same storage): then they hold the same decisions to the bit, which `==`
    /// does not tell (it takes −0 for 0, whose texts differ).
    package func isSameArray(as other: [Decision]) -> Bool {
        count == other.count
            && withUnsafeBufferPointer { mine in
                other.withUnsafeBufferPointer { $0.baseAddress == mine.baseAddress }
            }
    }
}

extension Decision {
    /// Whether every number has a JSON form (is finite).
    package var hasFiniteNumbers: Bool {
        confidence.isFinite && [positionSizeUSD, stopLoss, takeProfit, riskUSD].allSatisfy { $0?.isFinite ?? true }
    }
}
