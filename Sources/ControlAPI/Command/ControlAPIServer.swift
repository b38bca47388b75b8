import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1
import NIOPosix
import Synchronization

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
            server: HTTPServerBuilder { routed in
                PreparedDocumentChannel(http1: HTTP1Channel(responder: routed), responder: responder)
            },
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            services: [watcher],
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(eventLoops(settings.eventLoopThreads())),
            logger: logger
        )
    }
}

extension ControlAPIServer {
    private static let groups = Mutex<[Int: MultiThreadedEventLoopGroup]>([:])

    /// One group of `count` event loops for the process, made on first use and kept, like NIO's singleton (a
    /// server made again — the tests make many — takes the same threads).
    static func eventLoops(_ count: Int) -> MultiThreadedEventLoopGroup {
        groups.withLock { groups in
            if let group = groups[count] { return group }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: count)
            groups[count] = group
            return group
        }
    }
}

/// HTTP/1 with the prepared-document fast path (`PreparedDocumentHandler`) in front of Hummingbird's codec.
struct PreparedDocumentChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let responder: APIResponder

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let routed = RoutedAnswers()
        do {
            try channel.pipeline.syncOperations.addHandler(
                PreparedDocumentHandler(responder: responder, routed: routed)
            )
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // On the channel's loop (where setup runs): both handlers share `routed` there.
        return http1.setup(channel: channel, logger: logger).assumeIsolated().flatMapThrowing { value in
            // The counter of routed answers goes right after the codec, where responses are whole parts.
            let operations = channel.pipeline.syncOperations
            let codec = try operations.handler(type: HTTP1ToHTTPServerCodec.self)
            try operations.addHandler(RoutedAnswerCounter(routed: routed), position: .after(codec))
            return value
        }.nonisolated()
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
