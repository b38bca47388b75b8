import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Shared

/// The hot path: a GET of a prepared document (`APIResponder.preparedResponse`) is answered on the event loop
/// from the generation's prebuilt bytes, without the request's hop into Swift concurrency and back that every
/// routed request takes. Everything else — other methods and routes, queries, `Connection: close`, errors, no
/// generation yet — passes on to the router untouched, which answers exactly as before. The answer is the one
/// the router would give (same status, headers and body; `PreparedDocumentTests` compares both), plus the
/// `Date` header Hummingbird adds to routed responses.
///
/// Sits after the HTTP/1 codec, where HTTP/1 pipelining assistance upstream holds back a connection's next
/// request until the current response has ended, so answers stay in request order.
final class PreparedDocumentHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let responder: APIResponder
    /// The answer to the request being read, sent when its end arrives.
    private var answer: (HTTPResponse, ByteBuffer?)?
    /// Whether the request being read goes to the router.
    private var forwarding = false
    private var date = HTTPDate()

    init(responder: APIResponder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            if request.method == .get, !Self.asksToClose(request.headerFields), let path = request.path,
                let prepared = responder.preparedResponse(path: path, requestHeaders: request.headerFields)
            {
                answer = prepared
                forwarding = false
            } else {
                answer = nil
                forwarding = true
                context.fireChannelRead(data)
            }
        case .body:
            if forwarding { context.fireChannelRead(data) }
        case .end:
            guard !forwarding, let (head, body) = answer else {
                forwarding = false
                context.fireChannelRead(data)
                return
            }
            answer = nil
            var response = head
            response.headerFields[.date] = date.now()
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

extension PreparedDocumentHandler {
    /// `Connection: close`: the router closes the connection after its answer, so such a request goes there.
    static func asksToClose(_ headers: HTTPFields) -> Bool {
        headers[values: .connection].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
        }
    }
}

/// An IMF-fixdate (`Wed, 02 Dec 2026 03:21:28 GMT`), formatted once per second.
struct HTTPDate {
    private var second: Int = -1
    private var text = ""

    mutating func now() -> String {
        let current = Int(Date().timeIntervalSince1970)
        if current != second {
            second = current
            text = Self.format(current)
        }
        return text
    }

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
