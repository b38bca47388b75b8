import ArenaCore
import Logging

/// Where operator alerts go. Each alert has a bounded key (the kind, optionally `kind:trader`) and a message.
package protocol AlertSink: Sendable {
    func raise(key: String, message: String) async
}

/// Alerts as warnings in the log and a counter in the metrics.
package struct LoggingAlertSink: AlertSink {
    package let logger: Logger
    package let metrics: EngineMetrics?

    package func raise(key: String, message: String) async {
        logger.warning("alert", metadata: ["alert": "\(key)", "message": "\(message)"])
        metrics?.recordAlert(key: key)
    }

    package init(logger: Logger, metrics: EngineMetrics?) {
        self.logger = logger
        self.metrics = metrics
    }
}
