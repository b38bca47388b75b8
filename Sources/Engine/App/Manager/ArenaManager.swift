import ArenaAdapters
import ArenaCore
import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Runs every enabled trader. Ticks on the injected clock; each due trader's cycle runs in its own child task
/// under `max_concurrent_decisions`, so a slow model never delays another trader. Keeps per-trader state
/// (cycle numbers, failures, cooldowns, pauses, kill switches, equity history), persists it atomically to
/// `state_path` after every cycle, and publishes snapshots after cycles (coalesced) and every export interval.
final class ArenaManager: Service, Sendable {
    /// A trader as the manager runs it. A class: the loop hands it around every tick, and a reference is one
    /// retain where a copy of the configuration and cycle would be dozens.
    final class Trader: Sendable {
        let configuration: TraderConfiguration
        let cycle: DecisionCycle
        let capital: Double

        init(configuration: TraderConfiguration, cycle: DecisionCycle, capital: Double) {
            self.configuration = configuration
            self.cycle = cycle
            self.capital = capital
        }
    }

    let traders: [Trader]
    let clock: any ArenaClock
    /// Clock milliseconds between ticks (1 s of wall time, times the replay speed).
    let tickInterval: Int64
    let maxConcurrentDecisions: Int
    let exchanges: [String: any ExchangeProvider]
    let markets: [String: any MarketProvider]
    let store: ManagerStore
    let publisher: SnapshotPublisher?
    let exportInterval: Int64
    let journal: JournalWriter?
    let logger: Logger
    /// Save state after every cycle (live); a backtest saves once at the end.
    let persistsEveryCycle: Bool
    /// Where operator alerts go (kill switches, traders failing closed, positions without a stop).
    let alerts: (any AlertSink)?
    let metrics: EngineMetrics?
    /// PostgreSQL and Redis, when configured: handed every cycle and every export, never waited on.
    let sinks: [any PersistenceSink]
    /// `performance_based` capital rebalancing, when configured.
    struct Rebalancing: Sendable {
        /// Engine clock milliseconds between rebalances.
        let interval: Int64
        let rebalancer: Rebalancer
        let log: RebalanceLog
    }

    let rebalancing: Rebalancing?
    /// One cycle's commit (state, journal, saved state) at a time.
    private let commitGate = AsyncGate()
    /// Consecutive failed-closed cycles of a trader that raise an alert.
    static let failureAlertAfter = 3
    /// Beats after every tick: liveness for `/healthz` and the watchdog.
    let heartbeat = Heartbeat()
    /// When each trader's last drawdown close-out ran.
    private let lastCloseOut = Mutex<[String: Int64]>([:])

    init(
        traders: [Trader],
        clock: any ArenaClock,
        tickInterval: Int64,
        maxConcurrentDecisions: Int,
        exchanges: [String: any ExchangeProvider],
        markets: [String: any MarketProvider],
        store: ManagerStore,
        publisher: SnapshotPublisher?,
        exportInterval: Int64,
        journal: JournalWriter? = nil,
        persistsEveryCycle: Bool = true,
        alerts: (any AlertSink)? = nil,
        metrics: EngineMetrics? = nil,
        sinks: [any PersistenceSink] = [],
        rebalancing: Rebalancing? = nil,
        shutdownGrace: Duration = .seconds(30),
        shutdownSignals: ShutdownSignals? = nil,
        logger: Logger
    ) {
        self.shutdownGrace = shutdownGrace
        self.shutdownSignals = shutdownSignals
        self.traders = traders
        self.clock = clock
        self.tickInterval = tickInterval
        self.maxConcurrentDecisions = maxConcurrentDecisions
        self.exchanges = exchanges
        self.markets = markets
        self.store = store
        self.publisher = publisher
        self.exportInterval = exportInterval
        self.journal = journal
        self.persistsEveryCycle = persistsEveryCycle
        self.alerts = alerts
        self.metrics = metrics
        self.sinks = sinks
        self.rebalancing = rebalancing
        self.logger = logger
    }

    /// Opens each trader's paper account (once) and starts its state.
    func prepare() async throws {
        let now = clock.now()
        for trader in traders {
            var capital = trader.capital
            if let sim = exchanges[trader.configuration.exchangeProvider] as? SimExchange {
                try await sim.openAccount(trader: trader.configuration.id, capital: capital)
            } else if let venue = exchanges[trader.configuration.exchangeProvider] {
                // A live account's capital is what the venue holds; measuring returns, drawdown and daily loss
                // against the configured allocation instead would be wrong from the first tick.
                capital = try await venue.account(trader: trader.configuration.id).equity
                if abs(capital - trader.capital) > 0.01 * max(1, trader.capital) {
                    logger.notice(
                        "live account equity differs from the configured allocation; using the venue's",
                        metadata: [
                            "trader": "\(trader.configuration.id)", "venue_equity": "\(capital)",
                            "allocation": "\(trader.capital)",
                        ]
                    )
                }
            }
            await store.begin(trader: trader.configuration.id, capital: capital, now: now)
            // A crash between the journal's fsync and the state's save leaves the journal one cycle ahead: count
            // from the journal, so no cycle number is used twice.
            if let journal, let last = try await journal.lastCycle(trader: trader.configuration.id),
                await store.advanceCycle(trader.configuration.id, to: last)
            {
                logger.notice(
                    "cycle count taken from the journal: the saved state was behind it (a crash before the save)",
                    metadata: ["trader": "\(trader.configuration.id)", "cycle": "\(last)"]
                )
            }
            try await recoverInterruptedCycle(trader, now: now)
        }
        try await recoverRebalances()
        try await refreshMarkets(now: now)
    }

    func run() async throws {
        try await prepare()
        // A discarding group: finished cycles leave nothing behind, however long the engine runs.
        await withDiscardingTaskGroup { group in
            var lastExport: Int64?
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let now = clock.now()
                await handleResumeRequests()
                await tick(now: now)
                await rebalanceIfDue(now: now)
                heartbeat.beat()
                for trader in await dueTraders(now: now) {
                    guard await store.claim(trader.configuration.id, limit: maxConcurrentDecisions) else { continue }
                    group.addTask { await self.runCycle(trader, now: now) }
                }
                let exportDue = lastExport.map { now - $0 >= exportInterval } ?? true
                if await store.takeDirty() || exportDue {
                    await export(now: now)
                    lastExport = now
                }
                try? await clock.sleep(until: now + tickInterval)
            }
            // Graceful shutdown: in-flight cycles get up to `shutdownGrace` to finish; then they are cancelled (a
            // cancelled model call fails its cycle closed, and its record is journaled). A second signal cancels
            // at once.
            let deadline = ContinuousClock.now + shutdownGrace
            let running = await store.runningCount
            if running > 0 {
                logger.notice(
                    "shutdown: waiting for cycles in flight (a second signal cancels them)",
                    metadata: ["count": "\(running)", "grace": "\(shutdownGrace)"]
                )
            }
            while await store.runningCount > 0, ContinuousClock.now < deadline, !Task.isCancelled,
                shutdownSignals?.isUrgent != true
            {
                try? await Task.sleep(for: .milliseconds(50))
            }
            let unfinished = await store.runningCount
            if unfinished > 0 {
                let why = shutdownSignals?.isUrgent == true ? "a second signal" : "the grace period is over"
                logger.warning(
                    "shutdown: cancelling cycles still running (\(why))",
                    metadata: ["count": "\(unfinished)"]
                )
            }
            group.cancelAll()
        }
        await export(now: clock.now())
        await persist()
        logger.info("manager stopped")
    }

    /// How long in-flight cycles may run on after a shutdown signal (`manager.shutdown_grace`).
    let shutdownGrace: Duration
    /// SIGTERM/SIGINT counted by `engine run`: a second one cancels in-flight cycles at once.
    let shutdownSignals: ShutdownSignals?

    /// A one-line status for systemd.
    func statusLine() async -> String {
        let running = await store.runningCount
        let age = heartbeat.age.map { "\($0.components.seconds) s" } ?? "never"
        return "\(traders.count) traders, \(running) cycles running, last tick \(age) ago"
    }

    /// One tick with every due trader deciding once, then a snapshot and saved state: for tests and scripts.
    func runOnce() async throws {
        try await prepare()
        let now = clock.now()
        await tick(now: now)
        await withDiscardingTaskGroup { group in
            for trader in await dueTraders(now: now) {
                guard await store.claim(trader.configuration.id, limit: .max) else { continue }
                group.addTask { await self.runCycle(trader, now: now) }
            }
        }
        await export(now: now)
        await persist()
        try await journal?.flush()
    }

    /// A backtest: from the clock's time to `end`, tick, run every due trader one at a time (in id order, so the
    /// paper venue sees the same sequence every run), then jump straight to the next event: the next candle close
    /// or the next trader due, whichever is first. The same cycle, risk and order code as a live run; one snapshot
    /// and one state save at the end. `progress` is called after each tick with the clock time and cycles run.
    func runBacktest(
        until end: Int64,
        clock: VirtualClock,
        progress: (Int64, Int) -> Void = { _, _ in }
    ) async throws -> Int {
        try await prepare()
        let replayMarkets = markets.values.compactMap { $0 as? ReplayMarketProvider }
        let ordered = traders.sorted { $0.configuration.id < $1.configuration.id }
        var cycles = 0
        while clock.now() <= end, !Task.isCancelled {
            let now = clock.now()
            await tick(now: now)
            await rebalanceIfDue(now: now)
            var nextDue = Int64.max
            for trader in ordered where trader.configuration.autoStart {
                let state = await store.state(trader.configuration.id)
                let interval = trader.configuration.decisionInterval.milliseconds
                if let last = state.lastDecisionAt, now - last < interval {
                    nextDue = min(nextDue, last + interval)
                    continue
                }
                guard await store.claim(trader.configuration.id, limit: .max) else { continue }
                await runCycle(trader, now: now)
                cycles += 1
                nextDue = min(nextDue, now + interval)
            }
            progress(now, cycles)
            let nextCandle = replayMarkets.compactMap { $0.nextClose(after: now) }.min() ?? .max
            let next = min(nextCandle, nextDue)
            guard next != .max, next > now else { break }
            clock.jump(to: next)
        }
        let finish = min(clock.now(), end)
        await export(now: finish)
        await persist()
        try await journal?.flush()
        return cycles
    }

    /// Traders whose decision interval has elapsed and that are not running.
    func dueTraders(now: Int64) async -> [Trader] {
        var due: [Trader] = []
        let suspended = await store.suspended
        for trader in traders where trader.configuration.autoStart && suspended[trader.configuration.id] == nil {
            let state = await store.state(trader.configuration.id)
            let interval = trader.configuration.decisionInterval.milliseconds
            if let last = state.lastDecisionAt, now - last < interval { continue }
            due.append(trader)
        }
        return due
    }

    func runCycle(_ trader: Trader, now: Int64) async {
        let state = await store.state(trader.configuration.id)
        let started = ContinuousClock.now
        let record = await trader.cycle.run(
            cycle: state.cycle + 1,
            now: now,
            state: state,
            clock: clock,
            intentLog: intentLog
        )
        if let metrics {
            metrics.recordCycle(
                record,
                duration: ContinuousClock.now - started,
                venue: trader.configuration.exchangeProvider
            )
            if let asOf = record.market?.oldestAsOf {
                metrics.recordMarketAge(
                    provider: trader.configuration.marketProvider,
                    seconds: Double(now - asOf) / 1000
                )
            }
        }
        await commit(record, trader: trader, now: now)
        await raiseAlerts(for: record, trader: trader.configuration.id)
        if record.outcome == .failedClosed {
            logger.notice(
                "cycle failed closed",
                metadata: [
                    "trader": "\(trader.configuration.id)", "cycle": "\(record.cycle)",
                    "reason": "\(record.reason?.rawValue ?? "")", "error": "\(record.error ?? "")",
                ]
            )
        }
    }

    /// Where cycles journal their order intents before sending them: the journal in a live run; nothing in a
    /// backtest, whose paper venue lives in memory and whose run starts over after a crash.
    var intentLog: DecisionCycle.IntentLog? {
        guard persistsEveryCycle, let journal else { return nil }
        return { @Sendable record in try await journal.writeIntent(record) }
    }

    /// The commit: state, journal and saved state in that order, one cycle at a time. The record is durable
    /// before the saved state counts the cycle, and no other cycle's count is saved before its record is,
    /// so after a crash the journal never lacks a cycle the state has (no gap in the numbering). Once the record
    /// is durable the cycle's order intents are done.
    func commit(_ record: CycleRecord, trader: Trader, now: Int64) async {
        await commitGate.lock()
        await store.apply(record, configuration: trader.configuration, now: now)
        do {
            try await journal?.append(record)
            if persistsEveryCycle {
                try await journal?.flush()
                await journal?.clearIntent(trader: record.traderID)
            }
            if let metrics, let journal {
                metrics.recordJournal(
                    queueDepth: await journal.queueDepth,
                    fullQueueWaits: await journal.fullQueueWaits
                )
            }
        } catch {
            logger.error(
                "journal append failed",
                metadata: ["trader": "\(trader.configuration.id)", "error": "\(error)"]
            )
        }
        if persistsEveryCycle { await persist() }
        await commitGate.unlock()
        for sink in sinks { sink.cycleRecorded(record) }
    }

    /// A crash while a cycle's orders were going out leaves their intents (`intent.json`) and no record. The record
    /// is completed from what the venue knows of each cloid (`CycleRecovery`) and committed under its own number,
    /// before the trader decides again. Intents whose record did make it are just removed.
    func recoverInterruptedCycle(_ trader: Trader, now: Int64) async throws {
        let id = trader.configuration.id
        guard let journal, let intent = try await journal.intent(trader: id) else { return }
        guard intent.cycle > (try await journal.lastCycle(trader: id) ?? 0) else {
            await journal.clearIntent(trader: id)
            return
        }
        guard let exchange = exchanges[trader.configuration.exchangeProvider] else { return }
        let record = await CycleRecovery.complete(intent, exchange: exchange, now: now)
        logger.warning(
            "completed a cycle interrupted while its orders were going out",
            metadata: [
                "trader": "\(id)", "cycle": "\(record.cycle)", "intents": "\(intent.orders.count)",
                "answered_by_venue": "\(record.results.count)",
            ]
        )
        await commit(record, trader: trader, now: now)
    }

    /// Where `engine resume TRADER` leaves its requests: `<state directory>/resume/<trader>`.
    static func resumeDirectory(statePath: String) -> String {
        ((statePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("resume")
    }

    /// Picks up resume requests for paused traders.
    func handleResumeRequests() async {
        guard let statePath = store.path else { return }
        let directory = Self.resumeDirectory(statePath: statePath)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory), !names.isEmpty else {
            return
        }
        for name in names {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            if await store.resume(name) {
                logger.notice("trader resumed by an operator", metadata: ["trader": "\(name)"])
            }
        }
    }

    /// Marks, funding, triggers and liquidations on the paper venues; equity, cooldowns and kill switches.
    func tick(now: Int64) async {
        do {
            try await refreshMarkets(now: now)
        } catch {
            logger.warning("market refresh failed", metadata: ["error": "\(error)"])
        }
        for trader in traders {
            guard let exchange = exchanges[trader.configuration.exchangeProvider] else { continue }
            do {
                let account = try await exchange.account(trader: trader.configuration.id)
                let trades = try await exchange.closedTrades(trader: trader.configuration.id)
                let closeAll = await store.observe(
                    trader: trader.configuration,
                    account: account,
                    trades: trades,
                    now: now
                )
                if let metrics {
                    let state = await store.state(trader.configuration.id)
                    metrics.recordTrader(
                        trader.configuration.id,
                        account: account,
                        isHalted: state.isDrawdownLimitHit || state.isDailyLossLimitHit
                    )
                }
                if closeAll {
                    logger.warning(
                        "drawdown limit hit: closing positions, entries stopped",
                        metadata: ["trader": "\(trader.configuration.id)"]
                    )
                    await alerts?.raise(
                        key: "kill_switch:\(trader.configuration.id)",
                        message:
                            "trader \(trader.configuration.id) hit its drawdown limit: positions closed, entries stopped"
                    )
                }
                // Level-triggered: while the switch is on and positions remain (a close refused, a position opened
                // by a cycle that was in flight, a restart), the close-out runs again.
                if !account.positions.isEmpty, await store.state(trader.configuration.id).isDrawdownLimitHit {
                    await closeOut(trader, account: account, now: now)
                }
            } catch {
                logger.warning(
                    "account sync failed",
                    metadata: ["trader": "\(trader.configuration.id)", "error": "\(error)"]
                )
            }
        }
    }

    /// Reviews a finished cycle: a trader that failed closed `failureAlertAfter` cycles in a row, or more than
    /// 10 % of its last cycles (at least 20), is paused until `engine resume` or a restart, and an alert says
    /// so; a position left without a stop raises an alert too.
    func raiseAlerts(for record: CycleRecord, trader: String) async {
        let state = await store.state(trader)
        let failed = record.outcome == .failedClosed
        let (rate, count) = await store.recordOutcome(trader, failed: failed)
        var why: String?
        if failed, state.consecutiveFailures >= Self.failureAlertAfter {
            why = "failed closed \(state.consecutiveFailures) cycles in a row"
        } else if failed, count >= 20, rate > 0.10 {
            why = String(format: "failed closed %.0f %% of its last %d cycles", rate * 100, count)
        }
        if let why {
            let detail = "\(why) (last: \(record.reason?.rawValue ?? "?"): \(record.error ?? ""))"
            if await store.suspend(trader, reason: detail) {
                logger.error("trader paused", metadata: ["trader": "\(trader)", "why": "\(detail)"])
                await alerts?.raise(
                    key: "trader_failing:\(trader)",
                    message: "trader \(trader) \(detail); paused until `engine resume \(trader)` or a restart"
                )
            }
        }
        let configuration = traders.first { $0.configuration.id == trader }?.configuration
        // Venue errors: orders the venue refused for its own reasons (not risk, not margin), and cycles whose
        // orders met an error, over the venue's last 100 orders.
        if let venue = configuration?.exchangeProvider, !record.orders.isEmpty {
            var failures = record.results.map { $0.status == .rejected && $0.reason == .exchangeError }
            if record.error != nil, record.outcome == .completed { failures.append(true) }
            let (rate, count) = await store.recordOrders(venue: venue, failures: failures)
            if count >= 20, rate > 0.05 {
                await alerts?.raise(
                    key: "exchange_errors:\(venue)",
                    message: String(format: "venue %@: %.0f %% of the last %d orders failed", venue, rate * 100, count)
                )
            }
        }
        guard let alerts else { return }
        if record.reason == .staleMarketData, let market = configuration?.marketProvider {
            await alerts.raise(
                key: "market_stale:\(market)",
                message: "market data from \(market) is stale or missing for \(trader): \(record.error ?? "")"
            )
        }
        if let unprotected = record.inputs?.unprotectedSymbols, !unprotected.isEmpty {
            await alerts.raise(
                key: "stop_missing:\(trader)",
                message:
                    "trader \(trader) holds positions without a stop (\(unprotected.joined(separator: ", "))); entries refused"
            )
        }
    }

    /// The drawdown switch closing a trader's positions: an engine cycle of its own (`origin` `drawdown_switch`, no
    /// prompts), journaled like a model's — intents first in a live run, then the orders (each position's
    /// protection cancelled, then a reduce-only market close), then the record — so the journal holds every order
    /// the venue books. Waits for a cycle in flight to finish, and after a close-out waits `closeOutRetry` before
    /// trying again for what is left.
    func closeOut(_ trader: Trader, account: TraderAccount, now: Int64) async {
        let id = trader.configuration.id
        guard let exchange = exchanges[trader.configuration.exchangeProvider],
            lastCloseOut.withLock({ $0[id].map { now - $0 >= closeOutRetry } ?? true }),
            await store.claim(id, limit: .max)
        else { return }
        lastCloseOut.withLock { $0[id] = now }
        let cycle = await store.state(id).cycle + 1
        var record = CycleRecord(
            traderID: id,
            cycle: cycle,
            cycleID: "\(id)-\(cycle)",
            startedAt: now,
            endedAt: now,
            outcome: .completed,
            reason: .drawdownLimit,
            modelAsked: "",
            account: account
        )
        record.origin = .drawdownSwitch
        let closes = account.positions.values.sorted { $0.symbol < $1.symbol }.map {
            OrderPlanner.close($0, trader: trader.cycle.view, cycle: cycle, leg: "drawdown")
        }
        if let failure = await DecisionCycle.journalIntents(record, adding: closes, to: intentLog, logger: logger) {
            record.outcome = .failedClosed
            record.reason = .journalUnavailable
            record.error = failure
        } else {
            for failure in await DecisionCycle.sendCloses(closes, recordingIn: &record, exchange: exchange) {
                logger.error("drawdown close failed", metadata: ["trader": "\(id)", "error": "\(failure)"])
            }
        }
        record.endedAt = clock.now()
        await commit(record, trader: trader, now: now)
    }

    /// Clock milliseconds between two close-outs of the same trader (a minute, or five ticks): clock time, so a
    /// backtest stays deterministic.
    var closeOutRetry: Int64 { max(60_000, 5 * tickInterval) }

    func refreshMarkets(now: Int64) async throws {
        let venues = exchanges.values.compactMap { $0 as? SimExchange }
        guard !venues.isEmpty else { return }
        var prices: [String: Double] = [:]
        var funding: [String: Double] = [:]
        for market in markets.values.sorted(by: { $0.id < $1.id }) {
            let marks = try await market.marks(now: now)
            prices.merge(marks.prices) { first, _ in first }
            funding.merge(marks.funding) { first, _ in first }
        }
        for sim in venues {
            try await sim.updateMarket(prices: prices, funding: funding, now: now)
        }
    }

    func export(now: Int64) async {
        guard let publisher else { return }
        do {
            var views: [ArenaSnapshotBuilder.TraderView] = []
            var live: [SnapshotPublication.TraderLive] = []
            var prices: [String: Double] = [:]
            for trader in traders {
                guard let exchange = exchanges[trader.configuration.exchangeProvider] else { continue }
                let account = try await exchange.account(trader: trader.configuration.id)
                views.append(
                    .init(
                        configuration: trader.configuration,
                        state: await store.state(trader.configuration.id),
                        account: account,
                        trades: try await exchange.closedTrades(trader: trader.configuration.id)
                    )
                )
                live.append(
                    .init(
                        id: trader.configuration.id,
                        exchangeProvider: trader.configuration.exchangeProvider,
                        account: account
                    )
                )
                if let sim = exchange as? SimExchange {
                    prices.merge(await sim.marks) { first, _ in first }
                }
            }
            let files = try ArenaSnapshotBuilder(
                traders: views,
                prices: prices,
                now: now,
                rebalances: rebalancing == nil ? nil : await store.state.rebalances ?? []
            ).encodedFiles()
            let generation = try publisher.publish(files)
            if !sinks.isEmpty {
                let publication = SnapshotPublication(
                    generation: generation,
                    now: now,
                    files: files,
                    traders: live,
                    prices: prices
                )
                for sink in sinks { sink.snapshotPublished(publication) }
            }
        } catch {
            logger.error("snapshot export failed", metadata: ["error": "\(error)"])
        }
    }

    func persist() async {
        do {
            try await store.save(clockTime: clock.now())
        } catch {
            logger.error("cannot persist manager state", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Rebalancing

    /// Every `rebalance_interval`, between cycles: gathers each paper trader's KPIs, plans the moves, journals
    /// them (fsynced) and only then moves the capital. Nothing moves when the journal cannot be written.
    func rebalanceIfDue(now: Int64) async {
        guard let rebalancing else { return }
        guard let last = await store.lastRebalanceAt else {
            // The first interval starts now: a plan needs some history to judge by.
            await store.armRebalancing(at: now)
            return
        }
        guard now - last >= rebalancing.interval, await store.runningCount == 0 else { return }
        await store.armRebalancing(at: now)
        let (candidates, skipped) = await rebalanceCandidates()
        let moves = rebalancing.rebalancer.plan(candidates)
        guard !moves.isEmpty else {
            logger.info("rebalance due: no capital to move", metadata: ["traders": "\(candidates.count)"])
            return
        }
        let byID = Dictionary(uniqueKeysWithValues: moves.map { ($0.id, $0) })
        let bounds = rebalancing.rebalancer
        let rebalance = RebalancesDocument.Rebalance(
            id: await store.nextRebalanceID,
            timestamp: now,
            poolUSD: candidates.reduce(0) { $0 + $1.equity },
            moves: candidates.map { candidate in
                let score = Rebalancer.score(
                    sharpe: candidate.sharpe,
                    drawdownPct: candidate.drawdownPct,
                    utilisation: candidate.utilisation
                )
                return .init(
                    modelID: candidate.id,
                    equityBefore: candidate.equity,
                    amountUSD: byID[candidate.id]?.amount ?? 0,
                    targetPct: byID[candidate.id]?.targetPct ?? candidate.equity / bounds.totalEquityUSD * 100,
                    score: score,
                    sharpe: candidate.sharpe,
                    drawdownPct: candidate.drawdownPct,
                    utilisationPct: candidate.utilisation * 100,
                    marginUsed: candidate.marginUsed
                )
            },
            skipped: skipped
        )
        do {
            try rebalancing.log.append(rebalance)
        } catch {
            logger.error("rebalance not journaled: no capital moved", metadata: ["error": "\(error)"])
            return
        }
        await apply(rebalance)
        logger.notice(
            "capital rebalanced",
            metadata: [
                "rebalance": "\(rebalance.id)",
                "moved_usd": "\(moves.filter { $0.amount > 0 }.reduce(0) { $0 + $1.amount })",
            ]
        )
        await persist()
    }

    /// The traders that take part in a rebalance, with their KPIs, and those left out with why.
    func rebalanceCandidates() async -> ([Rebalancer.Candidate], [RebalancesDocument.Skipped]) {
        var candidates: [Rebalancer.Candidate] = []
        var skipped: [RebalancesDocument.Skipped] = []
        let suspended = await store.suspended
        for trader in traders.sorted(by: { $0.configuration.id < $1.configuration.id }) {
            let id = trader.configuration.id
            guard trader.configuration.autoStart else {
                skipped.append(.init(modelID: id, reason: "not started (auto_start: false)"))
                continue
            }
            guard let sim = exchanges[trader.configuration.exchangeProvider] as? SimExchange else {
                skipped.append(.init(modelID: id, reason: "live venue: its capital is what the venue account holds"))
                continue
            }
            guard let account = try? await sim.account(trader: id) else {
                skipped.append(.init(modelID: id, reason: "no paper account"))
                continue
            }
            let state = await store.state(id)
            let week = state.equityHistory.suffix(24 * 7)
            let shares = week.compactMap { point in point.marginUsed.map { point.equity > 0 ? $0 / point.equity : 0 } }
            let current = account.equity > 0 ? account.marginUsed / account.equity : 0
            candidates.append(
                .init(
                    id: id,
                    equity: account.equity,
                    cash: account.cash,
                    unrealizedPnL: account.unrealizedPnL,
                    marginUsed: account.marginUsed,
                    // Under a day of hourly points a Sharpe ratio is noise: it counts as neutral until then.
                    sharpe: week.count >= 24 ? Performance.sharpe(Array(week)) : 0,
                    drawdownPct: state.peakEquity > 0 ? max(0, (1 - account.equity / state.peakEquity) * 100) : 0,
                    utilisation: shares.isEmpty ? current : shares.reduce(0, +) / Double(shares.count),
                    mayReceive: !state.isDrawdownLimitHit && !state.isDailyLossLimitHit && suspended[id] == nil
                )
            )
        }
        return (candidates, skipped)
    }

    /// Applies a journaled rebalance: the paper ledger's cash, then the trader's measures. Each side remembers
    /// the last rebalance it applied, so re-applying after a crash moves nothing twice.
    func apply(_ rebalance: RebalancesDocument.Rebalance) async {
        for move in rebalance.moves where move.amountUSD != 0 {
            guard let trader = traders.first(where: { $0.configuration.id == move.modelID }),
                let sim = exchanges[trader.configuration.exchangeProvider] as? SimExchange
            else {
                logger.error(
                    "journaled rebalance names a trader that is not on a paper venue now; its move is not applied",
                    metadata: ["rebalance": "\(rebalance.id)", "trader": "\(move.modelID)"]
                )
                continue
            }
            do {
                try await sim.transfer(trader: move.modelID, amount: move.amountUSD, rebalance: rebalance.id)
            } catch {
                logger.error(
                    "paper ledger not saved after a rebalance transfer",
                    metadata: ["trader": "\(move.modelID)", "error": "\(error)"]
                )
            }
            await store.applyTransfer(trader: move.modelID, amount: move.amountUSD, rebalance: rebalance.id)
        }
        await store.recordRebalance(rebalance)
    }

    /// Re-applies the rebalance journal at start (a crash between journaling and applying loses nothing).
    func recoverRebalances() async throws {
        guard let rebalancing else { return }
        for rebalance in try rebalancing.log.entries() { await apply(rebalance) }
    }
}

/// An async mutual exclusion: `lock` suspends (never blocks a thread) until `unlock`; waiters go in order.
actor AsyncGate {
    private var isLocked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        guard isLocked else {
            isLocked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty {
            isLocked = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
