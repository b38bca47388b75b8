import Foundation
import Yams

/// A parsed YAML file: its display name (as diagnostics print it) and its root node.
package struct YAMLDocument {
    package let file: String
    package let root: Node?

    /// Reads and parses `path`; a missing file or a syntax error is reported as one diagnostic.
    package static func load(
        path: String,
        displayName: String,
        log: DiagnosticLog,
        keyPath: String = ""
    )
        -> YAMLDocument?
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            log.error(displayName, keyPath, exists ? "cannot read the file" : "file not found")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            log.error(displayName, keyPath, "the file is not UTF-8 text")
            return nil
        }
        return parse(text: text, displayName: displayName, log: log)
    }

    package static func parse(text: String, displayName: String, log: DiagnosticLog) -> YAMLDocument? {
        do {
            return YAMLDocument(file: displayName, root: try Yams.compose(yaml: text))
        } catch let error as YamlError {
            log.error(displayName, "", Self.describe(error))
            return nil
        } catch {
            log.error(displayName, "", "YAML syntax error")
            return nil
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            return "YAML syntax error at line \(mark.line), column \(mark.column): \(prefix)\(problem)"
        default:
            return "YAML syntax error: \(String(describing: error).split(separator: "\n").first ?? "")"
        }
    }
}

/// Reads one YAML mapping key by key, recording every problem with its key path instead of stopping at the
/// first. `finish()` reports the keys nobody asked for, with a "did you mean" suggestion.
package final class MappingReader {
    package let file: String
    package let path: String
    package let log: DiagnosticLog
    package let expander: EnvironmentExpander
    package let line: Int?
    private let pairs: [(key: String, value: Node)]
    private var known: [String] = []

    init(
        file: String,
        path: String,
        pairs: [(key: String, value: Node)],
        line: Int?,
        log: DiagnosticLog,
        expander: EnvironmentExpander
    ) {
        self.file = file
        self.path = path
        self.pairs = pairs
        self.line = line
        self.log = log
        self.expander = expander
    }

    /// The root mapping of a document, or nil (with a diagnostic) when the document is not a mapping.
    package static func root(
        of document: YAMLDocument,
        log: DiagnosticLog,
        expander: EnvironmentExpander
    )
        -> MappingReader?
    {
        guard let root = document.root else {
            log.error(document.file, "", "the file is empty")
            return nil
        }
        return make(node: root, file: document.file, path: "", log: log, expander: expander)
    }

    static func make(
        node: Node,
        file: String,
        path: String,
        log: DiagnosticLog,
        expander: EnvironmentExpander
    )
        -> MappingReader?
    {
        guard case .mapping(let mapping) = node else {
            log.error(file, path, "expected a mapping of keys, got \(node.kindName)", line: node.mark?.line)
            return nil
        }
        var pairs: [(key: String, value: Node)] = []
        var seen: Set<String> = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                log.error(file, path, "keys must be plain strings", line: key.mark?.line)
                continue
            }
            if !seen.insert(name).inserted {
                log.error(file, join(path, name), "duplicate key", line: key.mark?.line)
                continue
            }
            pairs.append((name, value))
        }
        return MappingReader(
            file: file,
            path: path,
            pairs: pairs,
            line: node.mark?.line,
            log: log,
            expander: expander
        )
    }

    package var keys: [String] { pairs.map(\.key) }

    package func keyPath(_ key: String) -> String { Self.join(path, key) }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    private func node(_ key: String) -> Node? {
        if !known.contains(key) { known.append(key) }
        guard let node = pairs.first(where: { $0.key == key })?.value else { return nil }
        if case .scalar(let scalar) = node, scalar.style == .plain,
            ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        {
            return nil
        }
        return node
    }

    /// Marks a key as known without reading it (for keys read through another path).
    package func declare(_ key: String) { _ = node(key) }

    package func has(_ key: String) -> Bool {
        pairs.contains { $0.key == key }
    }

    // MARK: Scalars

    /// The expanded text of a scalar, with the variables it referred to.
    package func scalar(_ key: String, required: Bool = false) -> EnvironmentExpander.Result? {
        guard let node = node(key) else {
            if required { log.error(file, keyPath(key), "required key is missing", line: line) }
            return nil
        }
        guard case .scalar(let scalar) = node else {
            log.error(file, keyPath(key), "expected a value, got \(node.kindName)", line: node.mark?.line)
            return nil
        }
        do {
            return try expander.expand(scalar.string)
        } catch {
            report(error, at: keyPath(key), line: node.mark?.line)
            return nil
        }
    }

    package func string(_ key: String, required: Bool = false) -> String? {
        scalar(key, required: required)?.value
    }

    package func string(_ key: String, default fallback: String) -> String {
        string(key) ?? fallback
    }

    package func secret(_ key: String) -> Secret {
        guard let result = scalar(key) else { return Secret("") }
        return Secret(result.value, variable: result.variables.first)
    }

    package func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Int? {
        guard let text = scalar(key, required: required)?.value else { return nil }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            log.error(file, keyPath(key), "expected an integer, got \"\(text)\"", line: lineOf(key))
            return nil
        }
        if let range, !range.contains(value) {
            log.error(
                file,
                keyPath(key),
                "must be between \(range.lowerBound) and \(range.upperBound), got \(value)",
                line: lineOf(key)
            )
            return nil
        }
        return value
    }

    package func int(_ key: String, default fallback: Int, range: ClosedRange<Int>? = nil) -> Int {
        int(key, range: range) ?? fallback
    }

    package func double(
        _ key: String,
        required: Bool = false,
        range: ClosedRange<Double>? = nil,
        exclusiveMinimum: Double? = nil
    ) -> Double? {
        guard let text = scalar(key, required: required)?.value else { return nil }
        guard let value = Double(text.replacingOccurrences(of: "_", with: "")), value.isFinite else {
            log.error(file, keyPath(key), "expected a number, got \"\(text)\"", line: lineOf(key))
            return nil
        }
        if let range, !range.contains(value) {
            log.error(
                file,
                keyPath(key),
                "must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), got \(Self.format(value))",
                line: lineOf(key)
            )
            return nil
        }
        if let exclusiveMinimum, value <= exclusiveMinimum {
            log.error(
                file,
                keyPath(key),
                "must be greater than \(Self.format(exclusiveMinimum)), got \(Self.format(value))",
                line: lineOf(key)
            )
            return nil
        }
        return value
    }

    package func double(
        _ key: String,
        default fallback: Double,
        range: ClosedRange<Double>? = nil,
        exclusiveMinimum: Double? = nil
    ) -> Double {
        double(key, range: range, exclusiveMinimum: exclusiveMinimum) ?? fallback
    }

    package func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let text = scalar(key, required: required)?.value else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            log.error(file, keyPath(key), "expected true or false, got \"\(text)\"", line: lineOf(key))
            return nil
        }
    }

    package func bool(_ key: String, default fallback: Bool) -> Bool {
        bool(key) ?? fallback
    }

    package func duration(_ key: String, required: Bool = false, minimum: Duration = .zero) -> Duration? {
        guard let text = scalar(key, required: required)?.value else { return nil }
        guard let value = ConfigDuration.parse(text) else {
            log.error(
                file,
                keyPath(key),
                "\"\(text)\" is not a duration (write e.g. 500ms, 30s, 3m, 1h)",
                line: lineOf(key)
            )
            return nil
        }
        if value < minimum {
            log.error(
                file,
                keyPath(key),
                "must be at least \(ConfigDuration.format(minimum)), got \(text)",
                line: lineOf(key)
            )
            return nil
        }
        return value
    }

    package func duration(_ key: String, default fallback: Duration, minimum: Duration = .zero) -> Duration {
        duration(key, minimum: minimum) ?? fallback
    }

    /// A value from a closed set of choices.
    package func choice<T: RawRepresentable<String>>(
        _ key: String,
        default fallback: T?,
        required: Bool = false
    )
        -> T? where T: CaseIterable
    {
        guard let text = string(key, required: required && fallback == nil) else { return fallback }
        guard let value = T(rawValue: text) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            log.error(file, keyPath(key), "\"\(text)\" is not one of: \(options)", line: lineOf(key))
            return nil
        }
        return value
    }

    // MARK: Collections

    /// A value that may be written as one string or as a list of strings.
    package func stringOrList(_ key: String, required: Bool = false) -> [String]? {
        if case .sequence? = pairs.first(where: { $0.key == key })?.value { return stringList(key, required: required) }
        return string(key, required: required).map { [$0] }
    }

    package func stringList(_ key: String, required: Bool = false) -> [String]? {
        guard let node = node(key) else {
            if required { log.error(file, keyPath(key), "required key is missing", line: line) }
            return nil
        }
        guard case .sequence(let sequence) = node else {
            log.error(file, keyPath(key), "expected a list, got \(node.kindName)", line: node.mark?.line)
            return nil
        }
        var values: [String] = []
        for (index, element) in sequence.enumerated() {
            guard let text = element.scalar?.string else {
                log.error(
                    file,
                    "\(keyPath(key))[\(index)]",
                    "expected a value, got \(element.kindName)",
                    line: element.mark?.line
                )
                continue
            }
            do {
                values.append(try expander.expand(text).value)
            } catch {
                report(error, at: "\(keyPath(key))[\(index)]", line: element.mark?.line)
            }
        }
        return values
    }

    package func mapping(_ key: String, required: Bool = false) -> MappingReader? {
        guard let node = node(key) else {
            if required { log.error(file, keyPath(key), "required section is missing", line: line) }
            return nil
        }
        return Self.make(node: node, file: file, path: keyPath(key), log: log, expander: expander)
    }

    /// A mapping whose keys are names chosen by the user (providers, models, templates).
    package func namedMappings(_ key: String, required: Bool = false) -> [(name: String, reader: MappingReader)] {
        guard let section = mapping(key, required: required) else { return [] }
        var result: [(String, MappingReader)] = []
        for name in section.keys {
            section.declare(name)
            guard let node = section.pairs.first(where: { $0.key == name })?.value,
                let reader = Self.make(
                    node: node,
                    file: file,
                    path: section.keyPath(name),
                    log: log,
                    expander: expander
                )
            else { continue }
            result.append((name, reader))
        }
        return result
    }

    /// A mapping from user-chosen names to scalar values.
    package func namedScalars(_ key: String) -> [(name: String, value: String)] {
        guard let section = mapping(key) else { return [] }
        return section.keys.compactMap { name in
            section.string(name).map { (name, $0) }
        }
    }

    package func sequenceOfMappings(_ key: String, required: Bool = false) -> [MappingReader] {
        guard let node = node(key) else {
            if required { log.error(file, keyPath(key), "required list is missing", line: line) }
            return []
        }
        guard case .sequence(let sequence) = node else {
            log.error(file, keyPath(key), "expected a list, got \(node.kindName)", line: node.mark?.line)
            return []
        }
        return sequence.enumerated().compactMap { index, element in
            Self.make(node: element, file: file, path: "\(keyPath(key))[\(index)]", log: log, expander: expander)
        }
    }

    private func report(_ failure: EnvironmentExpander.Failure, at keyPath: String, line: Int?) {
        switch failure {
        case .unset(let variable):
            log.error(
                file,
                keyPath,
                "environment variable \(variable) is not set (write ${\(variable):-} to make it optional)",
                line: line
            )
        case .malformed(let message):
            log.error(file, keyPath, message, line: line)
        }
    }

    /// Reports every key that was present but never asked for.
    package func finish() {
        for (key, value) in pairs where !known.contains(key) {
            var message = "unknown key"
            if let suggestion = Self.closest(to: key, among: known) {
                message += " (did you mean '\(suggestion)'?)"
            }
            log.error(file, keyPath(key), message, line: value.mark?.line)
        }
    }

    package func lineOf(_ key: String) -> Int? {
        pairs.first(where: { $0.key == key })?.value.mark?.line
    }

    static func closest(to key: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, key.count / 3) else { return nil }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

extension Node {
    var kindName: String {
        switch self {
        case .scalar: "a value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}
