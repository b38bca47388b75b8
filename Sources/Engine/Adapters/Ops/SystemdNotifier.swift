import ArenaCore
import Foundation
import Glibc
import Logging
import ServiceLifecycle

#if canImport(Glibc)
#endif

/// The systemd notify protocol, spoken directly over `NOTIFY_SOCKET` (a Unix datagram socket; a leading `@` is
/// the abstract namespace). Without `NOTIFY_SOCKET` every call does nothing.
package struct SystemdNotifier: Sendable {
    package let socketPath: String?

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    package var isActive: Bool { socketPath != nil }

    /// Sends `message` (e.g. `READY=1\nSTATUS=…`); returns whether it was delivered.
    @discardableResult
    package func notify(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, length)
            }
        }
        return sent == bytes.count
    }

    /// `WATCHDOG_USEC` as a duration, when systemd asked for a watchdog.
    package static func watchdogInterval(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else {
            return nil
        }
        return .microseconds(microseconds)
    }
}

/// READY=1 once the manager has ticked (configuration, state and providers are up by then), WATCHDOG=1 at half
/// the watchdog interval but only while the loop is actually ticking, STATUS= with the traders running, and
/// STOPPING=1 when shutdown begins.
package struct SystemdService: Service {
    package let notifier: SystemdNotifier
    package let heartbeat: Heartbeat
    package let stallAfter: Duration
    package let watchdog: Duration?
    package let status: @Sendable () async -> String
    package let logger: Logger

    package func run() async throws {
        guard notifier.isActive else {
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            while heartbeat.age == nil { try await Task.sleep(for: .milliseconds(50)) }
            notifier.notify("READY=1\nSTATUS=\(await status())")
            logger.info("systemd notified: ready")
            let period = watchdog.map { $0 / 2 } ?? .seconds(5)
            while true {
                try await Task.sleep(for: period)
                let alive = heartbeat.age.map { $0 < stallAfter } ?? false
                if alive {
                    notifier.notify("WATCHDOG=1\nSTATUS=\(await status())")
                } else {
                    // No WATCHDOG=1: systemd restarts an engine whose loop has stopped.
                    notifier.notify("STATUS=manager loop stalled")
                    logger.error("manager loop stalled: watchdog not fed")
                }
            }
        }
        notifier.notify("STOPPING=1\nSTATUS=stopping: finishing cycles, flushing the journal")
    }

    package init(
        notifier: SystemdNotifier,
        heartbeat: Heartbeat,
        stallAfter: Duration,
        watchdog: Duration?,
        status: @escaping @Sendable () async -> String,
        logger: Logger
    ) {
        self.notifier = notifier
        self.heartbeat = heartbeat
        self.stallAfter = stallAfter
        self.watchdog = watchdog
        self.status = status
        self.logger = logger
    }
}
