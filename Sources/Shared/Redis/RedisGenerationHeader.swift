import Foundation

/// `api:generation` in Redis: which snapshot generation the `api:{document}` keys hold, when it was published
/// (Unix ms) and which documents it has. Written by the engine in the same MULTI/EXEC as the documents; the
/// control-api reads it, then every document and the header again in one MGET, and serves the set only when the
/// header is unchanged and no document is missing.
package struct RedisGenerationHeader: Sendable, Equatable, Codable {
    package var generation: Int
    package var publishedAt: Int64
    package var documents: [String]

    package init(generation: Int, publishedAt: Int64, documents: [String]) {
        self.generation = generation
        self.publishedAt = publishedAt
        self.documents = documents
    }

    enum CodingKeys: String, CodingKey {
        case generation
        case publishedAt = "published_at"
        case documents
    }

    package var encoded: String {
        (try? SortedJSONEncoder().encodeEscapingSlashes(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    package static func decode(_ data: Data) -> RedisGenerationHeader? {
        try? JSONDecoder().decode(RedisGenerationHeader.self, from: data)
    }

    /// The id the control-api gives a generation (and its ETag): the same whether read from Redis or from files.
    package var id: String { "g\(generation)" }
}
