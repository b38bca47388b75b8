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
    /// The same template compiled for fast rendering; nil when it uses more than the compiled subset.
    private let compiled: CompiledTemplate?
    /// The compiled template bound to the user prompt's typed values, with and without the trader's memory;
    /// nil when it does not bind (a system template, a name outside the variables).
    private let typedWithMemory: TypedTemplate?
    private let typedWithoutMemory: TypedTemplate?
    /// Every variable the template reads, with the sections it sits in.
    package let references: [Reference]
    /// The distinct section heads the references sit in, and each reference's index into them: a render
    /// resolves each path once, not once per variable.
    private let sectionPaths: [[String]]
    private let pathOfReference: [Int]
    /// Id, version and sha256 of the body, computed once (every journal record carries it).
    package let stamp: TemplateStamp

    package struct Reference: Sendable, Equatable {
        package let name: String
        package let sections: [String]
        /// The first part of the dotted name and of each section's: what a scope is searched for.
        let head: String
        let sectionHeads: [String]

        package init(name: String, sections: [String]) {
            self.name = name
            self.sections = sections
            self.head = Self.head(name)
            self.sectionHeads = sections.map(Self.head)
        }

        static func head(_ name: String) -> String {
            String(name.split(separator: ".").first ?? Substring(name))
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
        let source = "{{% CONTENT_TYPE: TEXT}}" + file.body
        do {
            template = try MustacheTemplate(string: source)
        } catch {
            throw .syntax("\(id): \(error)")
        }
        compiled = CompiledTemplate(source)
        typedWithMemory = compiled.flatMap { TypedTemplate($0, memory: true) }
        typedWithoutMemory = compiled.flatMap { TypedTemplate($0, memory: false) }
        references = Self.scan(file.body)
        var paths: [[String]] = []
        pathOfReference = references.map { reference in
            if let index = paths.firstIndex(of: reference.sectionHeads) { return index }
            paths.append(reference.sectionHeads)
            return paths.count - 1
        }
        sectionPaths = paths
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

    /// The prompt for `context`: the compiled form when the template has one, swift-mustache otherwise (and
    /// whenever the compiled form declines a value); both give the same text.
    package func render(_ context: PromptScope) throws(Failure) -> String {
        let missing = missingVariables(in: context)
        guard missing.isEmpty else { throw .missingVariables(template: id, names: missing) }
        if let text = compiled?.render(context) { return text }
        return template.render(PromptValue.mustacheScope(context))
    }

    /// The user prompt of `model`: written straight from its typed values when the template binds to them,
    /// else through the variable scopes (`render`, which also refuses a missing variable). The same text.
    package func renderUser(_ model: UserPromptModel) throws(Failure) -> String {
        if let typed = model.memory == nil ? typedWithoutMemory : typedWithMemory { return typed.render(model) }
        return try render(model.scope())
    }

    /// Whether the user prompt is written from typed values (with or without memory).
    package func isTyped(memory: Bool) -> Bool { (memory ? typedWithMemory : typedWithoutMemory) != nil }

    /// The prompt rendered by swift-mustache alone (the reference the compiled form is tested against).
    package func renderWithMustache(_ context: PromptScope) -> String {
        template.render(PromptValue.mustacheScope(context))
    }

    /// Whether the template reads any of `names` (as a variable or a section, at any depth).
    package func readsAny(of names: Set<String>) -> Bool {
        references.contains { reference in
            names.contains(reference.head) || names.contains(reference.name)
                || reference.sectionHeads.contains(where: names.contains)
        }
    }

    /// Whether the template has a compiled form (false: every render goes through swift-mustache).
    package var isCompiled: Bool { compiled != nil }

    /// Names the template reads that no enclosing scope of `context` provides.
    package func missingVariables(in context: PromptScope) -> [String] {
        let reached = sectionPaths.map { Self.scopes(along: $0, from: context) }
        var missing: [String] = []
        for (reference, path) in zip(references, pathOfReference) {
            guard let scopes = reached[path] else { continue }
            if Self.lookup(reference.head, in: scopes) == nil, !missing.contains(reference.name) {
                missing.append(reference.name)
            }
        }
        return missing
    }

    /// The scopes a variable inside `sections` is looked up in (the context, then each section's value; a
    /// list's first element), or nil when a section is absent or an empty list: nothing inside it renders, so
    /// nothing inside it can be missing.
    private static func scopes(along sections: [String], from context: PromptScope) -> [PromptScope]? {
        var scopes: [PromptScope] = [context]
        for section in sections {
            guard let value = lookup(section, in: scopes) else { return nil }
            switch value {
            case .list(let list):
                guard let first = list.first else { return nil }
                scopes.append(first)
            case .scope(let scope):
                scopes.append(scope)
            case .text, .flag:
                break
            }
        }
        return scopes
    }

    private static func lookup(_ head: String, in scopes: [PromptScope]) -> PromptValue? {
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
