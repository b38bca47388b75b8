import Logging

/// Where operator alerts go. Each alert has a bounded key (the kind, optionally `kind:trader`) and a message.
protocol AlertSink: Sendable {
    func raise(key: String, message: String) async
}

/// Alerts as warnings in the log and a counter in the metrics.
struct LoggingAlertSink: AlertSink {
    let logger: Logger
    let metrics: EngineMetrics?

    func raise(key: String, message: String) async {
        logger.warning("alert", metadata: ["alert": "\(key)", "message": "\(message)"])
        metrics?.recordAlert(key: key)
    }
}
