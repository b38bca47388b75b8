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

    init(reader: SnapshotReader, metrics: APIMetrics, corsAllowsAny: Bool = true) {
        self.reader = reader
        self.metrics = metrics
        self.corsAllowsAny = corsAllowsAny
        self.current = Mutex(nil)
    }

    var generation: LoadedGeneration? { current.withLock { $0 } }

    /// Loads the current generation if it differs from the one served. Returns true when it changed.
    /// A generation that fails to load is not served; the previous one stays.
    @discardableResult
    func refresh(logger: Logger) -> Bool {
        guard let resolved = reader.resolve() else { return false }
        if current.withLock({ $0?.id }) == resolved.id { return false }
        do {
            let loaded = try LoadedGeneration.load(resolved, corsAllowsAny: corsAllowsAny)
            current.withLock { $0 = loaded }
            metrics.generationLoads.increment()
            logger.info("serving snapshot generation", metadata: ["generation": "\(resolved.id)"])
            return true
        } catch {
            metrics.generationLoadFailures.increment()
            logger.error(
                "snapshot generation not served: a file is malformed",
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
                    store.refresh(logger: logger)
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
