import Foundation

/// A prompt template on disk. Its first line is a `Version: X` header, which is not part of the rendered prompt.
package struct PromptTemplateFile: Sendable, Equatable {
    package enum Role: String, Sendable, CaseIterable {
        case system
        case user
    }

    package enum Failure: Error, Equatable, Sendable {
        case unreadable
        case missingVersionHeader
    }

    package let version: String
    /// The template text after the header line.
    package let body: String

    package init(version: String, body: String) {
        self.version = version
        self.body = body
    }

    package static func parse(_ text: String) throws(Failure) -> PromptTemplateFile {
        let firstLineEnd = text.firstIndex(of: "\n") ?? text.endIndex
        let firstLine = text[..<firstLineEnd].trimmingCharacters(in: .whitespaces)
        guard firstLine.hasPrefix("Version:") else { throw .missingVersionHeader }
        let version = firstLine.dropFirst("Version:".count).trimmingCharacters(in: .whitespaces)
        guard !version.isEmpty else { throw .missingVersionHeader }
        let body = firstLineEnd < text.endIndex ? String(text[text.index(after: firstLineEnd)...]) : ""
        return PromptTemplateFile(version: version, body: body)
    }

    package static func load(path: String) throws(Failure) -> PromptTemplateFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw .unreadable }
        return try parse(text)
    }
}
