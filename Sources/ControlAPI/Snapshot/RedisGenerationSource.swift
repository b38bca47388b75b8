import Foundation
import Logging
import Shared

/// The control-api's read-through: the generation the engine last wrote to Redis (`api:generation` and
/// `api:{document}`), read on Redis's own thread. Nothing is ever written. Any failure (Redis down, a key
/// expired, the generation changing between reads) returns nil and the files are served instead.
final class RedisGenerationSource: Sendable {
    let client: RedisClient
    let prefix: String

    init(address: String, password: String?, prefix: String) throws {
        let connection = try RedisConnection(address: address, password: password, timeout: .milliseconds(500))
        self.client = RedisClient(connection: connection, label: "arena.redis.api")
        self.prefix = prefix
    }

    /// The header of what Redis holds, or nil when it holds nothing fresh.
    func header() async throws -> RedisGenerationHeader? {
        guard let data = try await client.command(["GET", "\(prefix)api:generation"]).data else { return nil }
        return RedisGenerationHeader.decode(data)
    }

    /// Every document of `header`'s generation, read with the header in one MGET; nil when the generation moved
    /// on meanwhile or a document is missing.
    func files(of header: RedisGenerationHeader) async throws -> [String: Data]? {
        let keys = ["\(prefix)api:generation"] + header.documents.map { "\(prefix)api:\($0)" }
        let reply = try await client.command(["MGET"] + keys)
        guard case .array(let values) = reply, values.count == keys.count,
            let current = values[0].data.flatMap(RedisGenerationHeader.decode), current == header
        else { return nil }
        var files: [String: Data] = [:]
        for (name, value) in zip(header.documents, values.dropFirst()) {
            guard let data = value.data else { return nil }
            files[name + ".json"] = data
        }
        return files
    }
}
