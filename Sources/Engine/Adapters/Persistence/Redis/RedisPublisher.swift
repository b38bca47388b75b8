import ArenaCore
import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Keeps Redis current with the engine's live state after every snapshot export: per trader equity, positions and
/// margin, per venue account and positions, market prices and per-symbol snapshots, and the API documents of the
/// generation (`api:{document}` plus `api:generation`, written in one MULTI/EXEC so a reader never sees two
/// generations mixed). Keys live under `redis.key_prefix` with the `ttl` tiers: market keys `short`, trader,
/// venue and API keys `medium`, the asset list `long`. Only the newest export is kept waiting; calls run on the
/// client's own thread; a Redis outage is logged, counted and retried with backoff and never touches trading.
package final class RedisPublisher: PersistenceSink, Service, Sendable {
    package let client: RedisClient
    package let prefix: String
    package let ttl: ArenaConfiguration.CacheTTL
    package let alerts: (any AlertSink)?
    package let metrics: EngineMetrics?
    package let logger: Logger
    package let lagAlertAfter: Duration
    private let pending = Mutex<SnapshotPublication?>(nil)
    private let published = Mutex(0)

    package init(
        address: String,
        password: Secret,
        keyPrefix: String,
        ttl: ArenaConfiguration.CacheTTL,
        lagAlertAfter: Duration = .seconds(60),
        alerts: (any AlertSink)? = nil,
        metrics: EngineMetrics? = nil,
        logger: Logger
    ) throws {
        let connection = try RedisConnection(address: address, password: password.revealed)
        self.client = RedisClient(connection: connection, label: "arena.redis.engine")
        self.prefix = keyPrefix
        self.ttl = ttl
        self.lagAlertAfter = lagAlertAfter
        self.alerts = alerts
        self.metrics = metrics
        self.logger = logger
    }

    package nonisolated func cycleRecorded(_ record: CycleRecord) {}

    package nonisolated func snapshotPublished(_ publication: SnapshotPublication) {
        pending.withLock { $0 = publication }
    }

    /// Generations written so far (tests).
    package var publishedCount: Int { published.withLock { $0 } }

    package func run() async throws {
        var delay = Duration.milliseconds(250)
        var failingSince: ContinuousClock.Instant?
        var alerted = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let publication = pending.withLock({ $0 }) {
                do {
                    try await write(publication)
                    pending.withLock { if $0?.generation == publication.generation { $0 = nil } }
                    if failingSince != nil { logger.notice("redis writes resumed") }
                    failingSince = nil
                    alerted = false
                    delay = .milliseconds(250)
                } catch {
                    let now = ContinuousClock.now
                    if failingSince == nil {
                        failingSince = now
                        logger.error(
                            "redis write failed; trading continues, the API serves the snapshot files",
                            metadata: ["error": "\(error)"]
                        )
                    }
                    if !alerted, let since = failingSince, now - since >= lagAlertAfter {
                        alerted = true
                        await alerts?.raise(
                            key: "persistence_behind:redis",
                            message: "Redis writes failing for \((now - since).components.seconds) s: \(error)"
                        )
                    }
                    delay = min(delay * 2, .seconds(5))
                }
            }
            let wait = delay
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        if let publication = pending.withLock({ $0 }) { try? await write(publication) }
        client.disconnect()
    }

    /// Writes the waiting publication now (one-shot runs).
    package func flush() async throws {
        guard let publication = pending.withLock({ $0 }) else { return }
        try await write(publication)
        pending.withLock { if $0?.generation == publication.generation { $0 = nil } }
    }

    /// Writes one publication in one pipeline: the live keys, then the API generation inside MULTI/EXEC.
    package func write(_ publication: SnapshotPublication) async throws {
        let started = ContinuousClock.now
        do {
            let replies = try await client.pipeline(commands(for: publication))
            if let failure = replies.first(where: { if case .error = $0 { true } else { false } }) {
                throw RedisError("redis refused a write: \(failure)")
            }
            metrics?.recordPersistence(
                store: "redis",
                operation: "publish",
                duration: ContinuousClock.now - started,
                failed: false
            )
            published.withLock { $0 += 1 }
        } catch {
            metrics?.recordPersistence(
                store: "redis",
                operation: "publish",
                duration: ContinuousClock.now - started,
                failed: true
            )
            throw error
        }
    }

    private func seconds(_ duration: Duration) -> String { String(max(1, duration.components.seconds)) }

    package func commands(for publication: SnapshotPublication) -> [[Data]] {
        var commands: [[Data]] = []
        func add(_ parts: String...) { commands.append(parts.map { Data($0.utf8) }) }
        func add(_ parts: [Data]) { commands.append(parts) }
        let short = seconds(ttl.short)
        let medium = seconds(ttl.medium)
        let long = seconds(ttl.long)
        // `JSONEncoder`'s `.sortedKeys` bytes, from the journal's encoder.
        let encoder = SortedJSONEncoder()
        func json(_ value: some Encodable) -> String {
            (try? encoder.encodeEscapingSlashes(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        }

        var venues: [String: [SnapshotPublication.TraderLive]] = [:]
        for trader in publication.traders {
            let key = "\(prefix)trader:\(trader.id)"
            let account = trader.account
            add("SET", "\(key):equity", String(account.equity), "EX", medium)
            add("SET", "\(key):margin_used", String(account.marginUsed), "EX", medium)
            add("DEL", "\(key):positions")
            if !account.positions.isEmpty {
                var hset = [Data("HSET".utf8), Data("\(key):positions".utf8)]
                for position in account.orderedPositions {
                    hset.append(Data(position.symbol.utf8))
                    hset.append(Data(json(LivePosition(position)).utf8))
                }
                add(hset)
                add("EXPIRE", "\(key):positions", medium)
            }
            venues[trader.exchangeProvider, default: []].append(trader)
        }
        for provider in venues.keys.sorted() {
            let traders = venues[provider] ?? []
            let accounts = Dictionary(uniqueKeysWithValues: traders.map { ($0.id, LiveAccount($0.account)) })
            let positions = traders.flatMap { trader in
                trader.account.orderedPositions.map { LiveVenuePosition(trader: trader.id, LivePosition($0)) }
            }
            add("SET", "\(prefix)exchange:\(provider):account", json(accounts), "EX", medium)
            add("SET", "\(prefix)exchange:\(provider):positions", json(positions), "EX", medium)
        }
        let symbols = publication.prices.keys.sorted()
        if !symbols.isEmpty {
            add("DEL", "\(prefix)market:prices")
            var hset = [Data("HSET".utf8), Data("\(prefix)market:prices".utf8)]
            for symbol in symbols {
                hset.append(Data(symbol.utf8))
                hset.append(Data(String(publication.prices[symbol] ?? 0).utf8))
                add(
                    "SET",
                    "\(prefix)market:snapshot:\(symbol)",
                    json(LivePrice(symbol: symbol, price: publication.prices[symbol] ?? 0, at: publication.now)),
                    "EX",
                    short
                )
            }
            add(hset)
            add("EXPIRE", "\(prefix)market:prices", short)
            add("SET", "\(prefix)market:assets", json(symbols), "EX", long)
        }
        // The API's documents and the generation that names them, atomically.
        let names = publication.files.keys.filter { $0.hasSuffix(".json") }.sorted()
        add("MULTI")
        for name in names {
            guard let data = publication.files[name] else { continue }
            add([
                Data("SET".utf8), Data("\(prefix)api:\(name.dropLast(".json".count))".utf8), data,
                Data("EX".utf8), Data(medium.utf8),
            ])
        }
        let header = RedisGenerationHeader(
            generation: publication.generation,
            publishedAt: UTCTime.nowMilliseconds(),
            documents: names.map { String($0.dropLast(".json".count)) }
        )
        add("SET", "\(prefix)api:generation", header.encoded, "EX", medium)
        add("EXEC")
        return commands
    }
}

private struct LivePosition: Encodable {
    let symbol: String
    let quantity: Double
    let entryPrice: Double
    let markPrice: Double
    let leverage: Double
    let margin: Double
    let unrealizedPnL: Double
    let stopLoss: Double?
    let takeProfit: Double?

    init(_ position: Position) {
        symbol = position.symbol
        quantity = position.quantity
        entryPrice = position.entryPrice
        markPrice = position.markPrice
        leverage = position.leverage
        margin = position.margin
        unrealizedPnL = position.unrealizedPnL
        stopLoss = position.stopLoss
        takeProfit = position.takeProfit
    }

    enum CodingKeys: String, CodingKey {
        case symbol, quantity, leverage, margin
        case entryPrice = "entry_price"
        case markPrice = "mark_price"
        case unrealizedPnL = "unrealized_pnl"
        case stopLoss = "stop_loss"
        case takeProfit = "take_profit"
    }
}

private struct LiveVenuePosition: Encodable {
    let trader: String
    let position: LivePosition

    init(trader: String, _ position: LivePosition) {
        self.trader = trader
        self.position = position
    }
}

private struct LiveAccount: Encodable {
    let equity: Double
    let cash: Double
    let marginUsed: Double
    let unrealizedPnL: Double
    let realizedPnL: Double

    init(_ account: TraderAccount) {
        equity = account.equity
        cash = account.cash
        marginUsed = account.marginUsed
        unrealizedPnL = account.unrealizedPnL
        realizedPnL = account.realizedPnL
    }

    enum CodingKeys: String, CodingKey {
        case equity, cash
        case marginUsed = "margin_used"
        case unrealizedPnL = "unrealized_pnl"
        case realizedPnL = "realized_pnl"
    }
}

private struct LivePrice: Encodable {
    let symbol: String
    let price: Double
    let at: Int64
}
