import Foundation
import NIOCore
import Shared

/// Where the control-api reads snapshots and where it listens: from `arena.yaml`, overridden by flags.
struct ControlAPISettings: Sendable {
    var dataPath: String
    var host: String
    var port: Int
    var corsOrigins: [String]
    var watchInterval: Duration
    /// Whether the browser dashboard is served at `/` (`api.dashboard`).
    var dashboard = true
    /// A generation older than this is reported stale (`api.stale_after`).
    var staleAfter: Duration = .seconds(60)
    /// Event-loop threads (`api.threads`); 0: half the machine's cores, at least one (`eventLoopThreads`).
    var threads = 0
    /// Redis to read through (`redis.address`), its password and key prefix; nil: files only.
    var redisAddress: String? = nil
    var redisPassword: String? = nil
    var redisKeyPrefix = "arena:"

    static let defaults = ControlAPISettings(
        dataPath: "mcp-data",
        host: "127.0.0.1",
        port: 8080,
        corsOrigins: ["*"],
        watchInterval: .milliseconds(250)
    )

    /// The event-loop threads to run: `threads`, or for 0 half of `cores`, at least one. The API shares its
    /// machine with the engine, and a loop per core made its answers wait behind the scheduler: on two cores
    /// under `wrk`, one loop answered as many requests as two with a p99 of 2.9–3.6 ms instead of 4.8–5.7 ms.
    func eventLoopThreads(cores: Int = System.coreCount) -> Int {
        threads > 0 ? threads : max(1, cores / 2)
    }

    /// Reads `configPath` (when given) and applies the flag overrides.
    static func resolve(
        configPath: String?,
        dataPath: String?,
        host: String?,
        port: Int?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> ControlAPISettings {
        var settings = defaults
        if let configPath {
            let configuration = try ConfigLoader(environment: environment).load(path: configPath)
            settings.dataPath = configuration.dataPath
            settings.host = configuration.api.host
            settings.port = configuration.api.port
            settings.corsOrigins = configuration.api.corsOrigins
            settings.watchInterval = configuration.api.watchInterval
            settings.dashboard = configuration.api.dashboard
            settings.staleAfter = configuration.api.staleAfter
            settings.threads = configuration.api.threads
            settings.redisAddress = configuration.redis.address
            settings.redisPassword = configuration.redis.password.revealed
            settings.redisKeyPrefix = configuration.redis.keyPrefix
        }
        if let dataPath { settings.dataPath = dataPath }
        if let host { settings.host = host }
        if let port {
            guard (0...65535).contains(port) else {
                throw ConfigError([
                    ConfigDiagnostic(file: "--port", keyPath: "", message: "must be 0–65535, got \(port)")
                ])
            }
            settings.port = port
        }
        return settings
    }
}
