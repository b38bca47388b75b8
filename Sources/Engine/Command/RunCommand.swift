import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// `engine run`: the daemon. Until the trading loop lands it validates the configuration, publishes the
/// arena's opening snapshot (every enabled trader at its starting capital) and waits for SIGTERM/SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the engine on a configuration until SIGTERM or SIGINT."
    )

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Publish the snapshot and exit instead of running as a daemon.")
    var once = false

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: configuration.logging.level) ?? .info
            return handler
        }
        let logger = Logger(label: "engine")
        let exporter = SnapshotExporter(configuration: configuration, logger: logger)
        do {
            let generation = try exporter.publishOpeningSnapshot(now: Date())
            logger.info(
                "published snapshot",
                metadata: [
                    "generation": "\(generation)", "data_path": "\(configuration.dataPath)",
                    "traders": "\(configuration.enabledTraders.count)",
                ]
            )
        } catch {
            logger.error("cannot publish the snapshot", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        if once { return }
        let group = ServiceGroup(
            services: [IdleService()],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        logger.info("engine running; the trading loop is not built yet, so traders hold their opening state")
        try await group.run()
        logger.info("engine stopped")
    }
}

/// Keeps the daemon alive until a shutdown signal; replaced by the manager once the trading loop exists.
struct IdleService: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
