import Foundation

/// Loads `arena.yaml` and its module files, expands environment variables, and enforces the golden rules.
/// Every problem is collected; the load fails with all of them at once.
package struct ConfigLoader: Sendable {
    package let environment: [String: String]

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Loads the configuration or throws a `ConfigError` listing every violation.
    package func load(path: String) throws(ConfigError) -> ArenaConfiguration {
        let log = DiagnosticLog()
        let configuration = read(path: path, log: log)
        guard let configuration, log.errors.isEmpty else {
            throw ConfigError(
                log.errors.isEmpty
                    ? [ConfigDiagnostic(file: path, keyPath: "", message: "cannot load")]
                    : log.errors
            )
        }
        return configuration
    }

    private func read(path: String, log: DiagnosticLog) -> ArenaConfiguration? {
        let expander = EnvironmentExpander(environment: environment)
        guard let document = YAMLDocument.load(path: path, displayName: path, log: log),
            let root = MappingReader.root(of: document, log: log, expander: expander)
        else { return nil }
        let directory = (path as NSString).deletingLastPathComponent

        var moduleReaders: [String: MappingReader] = [:]
        if let modules = root.mapping("modules", required: true) {
            for key in ArenaConfiguration.moduleKeys {
                guard let file = modules.string(key, required: true) else { continue }
                let modulePath = Self.resolve(file, relativeTo: directory)
                guard
                    let moduleDocument = YAMLDocument.load(
                        path: modulePath,
                        displayName: modulePath,
                        log: log,
                        keyPath: ""
                    )
                else {
                    continue
                }
                moduleReaders[key] = MappingReader.root(of: moduleDocument, log: log, expander: expander)
            }
            modules.finish()
        }
        let rootSection = RootSection.read(from: root)
        root.finish()

        guard let llmReader = moduleReaders["llm"], let executorReader = moduleReaders["executor"],
            let managerReader = moduleReaders["manager"], let exchangeReader = moduleReaders["exchange"],
            let marketReader = moduleReaders["market"]
        else { return nil }

        let llm = LLMConfiguration.read(from: llmReader)
        let executor = ExecutorConfiguration.read(from: executorReader)
        var manager = ManagerConfiguration.read(from: managerReader)
        let exchange = ExchangeConfiguration.read(from: exchangeReader)
        var market = MarketConfiguration.read(from: marketReader)
        market.addStandbyChains(for: manager.traders)

        let rules = GoldenRules(
            llm: llm,
            llmFile: llmReader.file,
            executor: executor,
            executorFile: executorReader.file,
            exchange: exchange,
            exchangeFile: exchangeReader.file,
            market: market,
            marketFile: marketReader.file,
            managerFile: managerReader.file,
            log: log
        )
        manager = rules.check(manager)

        return ArenaConfiguration(
            path: path,
            api: rootSection.api,
            dataPath: rootSection.dataPath,
            journal: rootSection.journal,
            clock: rootSection.clock,
            postgres: rootSection.postgres,
            redis: rootSection.redis,
            ttl: rootSection.ttl,
            logging: rootSection.logging,
            export: rootSection.export,
            llm: llm,
            executor: executor,
            manager: manager,
            exchange: exchange,
            market: market,
            warnings: log.warnings
        )
    }

    /// Module files are relative to the directory of `arena.yaml`; absolute paths are kept.
    static func resolve(_ file: String, relativeTo directory: String) -> String {
        if file.hasPrefix("/") || directory.isEmpty { return file }
        return (directory as NSString).appendingPathComponent(file)
    }
}
