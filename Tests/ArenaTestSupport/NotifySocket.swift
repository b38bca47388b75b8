import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notify socket.
public final class NotifySocket: @unchecked Sendable {
    public let path: String
    let descriptor: Int32

    public init() throws {
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
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// The next datagram, or nil after `seconds` of silence.
    public func receive(within seconds: Double = 1) -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(max(0, seconds * 1000))) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    /// Messages until one contains `needle`, for at most `limit` seconds.
    public func wait(for needle: String, limit: Int = 60) -> [String] {
        let deadline = Date().addingTimeInterval(Double(limit))
        var seen: [String] = []
        while case let left = deadline.timeIntervalSinceNow, left > 0 {
            guard let message = receive(within: left) else { continue }
            seen.append(message)
            if message.contains(needle) { break }
        }
        return seen
    }

    /// Every message that arrives in the next `seconds`.
    public func collect(seconds: Double) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var seen: [String] = []
        while case let left = deadline.timeIntervalSinceNow, left > 0 {
            if let message = receive(within: left) { seen.append(message) }
        }
        return seen
    }
}
