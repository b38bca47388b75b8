/// One problem found while loading the configuration, addressed as `file: key.path: message`.
package struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    package enum Severity: String, Sendable {
        case error
        case warning
    }

    package let severity: Severity
    package let file: String
    package let keyPath: String
    package let message: String
    package let line: Int?

    package init(severity: Severity = .error, file: String, keyPath: String, message: String, line: Int? = nil) {
        self.severity = severity
        self.file = file
        self.keyPath = keyPath
        self.message = message
        self.line = line
    }

    package var description: String {
        let location = keyPath.isEmpty ? file : "\(file): \(keyPath)"
        let suffix = line.map { " (line \($0))" } ?? ""
        return "\(location): \(message)\(suffix)"
    }
}

/// Every error found in one load, reported together so that an operator fixes them in one pass.
package struct ConfigError: Error, Sendable, CustomStringConvertible {
    package let diagnostics: [ConfigDiagnostic]

    package init(_ diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    package var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Collects diagnostics while a configuration is read. Used by one loader on one task only.
package final class DiagnosticLog {
    package private(set) var entries: [ConfigDiagnostic] = []

    package init() {}

    package var errors: [ConfigDiagnostic] { entries.filter { $0.severity == .error } }
    package var warnings: [ConfigDiagnostic] { entries.filter { $0.severity == .warning } }

    package func error(_ file: String, _ keyPath: String, _ message: String, line: Int? = nil) {
        entries.append(ConfigDiagnostic(file: file, keyPath: keyPath, message: message, line: line))
    }

    package func warning(_ file: String, _ keyPath: String, _ message: String, line: Int? = nil) {
        entries.append(
            ConfigDiagnostic(severity: .warning, file: file, keyPath: keyPath, message: message, line: line)
        )
    }
}
