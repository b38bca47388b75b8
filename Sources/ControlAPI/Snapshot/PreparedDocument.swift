import Foundation
import NIOCore
import Synchronization

/// One JSON object ready to serve many times: its bytes after the opening brace are fixed for the whole
/// generation, and `serverTime` is spliced in front. The assembled response is cached per millisecond, so under
/// load the body is built about once per millisecond and shared (a `ByteBuffer` is copy-on-write) by every
/// response of that millisecond; no response copies the body.
final class PreparedDocument: Sendable {
    enum Encoding: Sendable { case identity, gzip }

    /// Everything after the opening `{`, including the closing `}`.
    let tail: [UInt8]
    let isEmptyObject: Bool
    let gzip: GzipSplice?
    let tailBuffer: ByteBuffer
    let gzipTailBuffer: ByteBuffer?
    private let cache: Mutex<Cached>

    private struct Cached {
        var millisecond: Int64 = -1
        var identity: ByteBuffer?
        var gzip: ByteBuffer?
    }

    /// `json` must be an encoded JSON object without a `serverTime` key.
    init(json: [UInt8], compress: Bool = true) throws {
        guard json.first == UInt8(ascii: "{"), json.last == UInt8(ascii: "}") else {
            throw PreparedDocumentError.notAnObject
        }
        tail = Array(json.dropFirst())
        isEmptyObject = tail.count == 1
        // Compressing tiny bodies costs more than it saves.
        gzip = compress && tail.count >= 256 ? try GzipSplice(tail: tail) : nil
        tailBuffer = ByteBuffer(bytes: tail)
        gzipTailBuffer = gzip.map { ByteBuffer(bytes: $0.deflatedTail) }
        cache = Mutex(Cached())
    }

    convenience init<T: Encodable>(encoding value: T, encoder: JSONEncoder) throws {
        try self.init(json: Array(try encoder.encode(value)))
    }

    func prefix(serverTime: Int64) -> [UInt8] {
        Array("{\"serverTime\":\(serverTime)\(isEmptyObject ? "" : ",")".utf8)
    }

    /// The full body for `serverTime`, built at most once per millisecond.
    func body(serverTime: Int64, encoding: Encoding) -> ByteBuffer {
        let wantsGzip = encoding == .gzip && gzip != nil
        if let cached = cache.withLock({ state -> ByteBuffer? in
            guard state.millisecond == serverTime else { return nil }
            return wantsGzip ? state.gzip : state.identity
        }) {
            return cached
        }
        let built = wantsGzip ? buildGzip(serverTime: serverTime) : buildIdentity(serverTime: serverTime)
        cache.withLock { state in
            if state.millisecond != serverTime {
                state = Cached(millisecond: serverTime)
            }
            if wantsGzip { state.gzip = built } else { state.identity = built }
        }
        return built
    }

    /// Whether a gzip variant exists (bodies under 256 bytes are always sent as they are).
    var isCompressible: Bool { gzip != nil }

    private func buildIdentity(serverTime: Int64) -> ByteBuffer {
        let prefix = prefix(serverTime: serverTime)
        var buffer = ByteBufferAllocator().buffer(capacity: prefix.count + tail.count)
        buffer.writeBytes(prefix)
        buffer.writeImmutableBuffer(tailBuffer)
        return buffer
    }

    private func buildGzip(serverTime: Int64) -> ByteBuffer {
        guard let gzip, let gzipTailBuffer else { return buildIdentity(serverTime: serverTime) }
        let prefix = prefix(serverTime: serverTime)
        let head = gzip.head(prefix: prefix)
        let trailer = gzip.trailer(prefix: prefix)
        var buffer = ByteBufferAllocator().buffer(capacity: head.count + gzip.deflatedTail.count + 8)
        buffer.writeBytes(head)
        buffer.writeImmutableBuffer(gzipTailBuffer)
        buffer.writeBytes(trailer)
        return buffer
    }
}

enum PreparedDocumentError: Error {
    case notAnObject
}
