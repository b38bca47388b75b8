import Crypto
import Foundation
import Mustache
import Shared

/// A versioned prompt template compiled for text output (no HTML escaping). Rendering refuses a context that
/// lacks any variable the template names: a prompt with a silent gap is worse than no prompt.
package struct PromptTemplate: Sendable {
    package let id: String
    package let version: String
    package let body: String
    private let template: MustacheTemplate
    /// Every variable the template reads, with the sections it sits in.
    package let references: [Reference]
    /// Id, version and sha256 of the body, computed once (every journal record carries it).
    package let stamp: TemplateStamp

    package struct Reference: Sendable, Equatable {
        package var name: String
        package var sections: [String]

        package init(name: String, sections: [String]) {
            self.name = name
            self.sections = sections
        }
    }

    package enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unreadable(String)
        case versionMismatch(template: String, version: String, expected: String)
        case syntax(String)
        case missingVariables(template: String, names: [String])

        package var description: String {
            switch self {
            case .unreadable(let path): "cannot read template \(path)"
            case .versionMismatch(let template, let version, let expected):
                "template \(template) has Version: \(version), expected \(expected)"
            case .syntax(let message): "template syntax error: \(message)"
            case .missingVariables(let template, let names):
                "template \(template) needs variables the context lacks: \(names.joined(separator: ", "))"
            }
        }
    }

    package init(id: String, file: PromptTemplateFile) throws(Failure) {
        self.id = id
        self.version = file.version
        self.body = file.body
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + file.body)
        } catch {
            throw .syntax("\(id): \(error)")
        }
        references = Self.scan(file.body)
        stamp = TemplateStamp(
            id: id,
            version: file.version,
            digest: Hex.sha256(file.body)
        )
    }

    package static func load(id: String, path: String, expectedVersion: String) throws(Failure) -> PromptTemplate {
        let file: PromptTemplateFile
        do {
            file = try PromptTemplateFile.load(path: path)
        } catch {
            throw .unreadable(path)
        }
        guard file.version == expectedVersion else {
            throw .versionMismatch(template: id, version: file.version, expected: expectedVersion)
        }
        return try PromptTemplate(id: id, file: file)
    }

    package func render(_ context: [String: Any]) throws(Failure) -> String {
        let missing = missingVariables(in: context)
        guard missing.isEmpty else { throw .missingVariables(template: id, names: missing) }
        return template.render(context)
    }

    /// Names the template reads that no enclosing scope of `context` provides.
    package func missingVariables(in context: [String: Any]) -> [String] {
        var missing: [String] = []
        for reference in references {
            var scopes: [[String: Any]] = [context]
            var reachable = true
            for section in reference.sections {
                guard let value = Self.lookup(section, in: scopes) else {
                    reachable = false
                    break
                }
                if let list = value as? [[String: Any]] {
                    // An empty list renders nothing, so nothing inside it can be missing.
                    guard let first = list.first else {
                        reachable = false
                        break
                    }
                    scopes.append(first)
                } else if let object = value as? [String: Any] {
                    scopes.append(object)
                }
            }
            if reachable, Self.lookup(reference.name, in: scopes) == nil, !missing.contains(reference.name) {
                missing.append(reference.name)
            }
        }
        return missing
    }

    private static func lookup(_ name: String, in scopes: [[String: Any]]) -> Any? {
        let head = String(name.split(separator: ".").first ?? Substring(name))
        for scope in scopes.reversed() {
            if let value = scope[head] { return value }
        }
        return nil
    }

    /// Finds variable and section tags: `{{x}}`, `{{{x}}}`, `{{&x}}`, `{{#x}}`, `{{^x}}`, `{{/x}}`.
    package static func scan(_ text: String) -> [Reference] {
        var references: [Reference] = []
        var sections: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            let triple = rest.hasPrefix("{")
            guard let close = rest.range(of: triple ? "}}}" : "}}") else { break }
            var tag = rest[..<close.lowerBound]
            rest = rest[close.upperBound...]
            if triple { tag = tag.dropFirst() }
            let sigil = tag.first
            switch sigil {
            case "!", "%", ">", "=":
                continue
            case "#", "^":
                let name = tag.dropFirst().trimmingCharacters(in: .whitespaces)
                references.append(Reference(name: name, sections: sections))
                sections.append(name)
            case "/":
                if !sections.isEmpty { sections.removeLast() }
            case "&":
                references.append(
                    Reference(name: tag.dropFirst().trimmingCharacters(in: .whitespaces), sections: sections)
                )
            default:
                let name = tag.trimmingCharacters(in: .whitespaces)
                if name != "." { references.append(Reference(name: name, sections: sections)) }
            }
        }
        return references
    }
}
