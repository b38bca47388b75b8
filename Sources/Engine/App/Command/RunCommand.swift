import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// `engine run`: the daemon. Runs every enabled trader until SIGTERM/SIGINT, then lets in-flight cycles finish,
/// publishes a final snapshot, persists state and exits 0.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the engine on a configuration until SIGTERM or SIGINT."
    )

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Run one tick (every due trader decides once), publish, and exit.")
    var once = false

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: configuration.logging.level) ?? .info
            return handler
        }
        let logger = Logger(label: "engine")
        // Trapped before anything runs: the second SIGTERM/SIGINT of a shutdown cancels in-flight cycles at once.
        let signals = ShutdownSignals()
        if !once {
            await signals.start {
                logger.warning("second signal: cancelling the cycles still in flight")
            }
        }
        defer { signals.stop() }
        let assembly: EngineAssembly
        do {
            assembly = try await EngineAssembly.make(
                configuration: configuration,
                logger: logger,
                shutdownSignals: signals
            )
        } catch {
            FileHandle.standardError.write(Data("engine: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let manager = assembly.manager
        do {
            try await run(manager, assembly: assembly, configuration: configuration, logger: logger)
        } catch {
            try? await assembly.httpClient.shutdown()
            throw error
        }
        try await assembly.httpClient.shutdown()
    }

    private func run(
        _ manager: ArenaManager,
        assembly: EngineAssembly,
        configuration: ArenaConfiguration,
        logger: Logger
    ) async throws {
        logger.info(
            "engine starting",
            metadata: [
                "traders": "\(manager.traders.map(\.configuration.id).joined(separator: ","))",
                "data_path": "\(configuration.dataPath)",
            ]
        )
        if once {
            do {
                try await manager.runOnce()
                try await assembly.journal.close()
                _ = await assembly.flushPersistence(logger: logger)
            } catch {
                FileHandle.standardError.write(Data("engine: \(error)\n".utf8))
                throw ExitCode(1)
            }
            return
        }
        let monitoring = configuration.manager.monitoring
        let metricsServer = EngineHTTPServer(
            host: monitoring.metricsHost,
            port: monitoring.metricsPort,
            metrics: assembly.metrics,
            heartbeat: manager.heartbeat,
            stallAfter: .milliseconds(max(30_000, 5 * manager.tickInterval)),
            logger: logger,
            onServerRunning: { port in
                logger.info("metrics and health", metadata: ["address": "\(monitoring.metricsHost):\(port)"])
            }
        )
        let systemd = SystemdService(
            notifier: SystemdNotifier(),
            heartbeat: manager.heartbeat,
            stallAfter: .milliseconds(max(30_000, 5 * manager.tickInterval)),
            watchdog: SystemdNotifier.watchdogInterval(),
            status: { [manager] in await manager.statusLine() },
            logger: logger
        )
        // Shut down in reverse order: systemd hears STOPPING=1 first, then the manager stops (its last cycles are
        // journaled), then the exporter publishes the final snapshot, then the journal, then Redis and the database
        // sink (which drain what they can; the journal has the rest), and the metrics server last so the shutdown
        // itself can be watched.
        let exporter: [any Service] = manager.exporter.map { [$0] } ?? []
        let group = ServiceGroup(
            services: [metricsServer] + assembly.persistenceServices + [assembly.journal] + exporter + [
                manager, systemd,
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
        logger.info("engine stopped")
    }
}
