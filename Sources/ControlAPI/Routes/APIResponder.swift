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
    let clock: @Sendable () -> Int64

    init(
        store: GenerationStore,
        cors: CORSPolicy,
        metrics: APIMetrics,
        clock: @escaping @Sendable () -> Int64 = { UTCTime.nowMilliseconds() }
    ) {
        self.store = store
        self.cors = cors
        self.metrics = metrics
        self.openAPI = ByteBuffer(string: OpenAPIDocument.json)
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
                guard let generation = store.generation else { return noSnapshot(request: request) }
                return send(
                    generation.rebalances,
                    generation: generation,
                    maxAge: SnapshotDocument.leaderboard.maxAgeSeconds,
                    request: request
                )
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
        let wantsGzip = prepared.isCompressible && Self.acceptsGzip(request.headers[.acceptEncoding])
        var headers = generation.headers.fields(
            maxAge: maxAge,
            isGzip: wantsGzip,
            isCompressible: prepared.isCompressible
        )
        if !cors.allowsAny { cors.apply(to: &headers, origin: request.headers[.origin]) }
        if let match = request.headers[.ifNoneMatch], Self.matches(match, generation: generation.id) {
            headers[.contentEncoding] = nil
            return Response(status: .notModified, headers: headers)
        }
        let body = prepared.body(serverTime: clock(), encoding: wantsGzip ? .gzip : .identity)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    // MARK: Health and errors

    private func health(request: Request) -> Response {
        let now = clock()
        guard let generation = store.generation else {
            let body = #"{"status":"unavailable","generation":null,"snapshotAgeSeconds":null,"serverTime":\#(now)}"#
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
            #"{"status":"ok","generation":"\#(generation.id)","source":"\#(generation.source.rawValue)","snapshotAgeSeconds":\#((age * 1000).rounded() / 1000),"serverTime":\#(now)}"#
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

    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";")
            guard let coding = pieces.first?.trimmingCharacters(in: .whitespaces).lowercased(),
                coding == "gzip" || coding == "*"
            else { continue }
            let refused = pieces.dropFirst().contains { parameter in
                let trimmed = parameter.trimmingCharacters(in: .whitespaces).lowercased()
                return trimmed == "q=0" || trimmed == "q=0.0" || trimmed == "q=0.00" || trimmed == "q=0.000"
            }
            return !refused
        }
        return false
    }

    static func matches(_ ifNoneMatch: String, generation: String) -> Bool {
        for candidate in ifNoneMatch.split(separator: ",") {
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == "\"\(generation)\"" || tag == "\"\(generation)-gz\"" { return true }
        }
        return false
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
