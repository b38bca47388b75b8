import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// Every route of the control-api. Reads the current generation and answers from prepared bytes; domain
/// failures become HTTP errors in one place (`errorResponse`), and nothing internal reaches a client.
struct APIResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let store: GenerationStore
    let cors: CORSPolicy
    let metrics: APIMetrics
    let openAPI: ByteBuffer
    /// The browser dashboard at `/`, unless `api.dashboard: false`.
    let dashboard: DashboardAssets?
    /// A generation older than this is reported stale by `/api/health`.
    let staleAfterSeconds: Double
    let clock: @Sendable () -> Int64

    init(
        store: GenerationStore,
        cors: CORSPolicy,
        metrics: APIMetrics,
        dashboard: DashboardAssets? = nil,
        staleAfterSeconds: Double = 60,
        clock: @escaping @Sendable () -> Int64 = { UTCTime.nowMilliseconds() }
    ) {
        self.store = store
        self.cors = cors
        self.metrics = metrics
        self.openAPI = ByteBuffer(string: OpenAPIDocument.json)
        self.dashboard = dashboard
        self.staleAfterSeconds = staleAfterSeconds
        self.clock = clock
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let isHead = request.method == .head
        guard request.method == .get || isHead else {
            metrics.record(.methodNotAllowed)
            var response = errorResponse(.methodNotAllowed, "only GET and HEAD are allowed", request: request)
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        let response = route(request)
        return isHead ? response.createHeadResponse() : response
    }

    private func route(_ request: Request) -> Response {
        let path = request.uri.path
        if path.hasPrefix("/api/") {
            let name = path.dropFirst("/api/".count)
            if let document = SnapshotDocument(rawValue: String(name)) {
                metrics.record(.document(document))
                return serveDocument(document, request: request)
            }
            if name.hasPrefix("analytics/") {
                metrics.record(.analyticsByModel)
                return serveAnalytics(modelID: name.dropFirst("analytics/".count), request: request)
            }
            switch name {
            case "rebalances":
                metrics.record(.rebalances)
                return serveOurs(\.rebalances, maxAge: SnapshotDocument.leaderboard.maxAgeSeconds, request: request)
            case "prompt-versions":
                metrics.record(.promptVersions)
                return serveOurs(\.promptVersions, maxAge: SnapshotDocument.analytics.maxAgeSeconds, request: request)
            case "health":
                metrics.record(.health)
                return health(request: request)
            case "openapi.json":
                metrics.record(.openAPI)
                return plain(openAPI, contentType: "application/json", request: request)
            default:
                break
            }
        } else if path == "/metrics" {
            metrics.record(.metrics)
            return plain(metrics.exposition(), contentType: "text/plain; version=0.0.4", request: request)
        } else if let dashboard,
            let response = dashboard.response(path: path, requestHeaders: request.headers, cors: cors)
        {
            metrics.record(.dashboard)
            return response
        }
        metrics.record(.notFound)
        return errorResponse(.notFound, "no such route", request: request)
    }

    // MARK: Documents

    private func serveDocument(_ document: SnapshotDocument, request: Request) -> Response {
        guard let generation = store.generation else { return noSnapshot(request: request) }
        let prepared: PreparedDocument?
        do {
            prepared = try filtered(document, generation: generation, query: request.uri.queryParameters)
        } catch let error as QueryError {
            return errorResponse(.badRequest, error.message, request: request)
        } catch {
            return errorResponse(.internalServerError, "cannot build the response", request: request)
        }
        guard let prepared else {
            return errorResponse(
                .serviceUnavailable,
                "the current snapshot has no \(document.rawValue) document",
                request: request,
                retryAfter: true
            )
        }
        return send(prepared, generation: generation, maxAge: document.maxAgeSeconds, request: request)
    }

    /// A document of ours (not nof1's) that every generation has, empty when the engine wrote none.
    private func serveOurs(
        _ document: KeyPath<LoadedGeneration, PreparedDocument>,
        maxAge: Int,
        request: Request
    ) -> Response {
        guard let generation = store.generation else { return noSnapshot(request: request) }
        return send(generation[keyPath: document], generation: generation, maxAge: maxAge, request: request)
    }

    private func serveAnalytics(modelID: Substring, request: Request) -> Response {
        guard ModelID.isValid(modelID) else {
            return errorResponse(.badRequest, "malformed model id", request: request)
        }
        guard let generation = store.generation else { return noSnapshot(request: request) }
        // An unknown model gets empty analytics, as dashboards built for the nof0 API expect.
        let prepared = generation.analyticsByModel[String(modelID)] ?? generation.emptyAnalytics
        return send(
            prepared,
            generation: generation,
            maxAge: SnapshotDocument.analytics.maxAgeSeconds,
            request: request
        )
    }

    private func filtered(
        _ document: SnapshotDocument,
        generation: LoadedGeneration,
        query: Parameters
    )
        throws -> PreparedDocument?
    {
        switch document {
        case .accountTotals:
            guard let raw = query["lastHourlyMarker"] else { break }
            let asked = try QueryError.integer(raw, name: "lastHourlyMarker", range: QueryBounds.lastHourlyMarker)
            guard let totals = generation.accountTotals else { return nil }
            let marker = generation.normalisedMarker(asked)
            return try generation.queryCache.document(for: "at:\(marker)") {
                try PreparedDocument(encoding: totals.rows(after: marker), encoder: SnapshotCoding.makeEncoder())
            }
        case .trades:
            guard let raw = query["limit"] else { break }
            let limit = try QueryError.integer(raw, name: "limit", range: QueryBounds.limit)
            guard let trades = generation.trades else { return nil }
            if limit >= trades.trades.count { break }
            return try generation.queryCache.document(for: "tr:\(limit)") {
                var limited = trades
                limited.trades = Array(trades.trades.prefix(limit))
                return try PreparedDocument(encoding: limited, encoder: SnapshotCoding.makeEncoder())
            }
        case .positions:
            guard let raw = query["limit"] else { break }
            let limit = try QueryError.integer(raw, name: "limit", range: QueryBounds.limit)
            guard let positions = generation.positions else { return nil }
            if limit >= positions.accountTotals.count { break }
            return try generation.queryCache.document(for: "po:\(limit)") {
                var limited = positions
                limited.accountTotals = Array(positions.accountTotals.prefix(limit))
                return try PreparedDocument(encoding: limited, encoder: SnapshotCoding.makeEncoder())
            }
        default:
            break
        }
        return generation.documents[document]
    }

    private func send(
        _ prepared: PreparedDocument,
        generation: LoadedGeneration,
        maxAge: Int,
        request: Request
    )
        -> Response
    {
        let (status, headers, body) = documentParts(
            prepared,
            generation: generation,
            maxAge: maxAge,
            request: DocumentRequest(request.headers)
        )
        return Response(
            status: status,
            headers: headers,
            body: body.map { ResponseBody(byteBuffer: $0.joined()) } ?? .init()
        )
    }

    /// Status, headers and body of a prepared document for a request's headers: the one place that decides
    /// compression, CORS, the ETag's 304 and the body with its `serverTime`, for both the router and the
    /// prepared-document fast path (`PreparedDocumentHandler`). A 304 has no body.
    func documentParts(
        _ prepared: PreparedDocument,
        generation: LoadedGeneration,
        maxAge: Int,
        request: DocumentRequest,
        serverTime: Int64? = nil
    ) -> (HTTPResponse.Status, HTTPFields, PreparedDocument.Parts?) {
        let wantsGzip = prepared.isCompressible && Self.acceptsGzip(request.acceptEncoding)
        var headers = generation.headers.fields(
            maxAge: maxAge,
            isGzip: wantsGzip,
            isCompressible: prepared.isCompressible
        )
        if !cors.allowsAny { cors.apply(to: &headers, origin: request.origin) }
        if let match = request.ifNoneMatch, Self.matches(match, generation: generation.id) {
            headers[.contentEncoding] = nil
            return (.notModified, headers, nil)
        }
        let body = prepared.parts(serverTime: serverTime ?? clock(), encoding: wantsGzip ? .gzip : .identity)
        return (.ok, headers, body)
    }

    /// The fast path's answer on the wire: `bytes` (status line, headers with `Date`, and the body when it is
    /// small), then — for a large body — `rest`'s shared part and trailer, written after them.
    struct WireAnswer: Sendable {
        let bytes: ByteBuffer
        let rest: PreparedDocument.Parts?
        /// How much of `rest`'s shared part is already in `bytes`.
        var sent = 0
    }

    /// The answer to a GET of a prepared document with no query — a snapshot document, a model's analytics or
    /// the rebalances of the current generation — as the router would give it, or nil when the request is
    /// anything else (another route, no generation yet, a document the generation lacks, a malformed model id):
    /// those go to the router, which answers them and their errors. Counts the request when it answers. An
    /// answer that is the same for every client in a millisecond (no `If-None-Match`; CORS `*` or no `Origin`)
    /// is built once per millisecond and encoding, and shared.
    func preparedAnswer(path: String, request: DocumentRequest) -> WireAnswer? {
        // Plain paths only: a query, an escape or anything unusual is the router's to interpret.
        guard path.hasPrefix("/api/"), path.utf8.allSatisfy(Self.isPlainPathByte), let generation = store.generation
        else { return nil }
        let name = path.dropFirst("/api/".count)
        let prepared: PreparedDocument
        let maxAge: Int
        let route: APIMetrics.Route
        if let document = SnapshotDocument(rawValue: String(name)) {
            guard let found = generation.documents[document] else { return nil }
            (prepared, maxAge, route) = (found, document.maxAgeSeconds, .document(document))
        } else if name.hasPrefix("analytics/") {
            let modelID = name.dropFirst("analytics/".count)
            guard ModelID.isValid(modelID) else { return nil }
            prepared = generation.analyticsByModel[String(modelID)] ?? generation.emptyAnalytics
            (maxAge, route) = (SnapshotDocument.analytics.maxAgeSeconds, .analyticsByModel)
        } else if name == "rebalances" {
            (prepared, maxAge, route) = (generation.rebalances, SnapshotDocument.leaderboard.maxAgeSeconds, .rebalances)
        } else if name == "prompt-versions" {
            (prepared, maxAge, route) = (
                generation.promptVersions, SnapshotDocument.analytics.maxAgeSeconds, .promptVersions
            )
        } else {
            return nil
        }
        metrics.record(route)
        metrics.fastPathAnswers.increment()
        let serverTime = clock()
        func build() -> WireAnswer {
            let (status, headers, body) = documentParts(
                prepared,
                generation: generation,
                maxAge: maxAge,
                request: request,
                serverTime: serverTime
            )
            return Self.wire(status: status, headers: headers, body: body, serverTime: serverTime)
        }
        guard request.ifNoneMatch == nil, cors.allowsAny || request.origin == nil else { return build() }
        let wantsGzip = prepared.isCompressible && Self.acceptsGzip(request.acceptEncoding)
        return prepared.shared(serverTime: serverTime, encoding: wantsGzip ? .gzip : .identity, build: build)
    }

    /// Bodies up to this size are copied behind the head into one buffer; larger ones are sent as they are.
    static let inlineBodyBytes = 16384

    /// A response as the router's HTTP/1 encoder writes it (a 304 without a length), with the `Date` of
    /// `serverTime`.
    static func wire(
        status: HTTPResponse.Status,
        headers: HTTPFields,
        body: PreparedDocument.Parts?,
        serverTime: Int64
    ) -> WireAnswer {
        let bodyBytes = body?.byteCount ?? 0
        let inline = bodyBytes <= inlineBodyBytes
        var buffer = ByteBufferAllocator().buffer(capacity: 320 + (inline ? bodyBytes : 64))
        buffer.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        for field in headers {
            buffer.writeString(field.name.rawName)
            buffer.writeStaticString(": ")
            buffer.writeString(field.value)
            buffer.writeStaticString("\r\n")
        }
        if status != .notModified {
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(bodyBytes))
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("Date: ")
        buffer.writeString(HTTPDate.format(Int(serverTime / 1000)))
        buffer.writeStaticString("\r\n\r\n")
        guard let body else { return WireAnswer(bytes: buffer, rest: nil) }
        guard inline else {
            // The head and the body's first bytes fill one segment: the head does not go out alone.
            buffer.writeImmutableBuffer(body.front)
            let sent = min(max(0, inlineBodyBytes - buffer.readableBytes), body.shared.readableBytes - 1)
            buffer.writeImmutableBuffer(body.shared.getSlice(at: body.shared.readerIndex, length: sent)!)
            return WireAnswer(bytes: buffer, rest: body, sent: sent)
        }
        body.copy(into: &buffer)
        return WireAnswer(bytes: buffer, rest: nil)
    }

    /// The request headers a prepared document's answer depends on (`documentParts`).
    struct DocumentRequest: Equatable {
        var acceptEncoding: String?
        var origin: String?
        var ifNoneMatch: String?

        init(acceptEncoding: String? = nil, origin: String? = nil, ifNoneMatch: String? = nil) {
            (self.acceptEncoding, self.origin, self.ifNoneMatch) = (acceptEncoding, origin, ifNoneMatch)
        }

        init(_ headers: HTTPFields) {
            self.init(
                acceptEncoding: headers[.acceptEncoding],
                origin: headers[.origin],
                ifNoneMatch: headers[.ifNoneMatch]
            )
        }
    }

    // MARK: Health and errors

    private func health(request: Request) -> Response {
        let now = clock()
        guard let generation = store.generation else {
            let body =
                #"{"status":"unavailable","generation":null,"snapshotAgeSeconds":null,"stale":false,"staleAfterSeconds":\#(staleAfterSeconds),"serverTime":\#(now)}"#
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.retryAfter] = "1"
            cors.apply(to: &headers, origin: request.headers[.origin])
            return Response(
                status: .serviceUnavailable,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        let age = max(0, Double(now) / 1000 - generation.publishedAt.timeIntervalSince1970)
        let body =
            #"{"status":"ok","generation":"\#(generation.id)","source":"\#(generation.source.rawValue)","snapshotAgeSeconds":\#((age * 1000).rounded() / 1000),"stale":\#(age > staleAfterSeconds),"staleAfterSeconds":\#(staleAfterSeconds),"serverTime":\#(now)}"#
        return plain(ByteBuffer(string: body), contentType: "application/json", request: request, noStore: true)
    }

    private func plain(_ body: ByteBuffer, contentType: String, request: Request, noStore: Bool = true) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        if noStore { headers[.cacheControl] = "no-store" }
        cors.apply(to: &headers, origin: request.headers[.origin])
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    private func noSnapshot(request: Request) -> Response {
        errorResponse(.serviceUnavailable, "no snapshot has been published yet", request: request, retryAfter: true)
    }

    /// The one place where failures become HTTP responses: a JSON error with `serverTime`.
    func errorResponse(
        _ status: HTTPResponse.Status,
        _ message: String,
        request: Request,
        retryAfter: Bool = false
    )
        -> Response
    {
        metrics.recordError(status)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        if retryAfter { headers[.retryAfter] = "5" }
        cors.apply(to: &headers, origin: request.headers[.origin])
        let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let body = #"{"error":{"status":\#(status.code),"message":"\#(escaped)"},"serverTime":\#(clock())}"#
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    // MARK: Header parsing

    static func isPlainPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"),
            UInt8(ascii: "."):
            true
        default: false
        }
    }

    /// Whether `Accept-Encoding` allows gzip: the first `gzip` or `*` coding decides, refused only by a zero
    /// q-value (`q=0`, `q=0.0`, …). Read byte by byte: it runs on every request of the hot path.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard var header else { return false }
        return header.withUTF8 { bytes in
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                if let verdict = gzipVerdict(UnsafeBufferPointer(rebasing: bytes[start..<end])) { return verdict }
                start = end + 1
            }
            return false
        }
    }

    /// One coding of `Accept-Encoding` (`gzip;q=0.5`): nil when it is not `gzip` or `*`, else whether it
    /// is accepted.
    private static func gzipVerdict(_ part: UnsafeBufferPointer<UInt8>) -> Bool? {
        var pieces: [Range<Int>] = []
        var start = 0
        for index in 0...part.count where index == part.count || part[index] == UInt8(ascii: ";") {
            pieces.append(trimmed(part, start..<index))
            start = index + 1
        }
        guard let coding = pieces.first,
            equalsIgnoringCase(part, coding, "gzip") || equalsIgnoringCase(part, coding, "*")
        else { return nil }
        let refused = pieces.dropFirst().contains { piece in
            zeroQualities.contains { equalsIgnoringCase(part, piece, $0) }
        }
        return !refused
    }

    private static let zeroQualities: [StaticString] = ["q=0", "q=0.0", "q=0.00", "q=0.000"]

    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while lower < upper, isSpace(bytes[lower]) { lower += 1 }
        while upper > lower, isSpace(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    private static func equalsIgnoringCase(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        _ text: StaticString
    ) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        for offset in 0..<range.count {
            var byte = bytes[range.lowerBound + offset]
            if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { byte += 32 }
            if byte != expected[offset] { return false }
        }
        return true
    }

    static func matches(_ ifNoneMatch: String, generation: String) -> Bool {
        Self.ifNoneMatch(ifNoneMatch, matchesAnyOf: ["\"\(generation)\"", "\"\(generation)-gz\""])
    }

    /// Whether an `If-None-Match` list names one of `tags` (quoted), `*`, or one of them weak (`W/`).
    static func ifNoneMatch(_ header: String, matchesAnyOf tags: [String]) -> Bool {
        header.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == "*" || tags.contains(tag)
        }
    }
}

struct QueryError: Error {
    let message: String

    static func integer(_ raw: Substring, name: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(raw), range.contains(value) else {
            throw QueryError(message: "\(name) must be an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }
}

/// The bounds of the query parameters: what the server accepts and what the OpenAPI document declares.
enum QueryBounds {
    static let limit = 1...1_000_000
    static let lastHourlyMarker = -1...Int(Int32.max)
}

extension SnapshotDocument {
    /// How long clients and proxies may cache each document: prices change fast, analytics slowly.
    var maxAgeSeconds: Int {
        switch self {
        case .cryptoPrices: 5
        case .positions, .accountTotals: 10
        case .trades, .leaderboard, .sinceInceptionValues, .conversations: 30
        case .analytics: 120
        }
    }
}
