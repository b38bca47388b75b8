import ArenaTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ArenaAdapters
@testable import ArenaCore
@testable import ArenaRuntime
@testable import Engine

/// The watchdog follows the manager loop's heartbeat, not a timer of its own: a loop that stops beating stops
/// feeding systemd (which then restarts the engine), and one that beats again feeds it again. A real datagram
/// socket stands in for systemd's; the engine's own `SystemdService` runs in a `ServiceGroup`.
@Suite("systemd watchdog follows the manager loop")
struct SystemdWatchdogTests {
    final class Loop: Sendable {
        let heartbeat = Heartbeat()
        let ticking = Mutex(true)
    }

    /// Reads the socket off the cooperative pool (the reads block).
    func read(_ body: @escaping @Sendable () -> [String]) async -> [String] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }

    @Test func watchdog_isFedWhileTheLoopTicks_notWhileItIsStuck_andStoppingIsSaid() async throws {
        let socket = try NotifySocket()
        let loop = Loop()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let service = SystemdService(
            notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path]),
            heartbeat: loop.heartbeat,
            stallAfter: .milliseconds(400),
            watchdog: .milliseconds(200),
            status: { "2 traders, test loop" },
            logger: logger
        )
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                // The manager loop: a beat every 50 ms while it is not stuck.
                while !Task.isCancelled {
                    if loop.ticking.withLock({ $0 }) { loop.heartbeat.beat() }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }

            // Generous limits: each wait ends at its message, and a loaded machine can hold the service back.
            let ready = await read { socket.wait(for: "READY=1", limit: 60) }
            #expect(ready.last?.contains("READY=1\nSTATUS=2 traders, test loop") == true, "\(ready)")
            let fed = await read { socket.wait(for: "WATCHDOG=1", limit: 60) }
            #expect(fed.last?.contains("WATCHDOG=1") == true, "\(fed)")

            // The loop gets stuck: once the service has noticed (its last beat is older than the stall limit), no
            // WATCHDOG=1 at all.
            loop.ticking.withLock { $0 = false }
            let noticed = await read { socket.wait(for: "STATUS=manager loop stalled", limit: 60) }
            #expect(noticed.last?.contains("STATUS=manager loop stalled") == true, "\(noticed)")
            let stuck = await read { socket.collect(seconds: 1.5) }
            #expect(!stuck.contains { $0.contains("WATCHDOG=1") }, "\(stuck)")
            #expect(stuck.allSatisfy { $0.contains("STATUS=manager loop stalled") }, "\(stuck)")

            // It ticks again: fed again.
            loop.ticking.withLock { $0 = true }
            let again = await read { socket.wait(for: "WATCHDOG=1", limit: 60) }
            #expect(again.last?.contains("WATCHDOG=1") == true, "\(again)")

            // Shutdown: STOPPING=1.
            await group.triggerGracefulShutdown()
            let stopping = await read { socket.wait(for: "STOPPING=1", limit: 60) }
            #expect(stopping.last?.contains("STOPPING=1") == true, "\(stopping)")
            // The group's run returns once the service has stopped (an error would be thrown here).
            try await tasks.next()
            tasks.cancelAll()
        }
    }
}
