import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Shared

/// `control-api`: serves the engine's snapshot generations read-only, in the nof1 Alpha Arena API format.
@main
struct ControlAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control-api",
        abstract: "Serve the engine's JSON snapshots over a read-only REST API."
    )

    @Option(name: .long, help: "Root configuration file (arena.yaml); gives data_path, host, port and CORS.")
    var config: String?

    @Option(name: .customLong("data-path"), help: "Snapshot directory (overrides data_path).")
    var dataPath: String?

    @Option(name: .long, help: "Address to listen on (overrides api.host).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (overrides api.port; 0 picks a free one).")
    var port: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        let settings: ControlAPISettings
        do {
            settings = try ControlAPISettings.resolve(configPath: config, dataPath: dataPath, host: host, port: port)
        } catch {
            for diagnostic in error.diagnostics {
                FileHandle.standardError.write(Data("control-api: \(diagnostic)\n".utf8))
            }
            throw ExitCode(1)
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            FileHandle.standardError.write(Data("control-api: --log-level: unknown level '\(logLevel)'\n".utf8))
            throw ExitCode(1)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "control-api")
        let app = try ControlAPIServer.makeApplication(settings: settings, logger: logger) { channel in
            if let address = channel.localAddress {
                logger.info(
                    "listening",
                    metadata: [
                        "address": "http://\(address.ipAddress ?? settings.host):\(address.port ?? settings.port)"
                    ]
                )
            }
        }
        try await app.runService()
    }
}
