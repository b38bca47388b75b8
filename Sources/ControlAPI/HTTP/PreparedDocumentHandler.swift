import Foundation
import Glibc
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Shared

/// The hot path: a plain GET of a prepared document (`APIResponder.preparedAnswer`) is answered from the
/// socket's bytes, on the event loop, before the HTTP/1 codec: the request head is read here, the answer is the
/// router's own document code (`APIResponder.documentParts`) written as one buffer (head and body, shared by the
/// answers of a millisecond; a large body's shared part as a buffer or file region of its own, never copied), and
/// the writes of one read go out with one flush.
///
/// Only simple HTTP/1.1 requests are read here (`RequestHead.parse`): CRLF line ends, no body (no
/// `Transfer-Encoding`, no `Content-Length` but `0`, which leaves the request to the router), no `Expect` or `Upgrade`, `Connection` only `keep-alive`, each of `Accept-Encoding`,
/// `Origin` and `If-None-Match` at most once, visible ASCII, a head of at most 8 KiB. A simple request that is
/// not a prepared document (another method or route, a query, no generation yet) is handed to the codec and
/// the router by itself, and what follows waits until the router's answer has ended (`RoutedAnswers`), so
/// answers keep request order. The first request that is not simple, and every byte after it, go to the codec
/// for good. The answer is the one the router gives (`PreparedDocumentTests` compares the bytes), plus the
/// `Date` header Hummingbird adds to routed responses.
///
/// Back-pressure: while the socket cannot take more, or a routed answer is awaited, requests already read wait
/// and no more are read.
final class PreparedDocumentHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Heads longer than this go to the codec, which applies its own limits.
    static let maxHeadBytes = 8192

    private let responder: APIResponder
    private let routed: RoutedAnswers
    /// Everything after the first request that is not simple goes to the codec.
    private var forwarding = false
    /// Bytes read and not yet answered or handed on.
    private var pending: ByteBuffer?
    /// The socket is not writable: answer nothing more until it is.
    private var unwritable = false
    /// A read was asked for while requests waited.
    private var readWanted = false
    private var unflushed = false
    /// Bytes were handed to the codec since the last read completed.
    private var handedOn = false

    init(responder: APIResponder, routed: RoutedAnswers) {
        self.responder = responder
        self.routed = routed
    }

    /// Requests wait (and no more are read) while the socket is full or the router has answers to finish.
    private var waits: Bool { unwritable || routed.inFlight > 0 }

    func handlerAdded(context: ChannelHandlerContext) {
        // Called while the router's last answer is being written: go on once that write has returned.
        let loop = context.eventLoop
        routed.onAllEnded = { [weak self] in
            loop.assumeIsolated().execute { self?.resume(context: context) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        routed.onAllEnded = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if forwarding {
            context.fireChannelRead(data)
            return
        }
        var incoming = unwrapInboundIn(data)
        if var held = pending {
            held.writeBuffer(&incoming)
            pending = held
        } else {
            pending = incoming
        }
        answerPending(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        handedOn = false
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if !forwarding, waits, pending != nil {
            readWanted = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if unwritable, context.channel.isWritable {
            unwritable = false
            resume(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The peer sent all it will: whatever is left (a partial head, or requests still waiting) is the
        // codec's, which answers or rejects it as it always has.
        if !forwarding, let event = event as? ChannelEvent, event == .inputClosed, pending != nil {
            forwardAll(context: context)
            deliverHandedOn(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Goes on with waiting requests once nothing holds them.
    private func resume(context: ChannelHandlerContext) {
        guard !forwarding, !waits, pending != nil else { return }
        answerPending(context: context)
        flushIfNeeded(context: context)
        deliverHandedOn(context: context)
        if !waits || pending == nil, readWanted {
            readWanted = false
            context.read()
        }
    }

    /// Outside a socket read, what was handed on reaches the router at the end of a read, as after one.
    private func deliverHandedOn(context: ChannelHandlerContext) {
        if handedOn {
            handedOn = false
            context.fireChannelReadComplete()
        }
    }

    /// Answers or hands on the complete requests in `pending`, in order, until one must wait.
    private func answerPending(context: ChannelHandlerContext) {
        while !forwarding, var buffer = pending {
            let parsed = buffer.withUnsafeReadableBytes { RequestHead.parse($0) }
            switch parsed {
            case .incomplete:
                if buffer.readableBytes > Self.maxHeadBytes { forwardAll(context: context) }
                return
            case .other:
                forwardAll(context: context)
                return
            case .request(let head, let length):
                if head.isDocumentGet, !waits,
                    let answer = responder.preparedAnswer(path: head.path, request: head.document)
                {
                    write(answer, context: context)
                    unwritable = !context.channel.isWritable
                    _ = buffer.readSlice(length: length)
                } else if waits {
                    return
                } else {
                    // The router's: this request alone, and the next waits for its answer to end.
                    flushIfNeeded(context: context)
                    let request = buffer.readSlice(length: length)!
                    routed.inFlight += 1
                    handedOn = true
                    context.fireChannelRead(wrapInboundOut(request))
                }
                pending = buffer.readableBytes > 0 ? buffer : nil
            }
        }
    }

    /// Hands what is pending, and every later byte, to the codec.
    private func forwardAll(context: ChannelHandlerContext) {
        forwarding = true
        routed.onAllEnded = nil
        flushIfNeeded(context: context)
        if let bytes = pending {
            pending = nil
            handedOn = true
            context.fireChannelRead(wrapInboundOut(bytes))
        }
        if readWanted {
            readWanted = false
            context.read()
        }
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
    }

    private func write(_ answer: APIResponder.WireAnswer, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.byteBuffer(answer.bytes)), promise: nil)
        unflushed = true
        guard let rest = answer.rest else { return }
        // A large body's shared part goes as it is, never copied: from its file with `sendfile`, or as a buffer
        // the socket write gathers with the others.
        if let file = rest.file, let region = Self.region(of: file, from: answer.sent, context: context) {
            context.write(wrapOutboundOut(.fileRegion(region.region)), promise: region.written)
        } else {
            let shared = rest.shared
            let remaining = shared.getSlice(
                at: shared.readerIndex + answer.sent,
                length: shared.readableBytes - answer.sent
            )!
            context.write(wrapOutboundOut(.byteBuffer(remaining)), promise: nil)
        }
        if let back = rest.back { context.write(wrapOutboundOut(.byteBuffer(back)), promise: nil) }
    }
}

extension PreparedDocumentHandler {
    /// `file` from `start` as a region of a descriptor of its own (a `dup`, closed once the write has ended, so the
    /// document's file may go meanwhile), or nil when no descriptor is to be had.
    static func region(
        of file: SharedFile,
        from start: Int,
        context: ChannelHandlerContext
    ) -> (region: FileRegion, written: EventLoopPromise<Void>)? {
        let descriptor = dup(file.descriptor)
        guard descriptor >= 0 else { return nil }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in try? handle.close() }
        return (FileRegion(fileHandle: handle, readerIndex: start, endIndex: file.count), written)
    }
}

/// The requests of one connection that `PreparedDocumentHandler` handed to the router and whose answers have not
/// ended yet; `RoutedAnswerCounter` (after the codec) counts each answer's end. Both run on the channel's loop.
final class RoutedAnswers {
    var inFlight = 0
    var onAllEnded: (() -> Void)?

    func answerEnded() {
        inFlight -= 1
        if inFlight == 0 { onAllEnded?() }
    }
}

/// Counts the end of each response the router writes (after the codec, so it sees whole response parts).
final class RoutedAnswerCounter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let routed: RoutedAnswers

    init(routed: RoutedAnswers) {
        self.routed = routed
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd, routed.inFlight > 0 { routed.answerEnded() }
    }
}

/// The head of a simple request (see `PreparedDocumentHandler`): whether it is a plain GET of a path under
/// `/api/`, and the headers a document's answer reads.
struct RequestHead: Equatable {
    var isDocumentGet = false
    var path = ""
    var document = APIResponder.DocumentRequest()

    enum Parsed: Equatable {
        /// The head has not fully arrived.
        case incomplete
        /// Not a simple request: it and every byte after it are the codec's.
        case other
        /// A simple request, exactly the first `length` bytes (its head with the blank line; it has no body).
        case request(RequestHead, length: Int)
    }

    private static let documentPrefix = Array("GET /api/".utf8)
    private static let version = Array(" HTTP/1.1".utf8)
    static let maxHeaderCount = 100

    static func parse(_ bytes: [UInt8]) -> Parsed {
        bytes.withUnsafeBytes { parse($0) }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        // The request line: method, one space, target, " HTTP/1.1".
        let lineEnd: Int
        switch Self.lineEnd(bytes, from: 0) {
        case .malformed: return .other
        case .incomplete: return .incomplete
        case .end(let end): lineEnd = end
        }
        guard let space = bytes[0..<lineEnd].firstIndex(of: UInt8(ascii: " ")), space > 0,
            bytes[0..<space].allSatisfy(isTokenByte),
            lineEnd - space > version.count + 1,
            bytes[(lineEnd - version.count)..<lineEnd].elementsEqual(version),
            bytes[(space + 1)..<(lineEnd - version.count)].allSatisfy({ (0x21...0x7E).contains($0) })
        else { return .other }
        var head = RequestHead()
        if bytes[0..<min(lineEnd, documentPrefix.count)].elementsEqual(documentPrefix) {
            let path = bytes[(space + 1)..<(lineEnd - version.count)]
            if path.allSatisfy(APIResponder.isPlainPathByte) {
                head.isDocumentGet = true
                head.path = String(decoding: path, as: UTF8.self)
            }
        }
        // The header lines, up to the blank line.
        var position = lineEnd + 2
        var count = 0
        var seen: (acceptEncoding: Bool, origin: Bool, ifNoneMatch: Bool) = (false, false, false)
        // `Content-Length: 0` (clients send it with bodiless POSTs): still simple, but the router's to answer.
        var hasEmptyBody = false
        while true {
            let end: Int
            switch Self.lineEnd(bytes, from: position) {
            case .malformed: return .other
            case .incomplete: return .incomplete
            case .end(let found): end = found
            }
            if end == position {
                if hasEmptyBody { (head.isDocumentGet, head.path) = (false, "") }
                return .request(head, length: end + 2)
            }
            count += 1
            guard count <= maxHeaderCount,
                let colon = bytes[position..<end].firstIndex(of: UInt8(ascii: ":")), colon > position,
                bytes[position..<colon].allSatisfy(isTokenByte)
            else { return .other }
            var valueStart = colon + 1
            var valueEnd = end
            while valueStart < valueEnd, isSpace(bytes[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart, isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
            let value = bytes[valueStart..<valueEnd]
            guard value.allSatisfy({ $0 == 0x09 || (0x20...0x7E).contains($0) }) else { return .other }
            switch HeaderName(bytes[position..<colon]) {
            case .acceptEncoding:
                guard !seen.acceptEncoding else { return .other }
                seen.acceptEncoding = true
                head.document.acceptEncoding = String(decoding: value, as: UTF8.self)
            case .origin:
                guard !seen.origin else { return .other }
                seen.origin = true
                head.document.origin = String(decoding: value, as: UTF8.self)
            case .ifNoneMatch:
                guard !seen.ifNoneMatch else { return .other }
                seen.ifNoneMatch = true
                head.document.ifNoneMatch = String(decoding: value, as: UTF8.self)
            case .connection:
                guard isKeepAliveOnly(String(decoding: value, as: UTF8.self)) else { return .other }
            case .contentLength:
                guard !hasEmptyBody, value.elementsEqual([UInt8(ascii: "0")]) else { return .other }
                hasEmptyBody = true
            case .refused:
                return .other
            case .ignored:
                break
            }
            position = end + 2
        }
    }
    private enum LineEnd {
        /// The index of the line's CR (a CRLF follows).
        case end(Int)
        case incomplete
        /// A bare LF, or a CR not followed by LF.
        case malformed
    }

    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> LineEnd {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\r"):
                guard index + 1 < bytes.count else { return .incomplete }
                return bytes[index + 1] == UInt8(ascii: "\n") ? .end(index) : .malformed
            case UInt8(ascii: "\n"):
                return .malformed
            default:
                index += 1
            }
        }
        return .incomplete
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private enum HeaderName {
        case acceptEncoding, origin, ifNoneMatch, connection, contentLength, refused, ignored

        init(_ name: Slice<UnsafeRawBufferPointer>) {
            func matches(_ lowercase: StaticString) -> Bool {
                guard name.count == lowercase.utf8CodeUnitCount else { return false }
                return zip(name, UnsafeBufferPointer(start: lowercase.utf8Start, count: name.count)).allSatisfy {
                    ($0 | 0x20) == $1 || $0 == $1
                }
            }
            switch name.count {
            case 6 where matches("origin"): self = .origin
            case 6 where matches("expect"): self = .refused
            case 7 where matches("upgrade"): self = .refused
            case 10 where matches("connection"): self = .connection
            case 13 where matches("if-none-match"): self = .ifNoneMatch
            case 14 where matches("content-length"): self = .contentLength
            case 15 where matches("accept-encoding"): self = .acceptEncoding
            case 17 where matches("transfer-encoding"): self = .refused
            default: self = .ignored
            }
        }
    }

    /// `Connection: keep-alive` (any case, possibly listed more than once); anything else — `close`, `upgrade`,
    /// other tokens — is for the codec.
    static func isKeepAliveOnly(_ value: String) -> Bool {
        let tokens = value.lowercased().split(separator: ",", omittingEmptySubsequences: false)
        return tokens.allSatisfy { $0.trimmingCharacters(in: .whitespaces) == "keep-alive" }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

/// An IMF-fixdate (`Wed, 02 Dec 2026 03:21:28 GMT`), the `Date` header's form.
enum HTTPDate {
    static func format(_ seconds: Int) -> String {
        let (year, month, day, hour, minute, second, _) = UTCTime.components(Int64(seconds) * 1000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(names[weekday]), \(two(day)) \(months[month - 1]) \(year) \(two(hour)):\(two(minute)):\(two(second)) GMT"
    }
}
