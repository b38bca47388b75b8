import ArenaCore
import Crypto
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import Synchronization

/// Writes journaled cycles and exported snapshots to PostgreSQL, off the trading path. Cycles wait in a bounded
/// queue and are written in batches (one transaction, one statement per table). The journal is the source of
/// truth: at start, after any failure and whenever the queue overflowed or a trader's cycles arrive out of
/// sequence, the sink reads back from the journal every cycle past the newest one in the database (per trader),
/// so a database outage loses nothing, and keys on (trader, cycle) and cloid make every write idempotent, so
/// nothing is written twice. While the database is down the engine trades on; the sink logs, counts, alerts
/// after `lag_alert_after`, and retries with backoff.
package actor PostgresSink: PersistenceSink, Service {
    package struct Settings: Sendable {
        package var batchSize: Int
        package var queueCapacity: Int
        package var lagAlertAfter: Duration
        package var migrateOnStart: Bool
        package var idleWait: Duration = .milliseconds(200)
        package var retryMinimum: Duration = .milliseconds(500)
        package var retryMaximum: Duration = .seconds(30)
        /// At shutdown, the queue gets this long to reach the database (the journal has the rest).
        package var shutdownDrain: Duration = .seconds(10)

        package init(_ configuration: ArenaConfiguration.Postgres) {
            batchSize = configuration.batchSize
            queueCapacity = configuration.queueCapacity
            lagAlertAfter = configuration.lagAlertAfter
            migrateOnStart = configuration.migrateOnStart
        }
    }

    private struct Inbox {
        var records: [CycleRecord] = []
        var overflowed = false
        var publication: SnapshotPublication?
        var dropped = 0
    }

    package let database: PostgresDatabase
    package let journal: JournalDirectory
    package let traders: [TraderConfiguration]
    package let settings: Settings
    package let alerts: (any AlertSink)?
    package let metrics: EngineMetrics?
    package let logger: Logger

    private let inbox = Mutex(Inbox())

    /// Newest cycle in the database per trader; nil until read (and again after any failure).
    private var cursor: [String: Int]?
    private var needsCatchUp = true
    private var failingSince: ContinuousClock.Instant?
    private var lastFailure: String?
    private var alerted = false
    private var retryDelay: Duration
    private var lastSuccess = ContinuousClock.now
    /// Cycles written (live and catch-up), for tests and the benchmark.
    package private(set) var written = 0
    package private(set) var caughtUp = 0

    package init(
        database: PostgresDatabase,
        journal: JournalDirectory,
        traders: [TraderConfiguration],
        settings: Settings,
        alerts: (any AlertSink)? = nil,
        metrics: EngineMetrics? = nil,
        logger: Logger
    ) {
        self.database = database
        self.journal = journal
        self.traders = traders
        self.settings = settings
        self.alerts = alerts
        self.metrics = metrics
        self.logger = logger
        self.retryDelay = settings.retryMinimum
    }

    // MARK: - From the manager (never waits)

    package nonisolated func cycleRecorded(_ record: CycleRecord) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard inbox.records.count < settings.queueCapacity else {
                inbox.overflowed = true
                inbox.dropped += 1
                return false
            }
            inbox.records.append(record)
            return true
        }
        if !accepted { metrics?.recordPersistenceDropped(store: "postgres") }
    }

    package nonisolated func snapshotPublished(_ publication: SnapshotPublication) {
        inbox.withLock { $0.publication = publication }
    }

    package nonisolated var queueDepth: Int { inbox.withLock { $0.records.count } }

    // MARK: - The writer

    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let healthy = await step()
            let wait = healthy ? settings.idleWait : retryDelay
            // Batches gather for `idleWait`; after a failure the wait grows. A shutdown ends the wait.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        // Shutdown: give the queue a bounded time; whatever does not make it is read back from the journal later.
        let finished = (try? await withDeadline(settings.shutdownDrain) { await self.drainForShutdown() }) ?? false
        logger.info(
            "database sink stopped",
            metadata: ["written": "\(written)", "pending": "\(queueDepth)", "drained": "\(finished)"]
        )
    }

    private func drainForShutdown() async -> Bool {
        for _ in 0..<100 {
            if await step(), queueDepth == 0, !needsCatchUp { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Writes everything written so far, catching up from the journal first: for backtests, imports and tests.
    /// Returns once the database holds every journaled cycle and the latest publication, or throws the
    /// database's error.
    package func flush() async throws {
        needsCatchUp = true
        guard await step() else { throw Failure(description: lastFailure ?? "database unavailable") }
    }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// One round: prepare, catch up when needed, write the queue and the latest publication. True when the
    /// database took everything; false after a failure (logged, counted, alerted when it lasts).
    @discardableResult
    package func step() async -> Bool {
        do {
            if cursor == nil { try await prepare() }
            let overflowed = inbox.withLock { inbox in
                defer { inbox.overflowed = false }
                return inbox.overflowed
            }
            if needsCatchUp || overflowed {
                try await catchUp()
                needsCatchUp = false
            }
            try await writeQueue()
            try await writePublication()
            recovered()
            return true
        } catch {
            failed(error)
            return false
        }
    }

    private func prepare() async throws {
        if settings.migrateOnStart { try await Migrations.apply(database) }
        try await registerTraders()
        let rows = try await database.query(
            "cursor",
            "SELECT trader_id, max(cycle) FROM decision_cycles GROUP BY trader_id"
        )
        var cursor: [String: Int] = [:]
        for row in rows {
            let (trader, cycle) = try row.decode((String, Int64).self)
            cursor[trader] = Int(cycle)
        }
        self.cursor = cursor
    }

    /// The traders' configurations, with a row per version (its digest) the first time it runs.
    private func registerTraders() async throws {
        let encoder = SortedJSONEncoder()
        var rows = RowBatch(
            "traders",
            [
                "id": .text, "name": .text, "model": .text, "exchange": .text, "config_sha256": .text,
                "config": .jsonb, "updated_at": .timestamp,
            ],
            conflict: """
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, model = excluded.model, \
                exchange = excluded.exchange, config_sha256 = excluded.config_sha256, config = excluded.config, \
                updated_at = excluded.updated_at WHERE traders.config_sha256 <> excluded.config_sha256
                """
        )
        var versions = RowBatch(
            "trader_versions",
            [
                "trader_id": .text, "config_sha256": .text, "config": .jsonb, "first_seen": .timestamp,
            ]
        )
        let now = UTCTime.nowMilliseconds()
        for trader in traders {
            let json = String(decoding: try encoder.encodeEscapingSlashes(TraderRow(trader)), as: UTF8.self)
            let digest = Hex.sha256(json)
            rows.append([
                .text(trader.id), .text(trader.name), .text(trader.model), .text(trader.exchangeProvider),
                .text(digest), .text(json), .int(now),
            ])
            versions.append([.text(trader.id), .text(digest), .text(json), .int(now)])
        }
        guard !rows.isEmpty else { return }
        try await database.transaction("traders") { [rows, versions] connection in
            try await connection.query(rows.query, logger: self.database.logger)
            try await connection.query(versions.query, logger: self.database.logger)
        }
    }

    /// Every journaled cycle newer than the database's, trader by trader, in batches.
    private func catchUp() async throws {
        var cursor = self.cursor ?? [:]
        var total = 0
        for trader in journal.traders() {
            total += try await CycleRows.writeJournal(
                journal,
                trader: trader,
                after: cursor[trader] ?? 0,
                batchSize: settings.batchSize,
                to: database,
                undecodable: { line in
                    logger.warning("\(line); not written", metadata: ["trader": "\(trader)"])
                },
                written: { last in
                    cursor[trader] = last
                    self.cursor = cursor
                }
            )
        }
        self.cursor = cursor
        if total > 0 {
            written += total
            caughtUp += total
            logger.info("database caught up from the journal", metadata: ["cycles": "\(total)"])
        }
    }

    /// The queued cycles, in batches. A cycle that is not the next of its trader (the queue overflowed, or the
    /// sink missed cycles while the database was down) is not written: the next round catches up from the journal.
    private func writeQueue() async throws {
        while true {
            let batch = inbox.withLock { inbox -> [CycleRecord] in
                let taken = Array(inbox.records.prefix(settings.batchSize))
                inbox.records.removeFirst(taken.count)
                return taken
            }
            guard !batch.isEmpty else { return }
            var cursor = self.cursor ?? [:]
            var rows = CycleRows()
            for record in batch {
                let last = cursor[record.traderID]
                if let last, record.cycle <= last { continue }
                if let last, record.cycle != last + 1 {
                    needsCatchUp = true
                    continue
                }
                rows.add(record)
                cursor[record.traderID] = record.cycle
            }
            try await rows.write(to: database)
            self.cursor = cursor
            written += rows.recordCount
            metrics?.recordPersistenceBacklog(store: "postgres", records: queueDepth, lagSeconds: 0)
        }
    }

    private func writePublication() async throws {
        guard let publication = inbox.withLock({ $0.publication }) else { return }
        var rows = SnapshotRows()
        try rows.add(files: publication.files, generation: String(publication.generation), at: publication.now)
        try await rows.write(to: database)
        inbox.withLock { inbox in
            if inbox.publication?.generation == publication.generation { inbox.publication = nil }
        }
    }

    private func recovered() {
        lastSuccess = .now
        retryDelay = settings.retryMinimum
        if failingSince != nil {
            logger.notice("database writes resumed", metadata: ["after": "\(lastFailure ?? "")"])
        }
        failingSince = nil
        alerted = false
        metrics?.recordPersistenceBacklog(store: "postgres", records: queueDepth, lagSeconds: 0)
    }

    private func failed(_ error: any Error) {
        let message = String(describing: error).replacingOccurrences(of: "\n", with: " ")
        cursor = nil
        needsCatchUp = true
        // The queue is dropped: every cycle in it is (or is about to be) in the journal, where catch-up reads it.
        let dropped = inbox.withLock { inbox -> Int in
            defer { inbox.records.removeAll() }
            return inbox.records.count
        }
        let now = ContinuousClock.now
        if failingSince == nil {
            failingSince = now
            logger.error(
                "database write failed; trading continues, the journal keeps every cycle",
                metadata: ["database": "\(database.displayName)", "error": "\(message)", "queued": "\(dropped)"]
            )
        }
        lastFailure = message
        retryDelay = min(retryDelay * 2, settings.retryMaximum)
        let behind = now - lastSuccess
        metrics?.recordPersistenceBacklog(
            store: "postgres",
            records: dropped,
            lagSeconds: Double(behind.components.seconds)
        )
        if !alerted, let since = failingSince, now - since >= settings.lagAlertAfter {
            alerted = true
            let alerts = self.alerts
            let text =
                "PostgreSQL writes failing for \(behind.components.seconds) s (\(message)); the journal keeps every cycle and the database catches up when it returns"
            Task { await alerts?.raise(key: "persistence_behind:postgres", message: text) }
        }
    }
}

/// Only the cycle number of a journal line: catch-up skips cycles the database has without decoding them whole.
/// The configuration a trader ran with, as stored in `traders.config`.
package struct TraderRow: Encodable {
    package let id: String
    package let name: String
    package let model: String
    package let fallbackModels: [String]
    package let exchangeProvider: String
    package let marketProvider: String
    package let decisionIntervalMilliseconds: Int64
    package let allocationPct: Double
    package let symbols: [String]
    package let promptTemplate: String
    package let executorPromptTemplate: String

    package init(_ trader: TraderConfiguration) {
        id = trader.id
        name = trader.name
        model = trader.model
        fallbackModels = trader.fallbackModels
        exchangeProvider = trader.exchangeProvider
        marketProvider = trader.marketProvider
        decisionIntervalMilliseconds = trader.decisionInterval.milliseconds
        allocationPct = trader.allocationPct
        symbols = trader.symbols
        promptTemplate = trader.promptTemplate
        executorPromptTemplate = trader.executorPromptTemplate
    }

    package enum CodingKeys: String, CodingKey {
        case id, name, model, symbols
        case fallbackModels = "fallback_models"
        case exchangeProvider = "exchange_provider"
        case marketProvider = "market_provider"
        case decisionIntervalMilliseconds = "decision_interval_ms"
        case allocationPct = "allocation_pct"
        case promptTemplate = "prompt_template"
        case executorPromptTemplate = "executor_prompt_template"
    }
}
