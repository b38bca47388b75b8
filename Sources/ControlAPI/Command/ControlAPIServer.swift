import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Builds the control-api application: the generation store, its watcher, and the responder.
enum ControlAPIServer {
    static func makeApplication(
        settings: ControlAPISettings,
        logger: Logger,
        metrics: APIMetrics = APIMetrics(),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let cors = CORSPolicy(origins: settings.corsOrigins)
        let redis = try settings.redisAddress.map {
            try RedisGenerationSource(address: $0, password: settings.redisPassword, prefix: settings.redisKeyPrefix)
        }
        let store = GenerationStore(
            reader: .init(root: settings.dataPath),
            metrics: metrics,
            corsAllowsAny: cors.allowsAny,
            redis: redis
        )
        // Serve the current generation from the first request on, not after the first poll.
        store.refresh(logger: logger)
        if store.generation == nil {
            logger.notice(
                "no snapshot yet: answering 503 until the engine publishes one",
                metadata: ["data_path": "\(settings.dataPath)"]
            )
        }
        let responder = APIResponder(
            store: store,
            cors: cors,
            metrics: metrics,
            dashboard: settings.dashboard ? try DashboardAssets() : nil,
            staleAfterSeconds: settings.staleAfter.secondsValue
        )
        let watcher = SnapshotWatcher(store: store, interval: settings.watchInterval, logger: logger)
        return Application(
            responder: responder,
            server: .http1(
                configuration: .init(additionalChannelHandlers: [PreparedDocumentHandler(responder: responder)])
            ),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            services: [watcher],
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
