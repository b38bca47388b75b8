/// A value a prompt template reads: text, a flag, a list of scopes (a section repeats per element) or one scope.
/// Typed, so rendering never casts `Any`; `mustacheValue` gives the same value to swift-mustache.
package enum PromptValue: Sendable, Equatable {
    case text(String)
    case flag(Bool)
    case list([PromptScope])
    case scope(PromptScope)

    /// The value as swift-mustache reads it (`String`, `Bool`, `[[String: Any]]`, `[String: Any]`).
    package var mustacheValue: Any {
        switch self {
        case .text(let text): text
        case .flag(let flag): flag
        case .list(let list): list.map(Self.mustacheScope)
        case .scope(let scope): Self.mustacheScope(scope)
        }
    }

    package static func mustacheScope(_ scope: PromptScope) -> [String: Any] {
        scope.mapValues(\.mustacheValue)
    }
}

/// The variables of one scope of a template: the whole context, or one element of a section's list.
package typealias PromptScope = [String: PromptValue]

extension PromptValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    package init(stringLiteral value: String) { self = .text(value) }
    package init(booleanLiteral value: Bool) { self = .flag(value) }
    package init(arrayLiteral elements: PromptScope...) { self = .list(elements) }
}

/// A mustache template compiled once into a tree of text, variables and sections, rendered by walking the tree
/// over typed values — the same text swift-mustache renders (`PromptTemplate` renders both ways in tests),
/// several times faster because nothing is parsed, cast or looked up through reflection per render.
///
/// Only the subset prompt templates use is compiled: text, `{{x}}`, `{{{x}}}`, `{{&x}}`, dotted names and `.`,
/// sections, inverted sections, comments and the leading text content-type pragma. A template with anything
/// else (partials, blocks, set delimiters, transforms, other pragmas), or with characters whose grapheme
/// clusters span several scalars (where swift-mustache's character-level parser and a scalar-level one could
/// disagree), has no compiled form; `PromptTemplate` then renders with swift-mustache. Rendering also hands
/// back to swift-mustache (returns nil) when a variable names a list or a scope, whose text is swift-mustache's
/// to define.
package struct CompiledTemplate: Sendable {
    indirect enum Node: Sendable {
        /// Literal text, as its UTF-8 bytes (the render writes bytes and makes one string at the end).
        case text([UInt8])
        case variable(Name)
        case section(Name, inverted: Bool, body: [Node])

        /// A text node of `text`'s bytes.
        static func literal(_ text: String) -> Node { .text(Array(text.utf8)) }
    }

    struct Name: Sendable {
        /// `.`: the innermost value.
        var isSelf: Bool
        /// `.a.b`: looked up in the innermost value only, not the enclosing scopes.
        var innermostOnly: Bool
        var parts: [String]
    }

    let nodes: [Node]

    /// Compiles `source` — the exact text given to swift-mustache, which must already have parsed it — or
    /// returns nil when it uses anything outside the compiled subset.
    package init?(_ source: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.utf8.count)
        var crlf = 0
        var previous: Unicode.Scalar = "\0"
        for scalar in source.unicodeScalars {
            switch scalar {
            case "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": return nil
            case "\n" where previous == "\r": crlf += 1
            default: break
            }
            if previous == "\r", scalar != "\n" { return nil }
            scalars.append(scalar)
            previous = scalar
        }
        if previous == "\r" { return nil }
        guard source.count + crlf == scalars.count else { return nil }
        var parser = Parser(scalars: scalars)
        guard let nodes = parser.parse(newLine: true, inSection: false), parser.index == scalars.count else {
            return nil
        }
        self.nodes = Self.merged(nodes)
    }

    /// The rendered text, or nil when a value is outside what the compiled form renders (see the type).
    package func render(_ context: PromptScope) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(16_384)
        var stack: [PromptValue] = [.scope(context)]
        guard Self.render(nodes, stack: &stack, into: &output) else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    private static func render(_ nodes: [Node], stack: inout [PromptValue], into output: inout [UInt8]) -> Bool {
        for node in nodes {
            switch node {
            case .text(let text):
                output.append(contentsOf: text)
            case .variable(let name):
                switch lookup(name, in: stack) {
                case .text(let text): output.append(contentsOf: text.utf8)
                case .flag(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
                case .list, .scope: return false
                case nil: break
                }
            case .section(let name, let inverted, let body):
                let value = lookup(name, in: stack)
                if inverted {
                    switch value {
                    case nil, .flag(false):
                        guard render(body, stack: &stack, into: &output) else { return false }
                    case .list(let list) where list.isEmpty:
                        stack.append(.list([]))
                        defer { stack.removeLast() }
                        guard render(body, stack: &stack, into: &output) else { return false }
                    default:
                        break
                    }
                    continue
                }
                switch value {
                case nil, .flag(false):
                    break
                case .flag(true):
                    guard render(body, stack: &stack, into: &output) else { return false }
                case .list(let list):
                    for element in list {
                        stack.append(.scope(element))
                        defer { stack.removeLast() }
                        guard render(body, stack: &stack, into: &output) else { return false }
                    }
                case .some(let value):
                    stack.append(value)
                    defer { stack.removeLast() }
                    guard render(body, stack: &stack, into: &output) else { return false }
                }
            }
        }
        return true
    }

    /// swift-mustache's lookup: `.` is the innermost value; otherwise the first part is searched from the
    /// innermost scope outwards (or in the innermost only for a leading dot) and the rest within what it found.
    private static func lookup(_ name: Name, in stack: [PromptValue]) -> PromptValue? {
        guard let innermost = stack.last else { return nil }
        if name.isSelf { return innermost }
        guard let head = name.parts.first else { return nil }
        var found: PromptValue?
        if name.innermostOnly {
            found = child(head, of: innermost)
        } else {
            for value in stack.reversed() {
                if let hit = child(head, of: value) {
                    found = hit
                    break
                }
            }
        }
        for part in name.parts.dropFirst() {
            guard let current = found else { return nil }
            found = child(part, of: current)
        }
        return found
    }

    private static func child(_ name: String, of value: PromptValue) -> PromptValue? {
        if case .scope(let scope) = value { return scope[name] }
        return nil
    }

    private static func merged(_ nodes: [Node]) -> [Node] {
        var result: [Node] = []
        for node in nodes {
            switch node {
            case .text(let text):
                if case .text(let before) = result.last {
                    result[result.count - 1] = .text(before + text)
                } else if !text.isEmpty {
                    result.append(.text(text))
                }
            case .section(let name, let inverted, let body):
                result.append(.section(name, inverted: inverted, body: merged(body)))
            case .variable:
                result.append(node)
            }
        }
        return result
    }

    /// A scalar-level port of swift-mustache's parser for the compiled subset, including its handling of
    /// standalone lines (a line holding only a section, inverted-section, closing, comment or pragma tag and
    /// spaces or tabs disappears with its newline) and its quirks (whitespace before a tag that turns out not
    /// to be standalone is kept; after a section whose opening tag stood alone, the next line counts as new).
    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { index >= scalars.count }
        var current: Unicode.Scalar { atEnd ? "\0" : scalars[index] }

        /// The length of the newline at the cursor: 1 for `\n`, 2 for `\r\n`, 0 for none.
        var newlineLength: Int {
            guard !atEnd else { return 0 }
            if scalars[index] == "\n" { return 1 }
            if scalars[index] == "\r", index + 1 < scalars.count, scalars[index + 1] == "\n" { return 2 }
            return 0
        }

        mutating func parse(newLine startsOnNewLine: Bool, inSection: Bool) -> [Node]? {
            var nodes: [Node] = []
            var newLine = startsOnNewLine
            var whitespace = ""
            while !atEnd {
                if newLine {
                    whitespace = read { $0 == " " || $0 == "\t" }
                }
                let text = readUntilTagOrNewline()
                let newline = newlineLength
                if newline > 0 {
                    nodes.append(.literal(whitespace + text + (newline == 2 ? "\r\n" : "\n")))
                    index += newline
                    newLine = true
                    continue
                }
                if !text.isEmpty {
                    nodes.append(.literal(whitespace + text))
                    whitespace = ""
                    newLine = false
                }
                if atEnd { break }
                var setNewLine = false
                switch current {
                case "#", "^":
                    let inverted = current == "^"
                    index += 1
                    guard let name = parseName() else { return nil }
                    if newLine, lineFinished() {
                        setNewLine = true
                    } else if !whitespace.isEmpty {
                        nodes.append(.literal(whitespace))
                        whitespace = ""
                    }
                    guard let body = parse(newLine: setNewLine ? newLine : false, inSection: true) else {
                        return nil
                    }
                    nodes.append(.section(name, inverted: inverted, body: body))
                case "/":
                    index += 1
                    guard parseName() != nil, inSection else { return nil }
                    if !(newLine && lineFinished()), !whitespace.isEmpty {
                        nodes.append(.literal(whitespace))
                    }
                    return nodes
                case "!":
                    index += 1
                    guard skipComment() else { return nil }
                    setNewLine = newLine && lineFinished()
                case "%":
                    // Only the text content-type pragma `PromptTemplate` puts first is part of the subset.
                    guard index == 2 else { return nil }
                    index += 1
                    guard parsePragma() else { return nil }
                    setNewLine = newLine && lineFinished()
                case "{", "&":
                    let triple = current == "{"
                    if !whitespace.isEmpty {
                        nodes.append(.literal(whitespace))
                        whitespace = ""
                    }
                    index += 1
                    guard let name = parseName() else { return nil }
                    if triple {
                        guard current == "}" else { return nil }
                        index += 1
                    }
                    nodes.append(.variable(name))
                case ">", "<", "$", "=":
                    return nil
                default:
                    if !whitespace.isEmpty {
                        nodes.append(.literal(whitespace))
                        whitespace = ""
                    }
                    guard let name = parseName() else { return nil }
                    nodes.append(.variable(name))
                }
                newLine = setNewLine
            }
            return inSection ? nil : nodes
        }

        mutating func read(while predicate: (Unicode.Scalar) -> Bool) -> String {
            var text = String.UnicodeScalarView()
            while !atEnd, predicate(scalars[index]) {
                text.append(scalars[index])
                index += 1
            }
            return String(text)
        }

        /// Text up to a newline (not consumed) or up to and including `{{`.
        mutating func readUntilTagOrNewline() -> String {
            var text = String.UnicodeScalarView()
            while !atEnd {
                if newlineLength > 0 { break }
                if scalars[index] == "{", index + 1 < scalars.count, scalars[index + 1] == "{" {
                    index += 2
                    break
                }
                text.append(scalars[index])
                index += 1
            }
            return String(text)
        }

        /// swift-mustache's `hasLineFinished`: at the end, or spaces and tabs up to a newline (consumed).
        mutating func lineFinished() -> Bool {
            if atEnd { return true }
            var probe = index
            while probe < scalars.count, scalars[probe] == " " || scalars[probe] == "\t" { probe += 1 }
            let saved = index
            index = probe
            let newline = newlineLength
            guard newline > 0 else {
                index = saved
                return false
            }
            index += newline
            return true
        }

        mutating func skipWhitespace() {
            while !atEnd, scalars[index].properties.isWhitespace { index += 1 }
        }

        mutating func expectClose() -> Bool {
            guard index + 1 < scalars.count, scalars[index] == "}", scalars[index + 1] == "}" else { return false }
            index += 2
            return true
        }

        static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar {
            case "0"..."9", "a"..."z", "A"..."Z", ".", "-", "_", "?", "*": true
            default: false
            }
        }

        mutating func parseName() -> Name? {
            skipWhitespace()
            let text = read(while: Self.isNameScalar)
            skipWhitespace()
            // A transform (`f(x)`) stops the name at the bracket and fails the close: not in the subset.
            guard !text.isEmpty, expectClose() else { return nil }
            if text == "." { return Name(isSelf: true, innermostOnly: false, parts: []) }
            let parts = text.split(separator: ".").map(String.init)
            guard !parts.isEmpty else { return nil }
            return Name(isSelf: false, innermostOnly: text.hasPrefix("."), parts: parts)
        }

        mutating func skipComment() -> Bool {
            while index + 1 < scalars.count {
                if scalars[index] == "}", scalars[index + 1] == "}" {
                    index += 2
                    return true
                }
                index += 1
            }
            return false
        }

        mutating func parsePragma() -> Bool {
            skipWhitespace()
            let variable = read(while: Self.isNameScalar)
            skipWhitespace()
            guard current == ":" else { return false }
            index += 1
            skipWhitespace()
            let value = read(while: Self.isNameScalar)
            skipWhitespace()
            return variable == "CONTENT_TYPE" && value == "TEXT" && expectClose()
        }
    }
}
