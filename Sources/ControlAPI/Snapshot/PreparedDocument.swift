import CLinux
import Foundation
import Glibc
import NIOCore
import Synchronization

/// One JSON object ready to serve many times: its bytes after the opening brace are fixed for the whole
/// generation, and `serverTime` is spliced in front. A body is three parts (`Parts`): a few bytes in front that
/// change with `serverTime` (the prefix, or gzip's header with the prefix as a stored block), the fixed tail (as
/// it is, or deflated once) shared by every response, and gzip's 8-byte trailer. The changing parts are built at
/// most once per millisecond and shared (a `ByteBuffer` is copy-on-write); the tail is never copied for the fast
/// path, which writes the parts as they are.
final class PreparedDocument: Sendable {
    enum Encoding: Sendable { case identity, gzip }

    /// A body as written: `front`, then `shared`, then `back` (gzip's trailer) when present. `file`, when
    /// present, holds the same bytes as `shared`, for `sendfile`.
    struct Parts: Sendable {
        let front: ByteBuffer
        let shared: ByteBuffer
        let back: ByteBuffer?
        var file: SharedFile? = nil

        var byteCount: Int { front.readableBytes + shared.readableBytes + (back?.readableBytes ?? 0) }

        /// The parts in one buffer.
        func joined() -> ByteBuffer {
            var buffer = ByteBufferAllocator().buffer(capacity: byteCount)
            copy(into: &buffer)
            return buffer
        }

        /// Appends the parts, in order, to `buffer`.
        func copy(into buffer: inout ByteBuffer) {
            buffer.writeImmutableBuffer(front)
            buffer.writeImmutableBuffer(shared)
            if let back { buffer.writeImmutableBuffer(back) }
        }
    }

    /// Everything after the opening `{`, including the closing `}`.
    let tail: [UInt8]
    let isEmptyObject: Bool
    let gzip: GzipSplice?
    let tailBuffer: ByteBuffer
    let gzipTailBuffer: ByteBuffer?
    /// A large tail also in a file of its own, which the fast path sends with `sendfile`, as nginx sends a
    /// static file (no copy from memory into the socket); nil for small tails or when no such file can be made.
    let tailFile: SharedFile?
    /// Tails from this size on get a `tailFile`.
    static let fileTailBytes = 65536
    private let cache: Mutex<Cached>

    private struct Cached {
        var millisecond: Int64 = -1
        var identity: Parts?
        var gzip: Parts?
        /// Whole answers of this millisecond (`shared(serverTime:encoding:build:)`).
        var identityAnswer: APIResponder.WireAnswer?
        var gzipAnswer: APIResponder.WireAnswer?
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
        tailFile = tail.count >= Self.fileTailBytes ? SharedFile(bytes: tail) : nil
        cache = Mutex(Cached())
    }

    convenience init<T: Encodable>(encoding value: T, encoder: JSONEncoder) throws {
        try self.init(json: Array(try encoder.encode(value)))
    }

    func prefix(serverTime: Int64) -> [UInt8] {
        Array("{\"serverTime\":\(serverTime)\(isEmptyObject ? "" : ",")".utf8)
    }

    /// The body's parts for `serverTime`, the changing ones built at most once per millisecond.
    func parts(serverTime: Int64, encoding: Encoding) -> Parts {
        let wantsGzip = encoding == .gzip && gzip != nil
        return memo(serverTime, wantsGzip ? \.gzip : \.identity) {
            wantsGzip ? buildGzip(serverTime: serverTime) : buildIdentity(serverTime: serverTime)
        }
    }

    /// An answer that is the same for every request of a millisecond, built by `build` at most once per
    /// millisecond and encoding, and shared.
    func shared(
        serverTime: Int64,
        encoding: Encoding,
        build: () -> APIResponder.WireAnswer
    ) -> APIResponder.WireAnswer {
        let wantsGzip = encoding == .gzip && gzip != nil
        return memo(serverTime, wantsGzip ? \.gzipAnswer : \.identityAnswer, build: build)
    }

    /// The value at `slot` for `serverTime`, built by `build` when this millisecond has none yet (a new
    /// millisecond empties every slot).
    private func memo<Value: Sendable>(
        _ serverTime: Int64,
        _ slot: WritableKeyPath<Cached, Value?>,
        build: () -> Value
    ) -> Value {
        if let cached = cache.withLock({ $0.millisecond == serverTime ? $0[keyPath: slot] : nil }) {
            return cached
        }
        let built = build()
        cache.withLock { state in
            if state.millisecond != serverTime {
                state = Cached(millisecond: serverTime)
            }
            state[keyPath: slot] = built
        }
        return built
    }

    /// Whether a gzip variant exists (bodies under 256 bytes are always sent as they are).
    var isCompressible: Bool { gzip != nil }

    private func buildIdentity(serverTime: Int64) -> Parts {
        Parts(front: ByteBuffer(bytes: prefix(serverTime: serverTime)), shared: tailBuffer, back: nil, file: tailFile)
    }

    private func buildGzip(serverTime: Int64) -> Parts {
        guard let gzip, let gzipTailBuffer else { return buildIdentity(serverTime: serverTime) }
        let prefix = prefix(serverTime: serverTime)
        return Parts(
            front: ByteBuffer(bytes: gzip.head(prefix: prefix)),
            shared: gzipTailBuffer,
            back: ByteBuffer(bytes: gzip.trailer(prefix: prefix))
        )
    }
}

/// Bytes in an anonymous memory file (`memfd_create`: in no file system, gone with its last descriptor), closed
/// when the last reference goes. Readers `dup` the descriptor for as long as they need it.
final class SharedFile: Sendable {
    let descriptor: CInt
    let count: Int

    /// Nil when the file cannot be made or filled: the bytes are then sent from memory.
    init?(bytes: [UInt8]) {
        let descriptor = memfd_create("arena-control-api-document", ARENA_MFD_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                close(descriptor)
                return nil
            }
            written += count
        }
        self.descriptor = descriptor
        self.count = bytes.count
    }

    deinit { close(descriptor) }
}

enum PreparedDocumentError: Error {
    case notAnObject
}
