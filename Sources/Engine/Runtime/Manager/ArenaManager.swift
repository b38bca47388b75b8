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
/// `state_path` after every cycle; its `SnapshotExporter` (a service of its own in `engine run`) publishes snapshots.
package final class ArenaManager: Service, Sendable {
    /// A trader as the manager runs it. A class: the loop hands it around every tick, and a reference is one
    /// retain where a copy of the configuration and cycle would be dozens.
    package final class Trader: Sendable {
        package let configuration: TraderConfiguration
        let cycle: DecisionCycle
        let capital: Double

        init(configuration: TraderConfiguration, cycle: DecisionCycle, capital: Double) {
            self.configuration = configuration
            self.cycle = cycle
            self.capital = capital
        }

        /// Whether the trader's templates read its memory (kept in its state when they do).
        var remembers: Bool { cycle.rendersPrompts && cycle.renderer.memoryDepth != nil }
    }

    package let traders: [Trader]
    let clock: any ArenaClock
    /// Clock milliseconds between ticks (1 s of wall time, times the replay speed).
    package let tickInterval: Int64
    let maxConcurrentDecisions: Int
    let exchanges: [String: any ExchangeProvider]
    let markets: [String: any MarketProvider]
    /// Each paper venue (in id order) with the markets its traders use (in id order): the marks it is given every
    /// tick. Fixed by the configuration, so worked out once.
    private let paperVenueMarkets: [(venue: any PaperVenue, markets: [any MarketProvider])]
    /// Every trader whose exchange is known, in `traders` order, with whether it is a paper venue: what each tick
    /// walks (a backtest ticks every candle).
    private let tickedTraders: [(trader: Trader, exchange: any ExchangeProvider, isPaper: Bool)]
    /// The live venues in id order with the traders that use them: whose safety nets each tick keeps.
    private let liveVenues: [(id: String, exchange: any ExchangeProvider, users: [String])]
    let store: ManagerStore
    package let journal: JournalWriter?
    let logger: Logger
    /// Save state after every cycle (live); a backtest saves once at the end.
    let persistsEveryCycle: Bool
    /// Each trader's equity, exposure and halt gauges set on every tick (live). A backtest (which saves once at
    /// the end) serves no metrics and ticks on every candle: nothing reads them there, and setting them was 5 % of
    /// a 1-hour backtest.
    var recordsTraderGauges: Bool { persistsEveryCycle }
    /// Where operator alerts go (kill switches, traders failing closed, positions without a stop).
    let alerts: (any AlertSink)?
    /// Telegram and Discord: positions opened and closed, and a daily summary at `dailySummaryMinute` (UTC).
    package let notifier: Notifier?
    let dailySummaryMinute: Int
    package let metrics: EngineMetrics?
    /// PostgreSQL and Redis, when configured: handed every cycle and every export, never waited on.
    let sinks: [any PersistenceSink]
    /// `performance_based` capital rebalancing, when configured.
    struct Rebalancing: Sendable {
        /// Engine clock milliseconds between rebalances.
        let interval: Int64
        let rebalancer: Rebalancer
        let log: RebalanceLog
    }

    /// Capital moves between paper traders, when `performance_based` rebalancing is configured.
    let rebalancing: CapitalRebalancing?
    /// Pauses and alerts from finished cycles; resume requests.
    let health: TraderHealth
    /// The drawdown switch closing a trader's positions.
    let drawdown: DrawdownCloseOut
    /// Publishes snapshot generations, when there is a publisher.
    package let exporter: SnapshotExporter?
    /// One cycle's commit (state, journal, saved state) at a time.
    private let commitGate = AsyncGate()
    /// Beats after every tick: liveness for `/healthz` and the watchdog.
    package let heartbeat = Heartbeat()

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
        reserveUSD: Double? = nil,
        notifier: Notifier? = nil,
        dailySummaryMinute: Int = 20 * 60,
        logger: Logger
    ) {
        self.notifier = notifier
        self.dailySummaryMinute = dailySummaryMinute
        self.shutdownGrace = shutdownGrace
        self.shutdownSignals = shutdownSignals
        self.traders = traders
        self.clock = clock
        self.tickInterval = tickInterval
        self.maxConcurrentDecisions = maxConcurrentDecisions
        self.exchanges = exchanges
        self.markets = markets
        // Each venue's traders, in `traders` order: the paper venues' markets and the live venues' users.
        let users = Dictionary(grouping: traders.map(\.configuration), by: \.exchangeProvider)
        let venues = exchanges.sorted { $0.key < $1.key }
        self.paperVenueMarkets = venues.compactMap { id, exchange in
            guard let venue = exchange as? any PaperVenue else { return nil }
            let used = Set((users[id] ?? []).map(\.marketProvider))
            return (venue, used.sorted().compactMap { markets[$0] })
        }
        self.liveVenues = venues.compactMap { id, exchange in
            guard !(exchange is any PaperVenue), let users = users[id] else { return nil }
            return (id, exchange, users.map(\.id))
        }
        self.tickedTraders = traders.compactMap { trader in
            exchanges[trader.configuration.exchangeProvider].map { (trader, $0, $0 is any PaperVenue) }
        }
        self.store = store
        self.journal = journal
        self.persistsEveryCycle = persistsEveryCycle
        self.alerts = alerts
        self.metrics = metrics
        self.sinks = sinks
        self.logger = logger
        self.rebalancing = rebalancing.map {
            CapitalRebalancing(settings: $0, store: store, traders: traders, exchanges: exchanges, logger: logger)
        }
        self.health = TraderHealth(
            store: store,
            configurations: Dictionary(traders.map { ($0.configuration.id, $0.configuration) }) { first, _ in first },
            alerts: alerts,
            logger: logger
        )
        self.drawdown = DrawdownCloseOut(store: store, clock: clock, tickInterval: tickInterval, logger: logger)
        let prepared = OnceFlag()
        self.prepared = prepared
        self.exporter = publisher.map {
            SnapshotExporter(
                publisher: $0,
                store: store,
                traders: traders,
                exchanges: exchanges,
                sinks: sinks,
                includesRebalances: rebalancing != nil,
                reserveUSD: reserveUSD,
                clock: clock,
                tickInterval: tickInterval,
                exportInterval: exportInterval,
                isReady: { prepared.isSet },
                logger: logger
            )
        }
    }

    /// Opens each trader's paper account (once) and starts its state.
    func prepare() async throws {
        let now = clock.now()
        for trader in traders {
            var capital = trader.capital
            if let sim = exchanges[trader.configuration.exchangeProvider] as? any PaperVenue {
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
            store.begin(trader: trader.configuration.id, capital: capital, now: now)
            // A crash between the journal's fsync and the state's save leaves the journal one cycle ahead: count
            // from the journal, so no cycle number is used twice.
            if let journal, let last = try await journal.lastCycle(trader: trader.configuration.id),
                store.advanceCycle(trader.configuration.id, to: last)
            {
                logger.notice(
                    "cycle count taken from the journal: the saved state was behind it (a crash before the save)",
                    metadata: ["trader": "\(trader.configuration.id)", "cycle": "\(last)"]
                )
            }
            try await recoverInterruptedCycle(trader, now: now)
        }
        try await rebalancing?.recover()
        try await refreshMarkets(now: now)
        prepared.set()
    }

    /// Set once `prepare` is done: the exporter publishes nothing before.
    private let prepared: OnceFlag

    package func run() async throws {
        try await prepare()
        // A discarding group: finished cycles leave nothing behind, however long the engine runs.
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let now = clock.now()
                await health.handleResumeRequests()
                await OperatorControls.handle(
                    store: store,
                    journalRoot: journal?.directory.root,
                    now: now,
                    logger: logger
                )
                await tick(now: now)
                await rebalanceIfDue(now: now)
                heartbeat.beat()
                for trader in await dueTraders(now: now) {
                    guard store.claim(trader.configuration.id, limit: maxConcurrentDecisions) else { continue }
                    group.addTask { await self.runCycle(trader, now: now) }
                }
                try? await clock.sleep(until: now + tickInterval)
            }
            // Graceful shutdown: in-flight cycles get up to `shutdownGrace` to finish; then they are cancelled (a
            // cancelled model call fails its cycle closed, and its record is journaled). A second signal cancels
            // at once.
            let deadline = ContinuousClock.now + shutdownGrace
            let running = store.runningCount
            if running > 0 {
                logger.notice(
                    "shutdown: waiting for cycles in flight (a second signal cancels them)",
                    metadata: ["count": "\(running)", "grace": "\(shutdownGrace)"]
                )
            }
            while store.runningCount > 0, ContinuousClock.now < deadline, !Task.isCancelled,
                shutdownSignals?.isUrgent != true
            {
                try? await Task.sleep(for: .milliseconds(50))
            }
            let unfinished = store.runningCount
            if unfinished > 0 {
                let why = shutdownSignals?.isUrgent == true ? "a second signal" : "the grace period is over"
                logger.warning(
                    "shutdown: cancelling cycles still running (\(why))",
                    metadata: ["count": "\(unfinished)"]
                )
            }
            group.cancelAll()
        }
        await persistIfJournalDurable()
        logger.info("manager stopped")
    }

    /// How long in-flight cycles may run on after a shutdown signal (`manager.shutdown_grace`).
    let shutdownGrace: Duration
    /// SIGTERM/SIGINT counted by `engine run`: a second one cancels in-flight cycles at once.
    let shutdownSignals: ShutdownSignals?

    /// A one-line status for systemd.
    package func statusLine() async -> String {
        let running = store.runningCount
        let age = heartbeat.age.map { "\($0.components.seconds) s" } ?? "never"
        return "\(traders.count) traders, \(running) cycles running, last tick \(age) ago"
    }

    /// One tick with every due trader deciding once, then a snapshot and saved state: for tests and scripts.
    package func runOnce() async throws {
        try await prepare()
        let now = clock.now()
        await OperatorControls.handle(store: store, journalRoot: journal?.directory.root, now: now, logger: logger)
        await tick(now: now)
        await withDiscardingTaskGroup { group in
            for trader in await dueTraders(now: now) {
                guard store.claim(trader.configuration.id, limit: .max) else { continue }
                group.addTask { await self.runCycle(trader, now: now) }
            }
        }
        await export(now: now)
        await persist()
        try await journal?.flush()
    }

    /// Traders whose decision interval has elapsed and that are not running.
    func dueTraders(now: Int64) async -> [Trader] {
        var due: [Trader] = []
        let suspended = store.suspended
        for trader in traders where trader.configuration.autoStart && suspended[trader.configuration.id] == nil {
            let state = store.state(trader.configuration.id)
            let interval = trader.configuration.decisionInterval.milliseconds
            if let last = state.lastDecisionAt, now - last < interval { continue }
            due.append(trader)
        }
        return due
    }

    /// One cycle of `trader` at `now`, committed; whether it sent its venue an order (what may change an account:
    /// with none, the venue was only read — `BacktestRunner` keeps its quiet).
    @discardableResult
    func runCycle(_ trader: Trader, now: Int64) async -> Bool {
        guard await journalCaughtUp(trader.configuration.id) else {
            store.release(trader.configuration.id)
            return false
        }
        let state = store.state(trader.configuration.id)
        let started = ContinuousClock.now
        let record = await trader.cycle.run(
            cycle: state.cycle + 1,
            now: now,
            state: state,
            clock: clock,
            intentLog: intentLog,
            currentState: { [store] in store.state(trader.configuration.id) }
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
        await health.review(record, trader: trader.configuration.id)
        if record.outcome == .failedClosed {
            logger.notice(
                "cycle failed closed",
                metadata: [
                    "trader": "\(trader.configuration.id)", "cycle": "\(record.cycle)",
                    "reason": "\(record.reason?.rawValue ?? "")", "error": "\(record.error ?? "")",
                ]
            )
        }
        return !record.orders.isEmpty
    }

    /// Every tick, for every live venue, whatever its traders' cycles do (a long interval, a pause, stale data):
    /// the dead-man's switch re-armed before it can fire, and protection put back when it has fired or after a
    /// start. A failure is logged and alerted; the next tick tries again.
    func keepVenuesAlive(now: Int64) async {
        for (id, exchange, users) in liveVenues {
            do {
                let report = try await exchange.keepAlive(traders: users, now: now)
                if report.switchFired {
                    await alerts?.raise(
                        key: "dead_mans_switch:\(id)",
                        message: "venue \(id): the dead-man's switch fired; protection put back: "
                            + (report.replaced.isEmpty ? "none needed" : report.replaced.joined(separator: ", "))
                    )
                }
                if !report.unprotected.isEmpty {
                    await alerts?.raise(
                        key: "unprotected:\(id)",
                        message: "venue \(id): positions without a stop: \(report.unprotected.joined(separator: ", "))"
                    )
                }
            } catch {
                logger.error("venue safety nets not kept", metadata: ["venue": "\(id)", "error": "\(error)"])
                await alerts?.raise(
                    key: "keep_alive:\(id)",
                    message: "venue \(id): the dead-man's switch could not be re-armed: \(error)"
                )
            }
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
    ///
    /// When the record cannot be made durable (a full disk), it stays queued in the journal, the state is not
    /// saved (the saved state never counts a cycle the journal lacks), the cycle's intents stay on disk, and the
    /// trader runs no new cycle until the journal has caught up (`journalCaughtUp`, retried every tick).
    func commit(_ record: CycleRecord, trader: Trader, now: Int64) async {
        let id = trader.configuration.id
        await commitGate.lock()
        store.apply(record, configuration: trader.configuration, now: now, remembers: trader.remembers)
        var failure: (any Error)?
        do {
            try await journal?.append(record)
            if persistsEveryCycle { try await journal?.flush() }
        } catch {
            failure = error
        }
        // Another trader's failing file does not make this record any less durable: what counts is the queue.
        // (Asked only when it matters: a backtest, which neither fsyncs every cycle nor fails, does not ask.)
        let isDurable = persistsEveryCycle || failure != nil ? await !(journal?.hasPending(trader: id) ?? false) : true
        if persistsEveryCycle, isDurable { await journal?.clearIntent(trader: id) }
        if let failure, !isDurable {
            holdBack(id, because: failure)
            await alerts?.raise(
                key: "journal:\(id)",
                message: "journal write failed (\(failure)): trader \(id) runs nothing new until it is written"
            )
        }
        if let metrics, let journal {
            metrics.recordJournal(queueDepth: await journal.queueDepth, fullQueueWaits: await journal.fullQueueWaits)
        }
        if persistsEveryCycle { await persistIfJournalDurable() }
        commitGate.unlock()
        for sink in sinks { sink.cycleRecorded(record) }
        if let notifier {
            for text in TradeNotice.opened(record, trader: trader.configuration) { await notifier.send(.trades, text) }
        }
    }

    /// How often the tick reads a live venue's account (kill switch, daily loss, equity history): 15 s.
    static let liveAccountSync: Int64 = 15_000
    /// When each live trader's account was last read by the tick.
    private let lastLiveSync = Mutex<[String: Int64]>([:])

    /// Traders held back because records of theirs are not durable (a failing disk): logged once per streak.
    private let heldBack = Mutex<Set<String>>([])

    private func holdBack(_ trader: String, because error: any Error) {
        guard heldBack.withLock({ $0.insert(trader).inserted }) else { return }
        logger.error(
            "journal write failed: the records stay queued, the trader runs nothing new until they are written",
            metadata: ["trader": "\(trader)", "error": "\(error)"]
        )
    }

    /// In a live run, whether every record of `trader` is durable. When some are still queued (a write failed),
    /// tries to write them now; once they are, the cycles' intents are cleared and the state saved. False: the
    /// trader must not start a cycle (its next cycle would overwrite the intents of one the journal lacks).
    func journalCaughtUp(_ trader: String) async -> Bool {
        guard persistsEveryCycle, let journal, await journal.hasPending(trader: trader) else { return true }
        await commitGate.lock()
        var failure: (any Error)?
        do {
            try await journal.flush()
        } catch {
            failure = error
        }
        let caughtUp = await !journal.hasPending(trader: trader)
        if caughtUp {
            await journal.clearIntent(trader: trader)
            await persistIfJournalDurable()
            if heldBack.withLock({ $0.remove(trader) }) != nil {
                logger.notice("journal written again: the trader's cycles resume", metadata: ["trader": "\(trader)"])
            }
        } else {
            holdBack(trader, because: failure ?? JournalError.pending)
            metrics?.recordJournalBlocked(trader: trader)
        }
        commitGate.unlock()
        return caughtUp
    }

    /// Saves the state only when every journal record is durable: the saved state never counts a cycle whose
    /// record is still queued (a restart takes the count from the journal when the state is behind it).
    func persistIfJournalDurable() async {
        if let journal, await journal.queueDepth > 0 { return }
        await persist()
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

    /// Marks, funding, triggers and liquidations on the paper venues; equity, cooldowns and kill switches.
    /// Returns whether every market was refreshed and every trader's account read, each without a position (what
    /// `quietUntil` starts from).
    @discardableResult
    func tick(now: Int64) async -> Bool {
        var isFlat = true
        do {
            try await refreshMarkets(now: now)
        } catch {
            isFlat = false
            logger.warning("market refresh failed", metadata: ["error": "\(error)"])
        }
        await keepVenuesAlive(now: now)
        await sendDailySummaryIfDue(now: now)
        for (trader, exchange, isPaper) in tickedTraders {
            // A live venue's account, orders and fills cost request weight: read every `liveAccountSync`, not every
            // tick (cycles and the stop check read them when they need them), so orders are never starved.
            if !isPaper {
                isFlat = false
                let id = trader.configuration.id
                let due = lastLiveSync.withLock { synced in
                    guard now - (synced[id] ?? .min / 2) >= Self.liveAccountSync else { return false }
                    synced[id] = now
                    return true
                }
                guard due else { continue }
            }
            do {
                let (account, trades) = try await exchange.accountAndClosedTrades(trader: trader.configuration.id)
                if let notifier {
                    let seen = store.state(trader.configuration.id).closedTradesSeen
                    for trade in trades.dropFirst(seen) {
                        await notifier.send(.trades, TradeNotice.closed(trade, trader: trader.configuration))
                    }
                }
                if !account.positions.isEmpty { isFlat = false }
                let observed = store.observeTick(
                    trader: trader.configuration.id,
                    risk: trader.configuration.riskParams,
                    account: account,
                    trades: trades,
                    now: now,
                    remembers: trader.remembers
                )
                if recordsTraderGauges {
                    metrics?.recordTrader(
                        trader.configuration.id,
                        account: account,
                        isHalted: observed.isDrawdownLimitHit || observed.isDailyLossLimitHit,
                        isPaused: observed.isPaused
                    )
                }
                if observed.closeAll {
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
                // Level-triggered: while the switch is on (or an operator's flatten waits) and positions remain (a
                // close refused, a position opened by a cycle that was in flight, a restart), the close-out runs
                // again; a flatten is done once nothing is held.
                if observed.isFlattenRequested, account.positions.isEmpty {
                    store.flattenDone(trader.configuration.id)
                }
                let closeOut: (origin: CycleRecord.Origin, reason: ReasonCode)? =
                    observed.isDrawdownLimitHit
                    ? (.drawdownSwitch, .drawdownLimit)
                    : observed.isFlattenRequested ? (.operatorFlatten, .operatorFlatten) : nil
                if let closeOut, !account.positions.isEmpty {
                    await drawdown.run(
                        trader,
                        account: account,
                        now: now,
                        exchange: exchange,
                        intentLog: intentLog,
                        origin: closeOut.origin,
                        reason: closeOut.reason,
                        commit: { await self.commit($0, trader: trader, now: now) }
                    )
                }
            } catch {
                isFlat = false
                logger.warning(
                    "account sync failed",
                    metadata: ["trader": "\(trader.configuration.id)", "error": "\(error)"]
                )
            }
        }
        return isFlat
    }

    /// After a tick at `now` that found every account flat (`tick` said so), with no order sent since: the clock
    /// time before which another tick would change nothing, or nil. Every paper venue idle (no position, no
    /// resting order: a tick only moves its marks, which the next tick sets as they would have been), no live
    /// venue, notifier, rebalancing or gauges (each wants its own ticks), and each trader's state as the tick left
    /// it: observing the same account again is a no-op until its next hourly equity point or the next day is due
    /// (`ManagerBook.quietUntil`). A backtest leaves out the ticks before then, unless a trader is due sooner;
    /// a cycle that sends an order ends the quiet.
    package func quietUntil(after now: Int64) async -> Int64? {
        guard !persistsEveryCycle, notifier == nil, rebalancing == nil, liveVenues.isEmpty else { return nil }
        for (venue, _) in paperVenueMarkets {
            guard await venue.isIdle else { return nil }
        }
        return store.quietUntil(traders: tickedTraders.map(\.trader.configuration.id), after: now)
    }

    /// Marks every paper venue from the markets its own traders use (and only those: another market's prices for
    /// the same symbol are not this venue's), merged in market id order. A market that fails (a hot-standby chain
    /// whose members are all stale included) leaves its symbols' marks where they were; the error is thrown once
    /// every venue has been marked from the rest.
    func refreshMarkets(now: Int64) async throws {
        var failure: (any Error)?
        for (venue, used) in paperVenueMarkets {
            var marks = MarketMarks()
            // One replay market (every tick of a backtest): its marks as they are (its funding and times are of
            // symbols it prices, so filling an empty set would take them whole).
            if used.count == 1, let replay = used[0] as? ReplayMarketProvider {
                marks = replay.marks(at: now)
            } else {
                for market in used {
                    do {
                        // A replay market answers at once (no asynchronous call: its frame made and freed every tick).
                        if let replay = market as? ReplayMarketProvider {
                            marks.fill(from: replay.marks(at: now))
                        } else {
                            marks.fill(from: try await market.marks(now: now))
                        }
                    } catch {
                        failure = failure ?? error
                    }
                }
            }
            guard !marks.prices.isEmpty else { continue }
            try await venue.updateMarket(prices: marks.prices, funding: marks.funding, now: now)
        }
        if let failure { throw failure }
    }

    /// Publishes a snapshot generation now.
    func export(now: Int64) async { await exporter?.export(now: now) }

    /// Rebalances capital when the interval has passed (and no cycle is running), then saves the state.
    func rebalanceIfDue(now: Int64) async { await rebalancing?.runIfDue(now: now, persist: persist) }

    func persist() async {
        do {
            try store.save(clockTime: clock.now())
        } catch {
            logger.error("cannot persist manager state", metadata: ["error": "\(error)"])
        }
    }
}

/// A flag that is set once and read from any task.
package final class OnceFlag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }

    var isSet: Bool { value.withLock { $0 } }
}

/// An async mutual exclusion: `lock` suspends (never blocks a thread) until `unlock`; waiters go in order.
///
/// Its state is behind a `Mutex`, not an actor: every cycle of a backtest takes and gives back the gate, and the
/// gate is nearly always free — taken at once, without the two executor switches an actor call costs.
package final class AsyncGate: Sendable {
    private struct State {
        var isLocked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    package init() {}

    package func lock() async {
        if take(orQueue: nil) { return }
        // Given back since the look above: taken now; else queued, and `unlock` hands the gate over.
        await withCheckedContinuation { waiter in
            if take(orQueue: waiter) { waiter.resume() }
        }
    }

    /// Takes the gate when it is free; else queues `waiter` (when there is one) for `unlock` to hand it to.
    private func take(orQueue waiter: CheckedContinuation<Void, Never>?) -> Bool {
        state.withLock { state in
            guard state.isLocked else {
                state.isLocked = true
                return true
            }
            if let waiter { state.waiters.append(waiter) }
            return false
        }
    }

    /// Tasks waiting for the gate.
    package var waiting: Int { state.withLock { $0.waiters.count } }

    /// Gives the gate back, or straight to the first waiter (it stays locked).
    package func unlock() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.isLocked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

extension ArenaManager {
    /// Once a day, at `dailySummaryMinute` (engine clock, UTC): each trader's equity, the day's change, trades and
    /// model spend, to the channels that get `daily_summary`.
    func sendDailySummaryIfDue(now: Int64) async {
        guard let notifier else { return }
        let day = now / 86_400_000
        guard (now % 86_400_000) / 60_000 >= Int64(dailySummaryMinute), store.claimSummary(day: day) else {
            return
        }
        var lines = ["Arena daily summary, \(UTCTime.iso8601(day * 86_400_000).prefix(10))"]
        for trader in traders {
            let id = trader.configuration.id
            guard let exchange = exchanges[trader.configuration.exchangeProvider],
                let account = try? await exchange.account(trader: id)
            else { continue }
            let state = store.state(id)
            let trades = (try? await exchange.closedTrades(trader: id)) ?? []
            let today = trades.filter { $0.exitTime / 86_400_000 == day }
            let change = account.equity - state.dayStartEquity
            lines.append(
                "\(trader.configuration.name) (\(id)): equity \(TradeNotice.money(account.equity)), today "
                    + "\(change >= 0 ? "+" : "")\(TradeNotice.money(change)), \(today.count) trade\(today.count == 1 ? "" : "s") "
                    + "(net \(TradeNotice.money(today.reduce(0) { $0 + $1.netPnL }))), "
                    + "\(account.positions.count) open, model spend \(TradeNotice.money(state.llmCostUSD)) in all"
            )
        }
        await notifier.send(.dailySummary, lines.joined(separator: "\n"))
    }
}

/// The text of trade notifications: plain text, escaped by each channel.
enum TradeNotice {
    static func money(_ value: Double) -> String { String(format: value < 0 ? "-$%.2f" : "$%.2f", abs(value)) }

    static func price(_ value: Double) -> String { GeneralNumberFormat.format(value, significantDigits: 6) }

    /// One line per entry the venue filled in the cycle: side, size, price and the model's reason in one line.
    static func opened(_ record: CycleRecord, trader: TraderConfiguration) -> [String] {
        record.orders.filter { !$0.isReduceOnly && $0.plan != nil }.compactMap { order in
            guard let result = record.results.first(where: { $0.cloid == order.cloid }), result.filledSize > 0
            else { return nil }
            let reason =
                record.decisions.first { $0.symbol == order.symbol }?.reasoning?
                .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            return "\(trader.name) (\(trader.id)) opened \(order.isBuy ? "long" : "short") \(price(result.filledSize)) "
                + "\(order.symbol) at \(price(result.averagePrice))"
                + (order.plan.map { " (stop \(price($0.stopLoss ?? 0)), target \(price($0.takeProfit ?? 0)))" } ?? "")
                + (reason.isEmpty ? "" : " — \(String(reason.prefix(200)))")
        }
    }

    /// A closed trade: why it closed (stop, target, liquidation, or the model/engine), price and net PnL.
    static func closed(_ trade: ClosedTrade, trader: TraderConfiguration) -> String {
        let long = trade.quantity > 0
        let why =
            switch trade.exitTrigger {
            case "liquidation": "liquidated"
            case "stop": "stop hit"
            case "target": "target hit"
            default: "closed"
            }
        return "\(trader.name) (\(trader.id)) \(why): \(long ? "long" : "short") \(price(abs(trade.quantity))) "
            + "\(trade.symbol) at \(price(trade.exitPrice)), net PnL \(money(trade.netPnL))"
    }
}
