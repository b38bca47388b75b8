import ArenaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocket {
    let path: String
    let descriptor: Int32

    init() throws {
        path = NSTemporaryDirectory() + "arena-notify-\(UUID().uuidString.prefix(8))"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard descriptor >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// The next datagram, or nil after a second of silence.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    /// Messages until one contains `needle` (or `limit` seconds of waiting).
    func wait(for needle: String, limit: Int = 30) -> [String] {
        var seen: [String] = []
        var silent = 0
        while silent < limit {
            guard let message = receive() else {
                silent += 1
                continue
            }
            seen.append(message)
            if message.contains(needle) { break }
        }
        return seen
    }
}

@Suite("systemd notify protocol with a real engine process", .serialized)
struct SystemdNotifyTests {
    @Test func engine_saysReady_feedsTheWatchdog_andSaysStopping() async throws {
        let root = try BinaryTests.scratchConfig()
        let socket = try NotifySocket()
        let engine = try ProcessRunner.makeProcess(
            "engine",
            ["run", "--config", "etc/arena.yaml"],
            environment: [
                "NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000", "ARENA_LOG_LEVEL": "error",
                "ARENA_METRICS_PORT": String(try ProcessRunner.freePort()),
            ],
            directory: root
        )
        engine.standardError = FileHandle.nullDevice
        try engine.run()
        let ready = socket.wait(for: "READY=1")
        #expect(ready.last?.contains("READY=1") == true, "\(ready)")
        #expect(ready.last?.contains("STATUS=2 traders") == true, "\(ready)")
        let fed = socket.wait(for: "WATCHDOG=1")
        #expect(fed.last?.contains("WATCHDOG=1") == true, "\(fed)")
        engine.terminate()
        let stopping = socket.wait(for: "STOPPING=1")
        #expect(stopping.last?.contains("STOPPING=1") == true, "\(stopping)")
        engine.waitUntilExit()
        #expect(engine.terminationReason == .exit)
        #expect(engine.terminationStatus == 0)
    }
}
