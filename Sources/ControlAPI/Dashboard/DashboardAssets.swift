import HTTPTypes
import Hummingbird
import NIOCore

/// The browser dashboard (`/` and `/dashboard/…`): a page, its script, style and icon, embedded in the binary
/// and prepared once — identity and gzip bodies, an ETag from the content, headers that keep the page on its own
/// origin (a Content-Security-Policy allowing nothing from anywhere else). Served read-only like the documents:
/// GET and HEAD, `If-None-Match` gives 304, gzip for clients that accept it.
struct DashboardAssets: Sendable {
    struct Asset: Sendable {
        let contentType: String
        let identity: ByteBuffer
        let gzip: ByteBuffer?
        let etag: String
    }

    let assets: [String: Asset]

    /// Everything the page may load comes from its own origin; it may be framed by nobody.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    init() throws {
        let files: [(path: String, contentType: String, bytes: [UInt8])] = [
            ("/", "text/html; charset=utf-8", PackageResources.index_html),
            ("/dashboard/app.js", "text/javascript; charset=utf-8", PackageResources.app_js),
            ("/dashboard/app.css", "text/css; charset=utf-8", PackageResources.app_css),
            ("/dashboard/icon.svg", "image/svg+xml", PackageResources.icon_svg),
        ]
        var assets: [String: Asset] = [:]
        for file in files {
            let splice = try GzipSplice(tail: file.bytes, level: 9)
            var gzip = ByteBuffer(bytes: splice.head(prefix: []))
            gzip.writeBytes(splice.deflatedTail)
            gzip.writeBytes(splice.trailer(prefix: []))
            assets[file.path] = Asset(
                contentType: file.contentType,
                identity: ByteBuffer(bytes: file.bytes),
                gzip: gzip.readableBytes < file.bytes.count ? gzip : nil,
                etag: "\"d-\(Self.digest(file.bytes))\""
            )
        }
        self.assets = assets
    }

    /// Whether `path` is one of the dashboard's.
    func serves(_ path: String) -> Bool { assets[path] != nil }

    /// The answer to a GET of `path`, or nil when the path is not the dashboard's.
    func response(path: String, requestHeaders: HTTPFields, cors: CORSPolicy) -> Response? {
        guard let asset = assets[path] else { return nil }
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        // Revalidated on every load: a new binary's page replaces the old one at once, and a 304 costs nothing.
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = asset.etag
        headers[.vary] = "Accept-Encoding"
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        cors.apply(to: &headers, origin: requestHeaders[.origin])
        if let match = requestHeaders[.ifNoneMatch], APIResponder.ifNoneMatch(match, matchesAnyOf: [asset.etag]) {
            return Response(status: .notModified, headers: headers)
        }
        var body = asset.identity
        if let gzip = asset.gzip, APIResponder.acceptsGzip(requestHeaders[.acceptEncoding]) {
            headers[.contentEncoding] = "gzip"
            body = gzip
        }
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// FNV-1a, 64 bits, in hex: enough to tell two versions of a file apart (not a security measure).
    static func digest(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
