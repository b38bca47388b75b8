import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Holds the generation being served and swaps in newer ones. Reading the current generation is one lock;
/// loading happens off the request path, in `SnapshotWatcher`.
final class GenerationStore: Sendable {
    private let current: Mutex<LoadedGeneration?>
    let reader: SnapshotReader
    let metrics: APIMetrics
    let corsAllowsAny: Bool
    /// Redis, when configured: read first, the files standing in whenever it has nothing fresh or fails.
    let redis: RedisGenerationSource?
    private let redisFailing = Mutex(false)
    /// The generation last refused: not read again until another is published (no reload storm).
    private let refused = Mutex<String?>(nil)

    init(
        reader: SnapshotReader,
        metrics: APIMetrics,
        corsAllowsAny: Bool = true,
        redis: RedisGenerationSource? = nil
    ) {
        self.reader = reader
        self.metrics = metrics
        self.corsAllowsAny = corsAllowsAny
        self.redis = redis
        self.current = Mutex(nil)
    }

    /// Redis first (when configured and it holds a generation at least as new as the files'), else the files.
    /// Returns true when the served generation changed.
    @discardableResult
    func refreshReadingThrough(logger: Logger) async -> Bool {
        if let redis, let changed = await refreshFromRedis(redis, logger: logger) { return changed }
        return refresh(logger: logger)
    }

    /// nil: Redis had nothing usable, try the files.
    private func refreshFromRedis(_ redis: RedisGenerationSource, logger: Logger) async -> Bool? {
        do {
            let fetched = try await redis.header()
            redisFailing.withLock { $0 = false }
            guard let header = fetched else { return nil }
            let filesGeneration = reader.resolve().flatMap { Int($0.id.dropFirst()) }
            if let filesGeneration, filesGeneration > header.generation { return nil }
            if current.withLock({ $0?.id }) == header.id { return false }
            guard let files = try await redis.files(of: header) else { return nil }
            let loaded = try LoadedGeneration.load(
                id: header.id,
                publishedAt: Date(timeIntervalSince1970: Double(header.publishedAt) / 1000),
                files: files,
                corsAllowsAny: corsAllowsAny
            )
            current.withLock { $0 = loaded }
            metrics.generationLoads.increment()
            logger.info("serving snapshot generation from redis", metadata: ["generation": "\(header.id)"])
            return true
        } catch let error as RedisError {
            let first = redisFailing.withLock { failing in
                defer { failing = true }
                return !failing
            }
            if first {
                logger.warning("redis unavailable: serving the snapshot files", metadata: ["error": "\(error)"])
            }
            metrics.redisFailures.increment()
            return nil
        } catch {
            metrics.generationLoadFailures.increment()
            logger.error("redis generation not served: a document is malformed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    var generation: LoadedGeneration? { current.withLock { $0 } }

    /// Loads the current generation if it differs from the one served. Returns true when it changed.
    /// A generation that fails to load is not served; the previous one stays.
    @discardableResult
    func refresh(logger: Logger) -> Bool {
        guard let resolved = reader.resolve() else { return false }
        if current.withLock({ $0?.id }) == resolved.id { return false }
        if refused.withLock({ $0 }) == resolved.id { return false }
        do {
            let loaded = try LoadedGeneration.load(resolved, corsAllowsAny: corsAllowsAny)
            current.withLock { $0 = loaded }
            metrics.generationLoads.increment()
            logger.info("serving snapshot generation", metadata: ["generation": "\(resolved.id)"])
            return true
        } catch {
            refused.withLock { $0 = resolved.id }
            metrics.generationLoadFailures.increment()
            logger.error(
                "snapshot generation not served: the previous one stays",
                metadata: ["generation": "\(resolved.id)", "error": "\(error)"]
            )
            return false
        }
    }
}

/// Polls the data directory for a new generation every `interval`.
struct SnapshotWatcher: Service {
    let store: GenerationStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await store.refreshReadingThrough(logger: logger)
                    if let generation = store.generation {
                        store.metrics.snapshotAge.set(Date().timeIntervalSince(generation.publishedAt))
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Graceful shutdown: stopping is the expected outcome, not an error.
        }
    }
}
