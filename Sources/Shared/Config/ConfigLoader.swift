import Foundation

/// Loads `arena.yaml` and its module files, expands environment variables, and enforces the golden rules.
/// Every problem is collected; the load fails with all of them at once.
package struct ConfigLoader: Sendable {
    package let environment: [String: String]
    /// The directory relative runtime paths (templates, schema, candles, state, journal, snapshots) are taken from;
    /// nil takes them from the process's current directory, as `engine` and `control-api` do (they run from the
    /// repository or the unit's `WorkingDirectory`). Absolute paths are kept either way.
    package let baseDirectory: String?

    package init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        baseDirectory: String? = nil
    ) {
        self.environment = environment
        self.baseDirectory = baseDirectory
    }

    /// Loads the configuration or throws a `ConfigError` listing every violation.
    package func load(path: String) throws(ConfigError) -> ArenaConfiguration {
        let log = DiagnosticLog()
        var configuration = read(path: path, log: log)
        if let baseDirectory { configuration?.resolvePaths(against: baseDirectory) }
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
        var executor = ExecutorConfiguration.read(from: executorReader)
        // Before the golden rules, which read the templates.
        if let baseDirectory { executor.resolvePaths(against: baseDirectory) }
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

    /// Module files are relative to the directory of `arena.yaml`; absolute paths are kept, and so is an empty one
    /// (a setting left empty on purpose, such as a memory-only cache).
    static func resolve(_ file: String, relativeTo directory: String) -> String {
        if file.hasPrefix("/") || file.isEmpty || directory.isEmpty { return file }
        return (directory as NSString).appendingPathComponent(file)
    }
}

extension ExecutorConfiguration {
    /// The decision schema and the templates, absolute against `directory`.
    mutating func resolvePaths(against directory: String) {
        decisionSchemaPath = ConfigLoader.resolve(decisionSchemaPath, relativeTo: directory)
        for (id, template) in templates {
            templates[id]?.path = ConfigLoader.resolve(template.path, relativeTo: directory)
        }
    }
}

extension ArenaConfiguration {
    /// Makes every relative runtime path absolute against `directory` (`ConfigLoader.baseDirectory`).
    mutating func resolvePaths(against directory: String) {
        func resolve(_ path: String) -> String { ConfigLoader.resolve(path, relativeTo: directory) }
        dataPath = resolve(dataPath)
        journal.path = resolve(journal.path)
        executor.resolvePaths(against: directory)
        llm.budget.statePath = resolve(llm.budget.statePath)
        llm.cache.path = llm.cache.path.map(resolve)
        manager.statePath = resolve(manager.statePath)
        for (id, provider) in exchange.providers {
            exchange.providers[id]?.statePath = provider.statePath.map(resolve)
        }
        for (id, provider) in market.providers {
            market.providers[id]?.dataDirectory = provider.dataDirectory.map(resolve)
        }
    }
}
