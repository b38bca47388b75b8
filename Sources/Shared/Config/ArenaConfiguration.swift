import Foundation

/// The whole configuration: `arena.yaml` and the five module files it names, loaded and checked together.
package struct ArenaConfiguration: Sendable {
    package struct API: Sendable {
        package let host: String
        package let port: Int
        package let corsOrigins: [String]
        package let watchInterval: Duration
        /// Whether `control-api` serves the browser dashboard at `/`.
        package var dashboard = true
        /// A generation older than this is reported stale (`/api/health`, the dashboard).
        package var staleAfter: Duration = .seconds(60)
        /// `control-api`'s event-loop threads; 0: half the machine's cores, at least one.
        package var threads = 0
    }

    package struct Postgres: Sendable {
        package let dsn: Secret
        package let poolSize: Int
        package let migrateOnStart: Bool
        package var connectTimeout: Duration = .seconds(5)
        /// Any one statement or transaction; past it the write fails and is retried.
        package var queryTimeout: Duration = .seconds(30)
        /// Slower operations are logged.
        package var slowQueryThreshold: Duration = .milliseconds(500)
        /// Cycles written per transaction.
        package var batchSize: Int = 100
        /// Cycles waiting for the database; when full, newer ones are read back from the journal later.
        package var queueCapacity: Int = 10_000
        /// The database failing or behind for this long raises the `persistence_behind` alert.
        package var lagAlertAfter: Duration = .seconds(60)
        package var isEnabled: Bool { !dsn.isEmpty }
    }

    package struct Redis: Sendable {
        package let address: String?
        package let password: Secret
        package let keyPrefix: String
        package var isEnabled: Bool { address != nil }
    }

    package struct CacheTTL: Sendable {
        package let short: Duration
        package let medium: Duration
        package let long: Duration
    }

    package struct Logging: Sendable {
        package enum Format: String, Sendable, CaseIterable { case text, json }
        package let level: String
        package let format: Format
    }

    package struct Export: Sendable {
        package let interval: Duration
        package let keepGenerations: Int
        package let gracePeriod: Duration
    }

    package struct Journal: Sendable {
        package var path: String
        /// A journal file is closed and a new one started past this size…
        package let maxFileBytes: Int
        /// …or this age.
        package let rotateInterval: Duration
        /// Appended records are written and fsynced together at most this far apart.
        package let fsyncInterval: Duration
        /// Records waiting to be written; when full, the trading loop waits (and it is counted and logged).
        package var queueCapacity: Int
        /// gzip a file once it is rotated out (readers handle both forms).
        package var compressClosedFiles: Bool = true
        /// gzip level of those files (1 fastest … 9 smallest); nil when the configuration leaves it to the run:
        /// 6 for a live engine, 1 for a backtest (`Journal.defaultCompressionLevel`, `Backtest.configuration`).
        package var compressionLevel: Int?
        /// A live engine's gzip level: zlib's default, the smallest files for the time.
        package static let defaultCompressionLevel = 6
        /// A backtest's: it writes a live day's records in a second, and level 1 compresses them 2.6 times faster
        /// than 6 into files about 1.7 times as big (measured on a backtest's journal: 7.7 × against 13.4 ×).
        package static let backtestCompressionLevel = 1
        /// A full queue is how records are batched (a backtest), not the disk falling behind: not a warning.
        package var fillsQueueByDesign = false
        /// Records are encoded beside the trading loop, a batch at a time (a backtest, which needs no record
        /// durable before the next cycle).
        package var encodesInBackground = false
        /// Each written batch is fsynced (a live engine). A backtest fsyncs a file when it is closed — rotated
        /// out, or at the end of the run — instead: a crash loses the unsynced tail, and the run is made again.
        package var syncsEveryBatch = true
        /// A record's market series that continue the previous record's are written as continuations
        /// (`{"append":[…],"shift":k}`), not whole (a backtest: its cycles see the same series moved on by a candle).
        /// A live engine's records stand alone, line by line.
        package var continuesSeries = false
    }

    /// The engine's clock: the wall clock for live use, or a replay of history `speed` times faster.
    package struct Clock: Sendable {
        package enum Mode: String, Sendable, CaseIterable { case wall, replay }
        package let mode: Mode
        package let speed: Double
        /// ISO 8601 start of a replay; nil starts at the first moment every symbol has full history.
        package let start: String?
    }

    /// Path of the root file, as given.
    package let path: String
    package let api: API
    package var dataPath: String
    package var journal: Journal
    package let clock: Clock
    package let postgres: Postgres
    package let redis: Redis
    package let ttl: CacheTTL
    package let logging: Logging
    package let export: Export
    package var llm: LLMConfiguration
    package var executor: ExecutorConfiguration
    package var manager: ManagerConfiguration
    package var exchange: ExchangeConfiguration
    package var market: MarketConfiguration
    /// Non-fatal findings (such as a trader disabled because its API key is not set).
    package let warnings: [ConfigDiagnostic]

    package var traders: [TraderConfiguration] { manager.traders }
    package var enabledTraders: [TraderConfiguration] { manager.traders.filter(\.isEnabled) }

    /// The module file names read from `arena.yaml`, keyed by module.
    package static let moduleKeys = ["llm", "executor", "manager", "exchange", "market"]

    package static let validLogLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
}

/// The parts of `arena.yaml` other than the module files.
struct RootSection {
    let api: ArenaConfiguration.API
    let dataPath: String
    let journal: ArenaConfiguration.Journal
    let clock: ArenaConfiguration.Clock
    let postgres: ArenaConfiguration.Postgres
    let redis: ArenaConfiguration.Redis
    let ttl: ArenaConfiguration.CacheTTL
    let logging: ArenaConfiguration.Logging
    let export: ArenaConfiguration.Export

    static func read(from reader: MappingReader) -> RootSection {
        let api = reader.mapping("api")
        let apiSection = ArenaConfiguration.API(
            host: api?.string("host", default: "127.0.0.1") ?? "127.0.0.1",
            port: api?.int("port", default: 8080, range: 0...65535) ?? 8080,
            corsOrigins: api?.stringList("cors_origins") ?? ["*"],
            watchInterval: api?.duration("watch_interval", default: .milliseconds(250), minimum: .milliseconds(10))
                ?? .milliseconds(250),
            dashboard: api?.bool("dashboard", default: true) ?? true,
            staleAfter: api?.duration("stale_after", default: .seconds(60), minimum: .seconds(1)) ?? .seconds(60),
            threads: api?.int("threads", default: 0, range: 0...256) ?? 0
        )
        api?.finish()

        let postgres = reader.mapping("postgres")
        let postgresSection = ArenaConfiguration.Postgres(
            dsn: postgres?.secret("dsn") ?? Secret(""),
            poolSize: postgres?.int("pool_size", default: 4, range: 1...256) ?? 4,
            migrateOnStart: postgres?.bool("migrate_on_start", default: true) ?? true,
            connectTimeout: postgres?.duration("connect_timeout", default: .seconds(5), minimum: .milliseconds(10))
                ?? .seconds(5),
            queryTimeout: postgres?.duration("query_timeout", default: .seconds(30), minimum: .milliseconds(10))
                ?? .seconds(30),
            slowQueryThreshold: postgres?.duration("slow_query_threshold", default: .milliseconds(500))
                ?? .milliseconds(500),
            batchSize: postgres?.int("batch_size", default: 100, range: 1...100_000) ?? 100,
            queueCapacity: postgres?.int("queue_capacity", default: 10_000, range: 1...10_000_000) ?? 10_000,
            lagAlertAfter: postgres?.duration("lag_alert_after", default: .seconds(60), minimum: .seconds(1))
                ?? .seconds(60)
        )
        postgres?.finish()

        let redis = reader.mapping("redis")
        let redisSection = ArenaConfiguration.Redis(
            address: redis?.string("address").flatMap { $0.isEmpty ? nil : $0 },
            password: redis?.secret("password") ?? Secret(""),
            keyPrefix: redis?.string("key_prefix", default: "arena:") ?? "arena:"
        )
        redis?.finish()

        let ttl = reader.mapping("ttl")
        let ttlSection = ArenaConfiguration.CacheTTL(
            short: ttl?.duration("short", default: .seconds(10)) ?? .seconds(10),
            medium: ttl?.duration("medium", default: .seconds(60)) ?? .seconds(60),
            long: ttl?.duration("long", default: .seconds(600)) ?? .seconds(600)
        )
        ttl?.finish()

        let logging = reader.mapping("logging")
        let level = logging?.string("level", default: "info") ?? "info"
        if !ArenaConfiguration.validLogLevels.contains(level) {
            reader.log.error(
                reader.file,
                "logging.level",
                "\"\(level)\" is not one of: \(ArenaConfiguration.validLogLevels.joined(separator: ", "))",
                line: logging?.lineOf("level")
            )
        }
        let loggingSection = ArenaConfiguration.Logging(
            level: level,
            format: logging?.choice("format", default: ArenaConfiguration.Logging.Format.text) ?? .text
        )
        logging?.finish()

        let export = reader.mapping("export")
        let exportSection = ArenaConfiguration.Export(
            interval: export?.duration("interval", default: .seconds(15), minimum: .milliseconds(100)) ?? .seconds(15),
            keepGenerations: export?.int("keep_generations", default: 5, range: 1...10_000) ?? 5,
            gracePeriod: export?.duration("grace_period", default: .seconds(60)) ?? .seconds(60)
        )
        export?.finish()

        let journal = reader.mapping("journal")
        let journalSection = ArenaConfiguration.Journal(
            path: journal?.string("path", default: "journal") ?? "journal",
            maxFileBytes: journal?.int("max_file_bytes", default: 64 << 20, range: 4096...(1 << 40)) ?? 64 << 20,
            rotateInterval: journal?.duration("rotate_interval", default: .seconds(86_400), minimum: .seconds(1))
                ?? .seconds(86_400),
            fsyncInterval: journal?.duration("fsync_interval", default: .milliseconds(200), minimum: .milliseconds(1))
                ?? .milliseconds(200),
            queueCapacity: journal?.int("queue_capacity", default: 4096, range: 1...1_000_000) ?? 4096,
            compressClosedFiles: journal?.bool("compress_closed_files", default: true) ?? true,
            compressionLevel: journal?.int("compression_level", range: 1...9)
        )
        journal?.finish()

        let clock = reader.mapping("clock")
        let clockSection = ArenaConfiguration.Clock(
            mode: clock?.choice("mode", default: ArenaConfiguration.Clock.Mode.wall) ?? .wall,
            speed: clock?.double("speed", default: 1, range: 0.001...100_000) ?? 1,
            start: clock?.string("start").flatMap { $0.isEmpty ? nil : $0 }
        )
        if let start = clockSection.start, UTCTime.milliseconds(iso8601: start) == nil {
            reader.log.error(
                reader.file,
                "clock.start",
                "\"\(start)\" is not an ISO 8601 time such as 2025-07-15T00:00:00Z",
                line: clock?.lineOf("start")
            )
        }
        clock?.finish()

        return RootSection(
            api: apiSection,
            dataPath: reader.string("data_path", default: "mcp-data"),
            journal: journalSection,
            clock: clockSection,
            postgres: postgresSection,
            redis: redisSection,
            ttl: ttlSection,
            logging: loggingSection,
            export: exportSection
        )
    }
}
