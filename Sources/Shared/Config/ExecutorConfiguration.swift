import Foundation

/// `executor.yaml`: prompt templates, their schema version, and how strictly prompts and outputs are checked.
package struct ExecutorConfiguration: Sendable {
    package enum ValidationMode: String, Sendable, CaseIterable {
        /// Refuse to load (templates) or fail the cycle closed (outputs).
        case strict
        /// Report and carry on; only for development.
        case warn
    }

    package struct Template: Sendable {
        package let id: String
        package var path: String
        package let role: PromptTemplateFile.Role
        /// The `Version:` this template must carry; absent: `prompt_schema_version`. Lets an older version of a
        /// template stay loadable beside its successor.
        package var version: String? = nil
        /// How much of the trader's memory the template's memory variables show (when it uses them).
        package var memory: MemoryDepth = .init()

        /// Version the template file must carry.
        package func expectedVersion(_ executor: ExecutorConfiguration) -> String {
            version ?? executor.promptSchemaVersion
        }
    }

    /// `templates.<id>.memory`: the last `closed_trades` closed trades and `recent_cycles` cycles a template's
    /// memory variables list.
    package struct MemoryDepth: Sendable, Equatable {
        package var closedTrades = 5
        package var recentCycles = 3

        package init(closedTrades: Int = 5, recentCycles: Int = 3) {
            self.closedTrades = closedTrades
            self.recentCycles = recentCycles
        }
    }

    package let promptSchemaVersion: String
    package let promptValidation: ValidationMode
    package let outputValidation: ValidationMode
    package var decisionSchemaPath: String
    package let decisionTimeout: Duration
    package var templates: [String: Template]

    /// `path` with its directory up to the last `prompts/` replaced by `directory` (`engine replay --templates`,
    /// `engine backtest --compare-templates`: another set of templates with the same file names).
    package static func relocated(_ path: String, to directory: String) -> String {
        guard let range = path.range(of: "prompts/", options: .backwards) else { return path }
        return (directory as NSString).appendingPathComponent(String(path[range.upperBound...]))
    }

    static func read(from reader: MappingReader) -> ExecutorConfiguration {
        var templates: [String: Template] = [:]
        for (id, section) in reader.namedMappings("templates", required: true) {
            let path = section.string("path", required: true)
            let role = section.choice("role", default: PromptTemplateFile.Role?.none, required: true)
            let version = section.string("version")
            var memory = MemoryDepth()
            if let depth = section.mapping("memory") {
                memory.closedTrades = depth.int("closed_trades", default: memory.closedTrades, range: 0...50)
                memory.recentCycles = depth.int("recent_cycles", default: memory.recentCycles, range: 0...20)
                depth.finish()
            }
            section.finish()
            if let path, let role {
                templates[id] = Template(id: id, path: path, role: role, version: version, memory: memory)
            }
        }
        let configuration = ExecutorConfiguration(
            promptSchemaVersion: reader.string("prompt_schema_version", required: true) ?? "",
            promptValidation: reader.choice("prompt_validation", default: ValidationMode.strict) ?? .strict,
            outputValidation: reader.choice("output_validation", default: ValidationMode.strict) ?? .strict,
            decisionSchemaPath: reader.string("decision_schema", default: "schemas/decision.schema.json"),
            decisionTimeout: reader.duration("decision_timeout", default: .seconds(90), minimum: .seconds(1)),
            templates: templates
        )
        reader.finish()
        return configuration
    }
}
