/// Expands `${VAR}` and `${VAR:-default}` in configuration values. `$$` writes a literal `$`.
package struct EnvironmentExpander: Sendable {
    package struct Result: Sendable, Equatable {
        package var value: String
        /// Variables the value referred to, in order.
        package var variables: [String]
    }

    package enum Failure: Error, Equatable, Sendable {
        case unset(variable: String)
        case malformed(String)
    }

    package let environment: [String: String]

    package init(environment: [String: String]) {
        self.environment = environment
    }

    package func expand(_ text: String) throws(Failure) -> Result {
        guard text.contains("$") else { return Result(value: text, variables: []) }
        var output = ""
        var variables: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            guard character == "$" else {
                output.append(character)
                index = text.index(after: index)
                continue
            }
            let next = text.index(after: index)
            if next < text.endIndex, text[next] == "$" {
                output.append("$")
                index = text.index(after: next)
                continue
            }
            guard next < text.endIndex, text[next] == "{" else {
                output.append(character)
                index = next
                continue
            }
            guard let close = text[next...].firstIndex(of: "}") else {
                throw .malformed("unclosed '${' in \"\(text)\"")
            }
            let body = text[text.index(after: next)..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = body.range(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            guard Self.isValidName(name) else {
                throw .malformed("'${\(body)}' is not a valid variable reference")
            }
            variables.append(String(name))
            if let value = environment[String(name)], !value.isEmpty {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                throw .unset(variable: String(name))
            }
            index = text.index(after: close)
        }
        return Result(value: output, variables: variables)
    }

    private static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || first.isLetter else { return false }
        return name.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }
}
