import Foundation
import HTTPTypes
import Shared

/// A snapshot generation decoded, validated and prepared for serving. Built once when the generation appears;
/// requests only read it.
final class LoadedGeneration: Sendable {
    /// Where the generation was read from.
    enum Source: String, Sendable {
        case files, redis
    }

    let id: String
    let source: Source
    let publishedAt: Date
    /// Prepared bodies by document; absent when the generation has no such file.
    let documents: [SnapshotDocument: PreparedDocument]
    /// Prepared `analytics/{modelId}` bodies by model id.
    let analyticsByModel: [String: PreparedDocument]
    /// Decoded documents kept for the queries that filter them.
    let accountTotals: AccountTotalsDocument?
    let trades: TradesDocument?
    let positions: PositionsDocument?
    /// Filtered responses, built on first use.
    let queryCache: QueryCache
    /// Response headers of this generation, built once: ETag, Cache-Control, Vary, Content-Encoding and (for a
    /// `*` CORS policy) the allow-origin header never change within a generation.
    let headers: ResponseHeaderTable
    /// `analytics/{modelId}` for a model the generation does not know: empty analytics.
    let emptyAnalytics: PreparedDocument
    /// `rebalances` (the engine's capital moves; an empty list when the generation has none).
    let rebalances: PreparedDocument
    /// `prompt-versions` (results by prompt version; empty lists when the generation has none).
    let promptVersions: PreparedDocument
    /// The distinct hourly markers of `accountTotals`, ascending: `?lastHourlyMarker=` is normalised to one of
    /// them before the cache is asked, so the cache holds at most one body per marker.
    let hourlyMarkers: [Int]

    init(
        id: String,
        publishedAt: Date,
        documents: [SnapshotDocument: PreparedDocument],
        analyticsByModel: [String: PreparedDocument],
        accountTotals: AccountTotalsDocument?,
        trades: TradesDocument?,
        positions: PositionsDocument?,
        corsAllowsAny: Bool,
        source: Source = .files,
        rebalances: PreparedDocument? = nil,
        promptVersions: PreparedDocument? = nil
    ) throws {
        self.id = id
        self.source = source
        self.publishedAt = publishedAt
        self.documents = documents
        self.analyticsByModel = analyticsByModel
        self.accountTotals = accountTotals
        self.trades = trades
        self.positions = positions
        self.queryCache = QueryCache(limit: 256)
        self.headers = ResponseHeaderTable(generationID: id, corsAllowsAny: corsAllowsAny)
        self.emptyAnalytics = try PreparedDocument(json: Array(#"{"analytics":[]}"#.utf8))
        self.rebalances = try rebalances ?? PreparedDocument(json: Array(#"{"rebalances":[]}"#.utf8))
        self.promptVersions =
            try promptVersions ?? PreparedDocument(json: Array(#"{"acrossTraders":[],"promptVersions":[]}"#.utf8))
        self.hourlyMarkers = Set(accountTotals?.accountTotals.map(\.sinceInceptionHourlyMarker) ?? []).sorted()
    }

    /// The marker that selects the same rows as `marker`: the largest known marker at or below it, or one below
    /// the smallest (every row).
    func normalisedMarker(_ marker: Int) -> Int {
        guard let first = hourlyMarkers.first else { return -1 }
        guard marker >= first else { return first - 1 }
        var low = 0
        var high = hourlyMarkers.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if hourlyMarkers[middle] <= marker { low = middle } else { high = middle - 1 }
        }
        return hourlyMarkers[low]
    }

    /// The largest document file read from a generation (the nof1 trades document is 270 KB).
    static let maxFileBytes = 64 << 20

    /// Reads every document of `generation`. A file that fails to decode fails the whole load, so a broken
    /// generation is never served in part; so does one that is not a regular file of at most `maxFileBytes`
    /// (a FIFO, a device, a symlink, a huge file), which is never read.
    static func load(
        _ generation: SnapshotReader.Generation,
        corsAllowsAny: Bool = true,
        maxFileBytes: Int = maxFileBytes
    ) throws -> LoadedGeneration {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: generation.directory)) ?? []
        return try load(
            id: generation.id,
            publishedAt: generation.publishedAt,
            names: names,
            read: { name in
                let path = (generation.directory as NSString).appendingPathComponent(name)
                do {
                    return try BoundedRead.regularFile(path, limit: maxFileBytes)
                } catch {
                    throw GenerationLoadError.unreadable(file: name, reason: "\(error)")
                }
            },
            corsAllowsAny: corsAllowsAny,
            source: .files
        )
    }

    /// The same from files held in memory (a generation read from Redis).
    static func load(
        id: String,
        publishedAt: Date,
        files: [String: Data],
        corsAllowsAny: Bool = true,
        source: Source = .redis
    ) throws -> LoadedGeneration {
        try load(
            id: id,
            publishedAt: publishedAt,
            names: Array(files.keys),
            read: { files[$0] },
            corsAllowsAny: corsAllowsAny,
            source: source
        )
    }

    private static func load(
        id: String,
        publishedAt: Date,
        names: [String],
        read readFile: (String) throws -> Data?,
        corsAllowsAny: Bool,
        source: Source
    ) throws -> LoadedGeneration {
        let decoder = SnapshotCoding.makeDecoder()
        let encoder = SnapshotCoding.makeEncoder()
        var documents: [SnapshotDocument: PreparedDocument] = [:]
        var accountTotals: AccountTotalsDocument?
        var trades: TradesDocument?
        var positions: PositionsDocument?
        var analytics: AnalyticsDocument?

        func read<T: Codable & Sendable>(_ document: SnapshotDocument, as type: T.Type) throws -> T? {
            guard let data = try readFile(document.fileName) else { return nil }
            do {
                return try decoder.decode(T.self, from: data)
            } catch {
                throw GenerationLoadError.malformed(file: document.fileName, reason: Self.describe(error))
            }
        }

        func prepare<T: Codable & Sendable>(
            _ document: SnapshotDocument,
            _ type: T.Type,
            strip: (inout T) -> Void
        )
            throws -> T?
        {
            guard var value = try read(document, as: type) else { return nil }
            strip(&value)
            documents[document] = try PreparedDocument(encoding: value, encoder: encoder)
            return value
        }

        _ = try prepare(.cryptoPrices, CryptoPricesDocument.self) { $0.serverTime = nil }
        accountTotals = try prepare(.accountTotals, AccountTotalsDocument.self) { $0.serverTime = nil }
        trades = try prepare(.trades, TradesDocument.self) { $0.serverTime = nil }
        positions = try prepare(.positions, PositionsDocument.self) { $0.serverTime = nil }
        analytics = try prepare(.analytics, AnalyticsDocument.self) { $0.serverTime = nil }
        _ = try prepare(.leaderboard, LeaderboardDocument.self) { $0.serverTime = nil }
        _ = try prepare(.sinceInceptionValues, SinceInceptionDocument.self) { $0.serverTime = nil }
        _ = try prepare(.conversations, ConversationsDocument.self) { $0.serverTime = nil }

        var byModel: [String: PreparedDocument] = [:]
        if let analytics {
            for entry in analytics.analytics where byModel[entry.modelID] == nil {
                let entries = analytics.analytics.filter { $0.modelID == entry.modelID }
                byModel[entry.modelID] = try PreparedDocument(
                    encoding: AnalyticsDocument(analytics: entries),
                    encoder: encoder
                )
            }
        }
        // A per-model file, where the generation has one, is what that route serves.
        for name in names.sorted() where name.hasPrefix("analytics-") && name.hasSuffix(".json") {
            let modelID = String(name.dropFirst("analytics-".count).dropLast(".json".count))
            guard ModelID.isValid(modelID) else { continue }
            guard let data = try readFile(name) else { continue }
            do {
                var document = try decoder.decode(AnalyticsDocument.self, from: data)
                document.serverTime = nil
                byModel[modelID] = try PreparedDocument(encoding: document, encoder: encoder)
            } catch {
                throw GenerationLoadError.malformed(file: name, reason: Self.describe(error))
            }
        }
        /// A document of ours (not nof1's), decoded and re-encoded when the generation has it.
        func ours<T: Codable & Sendable>(_ fileName: String, as type: T.Type) throws -> PreparedDocument? {
            guard let data = try readFile(fileName) else { return nil }
            do {
                return try PreparedDocument(encoding: try decoder.decode(T.self, from: data), encoder: encoder)
            } catch {
                throw GenerationLoadError.malformed(file: fileName, reason: Self.describe(error))
            }
        }
        let rebalances = try ours(RebalancesDocument.fileName, as: RebalancesDocument.self)
        let promptVersions = try ours(PromptVersionsDocument.fileName, as: PromptVersionsDocument.self)
        return try LoadedGeneration(
            id: id,
            publishedAt: publishedAt,
            documents: documents,
            analyticsByModel: byModel,
            accountTotals: accountTotals,
            trades: trades,
            positions: positions,
            corsAllowsAny: corsAllowsAny,
            source: source,
            rebalances: rebalances,
            promptVersions: promptVersions
        )
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            "missing key '\(key.stringValue)' at \(path(context))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(path(context)): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            "invalid JSON at \(path(context)): \(context.debugDescription)"
        default:
            String(describing: error)
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "top level" : path
    }
}

enum GenerationLoadError: Error, CustomStringConvertible {
    case malformed(file: String, reason: String)
    /// Not a regular file within the size limit: refused without being read.
    case unreadable(file: String, reason: String)

    var description: String {
        switch self {
        case .malformed(let file, let reason): "\(file): \(reason)"
        case .unreadable(let file, let reason): "\(file): not read: \(reason)"
        }
    }
}

/// Model ids in paths: `[A-Za-z0-9._-]{1,128}`, which is also what trader ids allow.
enum ModelID {
    static func isValid(_ id: some StringProtocol) -> Bool {
        TraderConfiguration.isValidID(String(id))
    }
}

/// The headers of a document response for each cache lifetime and encoding, built once per generation.
struct ResponseHeaderTable: Sendable {
    struct Key: Hashable, Sendable {
        let maxAge: Int
        let isGzip: Bool
        let isCompressible: Bool
    }

    let identityETag: String
    let gzipETag: String
    private let table: [Key: HTTPFields]

    init(generationID: String, corsAllowsAny: Bool) {
        identityETag = "\"\(generationID)\""
        gzipETag = "\"\(generationID)-gz\""
        var table: [Key: HTTPFields] = [:]
        let lifetimes = Set(SnapshotDocument.allCases.map(\.maxAgeSeconds))
        for maxAge in lifetimes {
            for (isGzip, isCompressible) in [(false, false), (false, true), (true, true)] {
                var fields = HTTPFields()
                fields[.contentType] = "application/json"
                fields[.eTag] = isGzip ? "\"\(generationID)-gz\"" : "\"\(generationID)\""
                fields[.cacheControl] = "public, max-age=\(maxAge)"
                if isCompressible { fields[.vary] = "Accept-Encoding" }
                if isGzip { fields[.contentEncoding] = "gzip" }
                if corsAllowsAny { fields[.accessControlAllowOrigin] = "*" }
                table[Key(maxAge: maxAge, isGzip: isGzip, isCompressible: isCompressible)] = fields
            }
        }
        self.table = table
    }

    func fields(maxAge: Int, isGzip: Bool, isCompressible: Bool) -> HTTPFields {
        table[Key(maxAge: maxAge, isGzip: isGzip, isCompressible: isCompressible)] ?? HTTPFields()
    }
}
