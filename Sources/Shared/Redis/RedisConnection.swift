import CHiredis
import Foundation
import Synchronization

/// A reply from Redis.
package enum RedisReply: Sendable, Equatable {
    case string(Data)
    case integer(Int64)
    case array([RedisReply])
    case status(String)
    case null
    case error(String)

    package var data: Data? {
        if case .string(let data) = self { return data }
        return nil
    }
}

package struct RedisError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// One blocking hiredis connection. Every call blocks its thread, so callers never use it on an event loop: they
/// go through `RedisClient`, which runs calls on a thread of its own. Not safe for concurrent use (the lock
/// serialises calls). A connection that fails is closed; the next call reconnects.
package final class RedisConnection: @unchecked Sendable {
    package let host: String
    package let port: Int
    private let password: String?
    private let timeout: Duration
    private var context: UnsafeMutablePointer<redisContext>?
    private let lock = NSLock()

    /// `address` is `host:port` (port 6379 when absent).
    package init(address: String, password: String?, timeout: Duration = .seconds(2)) throws {
        let parts = address.split(separator: ":", omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty, parts.count <= 2 else {
            throw RedisError("redis.address: expected host:port, got '\(address)'")
        }
        host = String(first)
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65535).contains(port) else {
                throw RedisError("redis.address: bad port in '\(address)'")
            }
            self.port = port
        } else {
            port = 6379
        }
        self.password = (password?.isEmpty ?? true) ? nil : password
        self.timeout = timeout
    }

    deinit {
        if let context { redisFree(context) }
    }

    package var isConnected: Bool { lock.withLock { context != nil } }

    /// Runs one command; a connection error closes the connection and throws.
    package func command(_ arguments: [String]) throws -> RedisReply {
        try pipeline([arguments.map { Data($0.utf8) }])[0]
    }

    /// Sends every command before reading any reply (one round trip), returning the replies in order. A
    /// Redis-level error (`-ERR …`) is a reply, not a throw; a connection error throws.
    package func pipeline(_ commands: [[Data]]) throws -> [RedisReply] {
        try lock.withLock {
            let context = try connected()
            do {
                for command in commands { try append(command, to: context) }
                var replies: [RedisReply] = []
                replies.reserveCapacity(commands.count)
                for _ in commands {
                    var raw: UnsafeMutableRawPointer?
                    guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                        throw RedisError("redis \(host):\(port): \(Self.errorText(context))")
                    }
                    let reply = raw.assumingMemoryBound(to: redisReply.self)
                    replies.append(Self.convert(reply))
                    freeReplyObject(raw)
                }
                return replies
            } catch {
                close()
                throw error
            }
        }
    }

    /// Closes the connection (the next call reconnects).
    package func disconnect() { lock.withLock { close() } }

    private func close() {
        if let context { redisFree(context) }
        context = nil
    }

    private func connected() throws -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        let timeval = Self.makeTimeval(timeout)
        guard let created = redisConnectWithTimeout(host, Int32(port), timeval) else {
            throw RedisError("redis \(host):\(port): cannot allocate a connection")
        }
        if created.pointee.err != 0 {
            let text = Self.errorText(created)
            redisFree(created)
            throw RedisError("redis \(host):\(port): \(text)")
        }
        redisSetTimeout(created, timeval)
        context = created
        if let password {
            do {
                try append([Data("AUTH".utf8), Data(password.utf8)], to: created)
                var raw: UnsafeMutableRawPointer?
                guard redisGetReply(created, &raw) == REDIS_OK, let raw else {
                    throw RedisError("redis \(host):\(port): \(Self.errorText(created))")
                }
                let reply = Self.convert(raw.assumingMemoryBound(to: redisReply.self))
                freeReplyObject(raw)
                // The server's message names neither the password nor anything derived from it.
                if case .error = reply { throw RedisError("redis \(host):\(port): AUTH refused") }
            } catch {
                close()
                throw error
            }
        }
        return created
    }

    private func append(_ command: [Data], to context: UnsafeMutablePointer<redisContext>) throws {
        // hiredis copies the arguments into its output buffer, so the pointers need only live for this call.
        let buffers = command.map { [UInt8]($0) + [0] }
        var lengths = command.map { $0.count }
        let status = withPointers(buffers) { pointers in
            var argv = pointers
            return redisAppendCommandArgv(context, Int32(command.count), &argv, &lengths)
        }
        guard status == REDIS_OK else { throw RedisError("redis \(host):\(port): \(Self.errorText(context))") }
    }

    private func withPointers<R>(_ buffers: [[UInt8]], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafePointer<CChar>?] = []
        func recurse(_ index: Int) -> R {
            if index == buffers.count { return body(pointers) }
            return buffers[index].withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                    pointers.append(pointer)
                    return recurse(index + 1)
                }
            }
        }
        return recurse(0)
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .string(value.str.map { Data(bytes: $0, count: value.len) } ?? Data())
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            for index in 0..<value.elements {
                if let element = value.element[index] { elements.append(convert(element)) }
            }
            return .array(elements)
        case REDIS_REPLY_STATUS:
            return .status(value.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_ERROR:
            return .error(value.str.map { String(cString: $0) } ?? "")
        default:
            return .null
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "connection error \(context.pointee.err)" : text
    }

    private static func makeTimeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}

/// Runs a `RedisConnection`'s blocking calls on a dedicated thread (a serial queue), never on the caller's
/// executor or an event loop.
package final class RedisClient: Sendable {
    package let connection: RedisConnection
    private let queue: DispatchQueue

    package init(connection: RedisConnection, label: String = "arena.redis") {
        self.connection = connection
        self.queue = DispatchQueue(label: label)
    }

    package func pipeline(_ commands: [[Data]]) async throws -> [RedisReply] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [connection] in
                continuation.resume(with: Result { try connection.pipeline(commands) })
            }
        }
    }

    package func command(_ arguments: [String]) async throws -> RedisReply {
        try await pipeline([arguments.map { Data($0.utf8) }])[0]
    }

    package func disconnect() {
        queue.async { [connection] in connection.disconnect() }
    }
}
