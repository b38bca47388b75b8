import ArenaCore
import Crypto
import Foundation
import Shared

/// Answers already paid for, by the sha256 of what was asked (provider, model, parameters, messages). A hit costs
/// nothing: retries after a crash, replays and backtests re-run for free. Entries expire after `ttl` (wall time)
/// and the least recently used go first past `max_entries`. When a path is set, every new entry is appended to
/// a JSON Lines file and the file is read back (and compacted) at start, so the cache survives restarts.
package actor DigestCache {
    package struct Entry: Sendable, Codable, Equatable {
        package var key: String
        package var text: String
        package var modelName: String
        package var promptTokens: Int
        package var completionTokens: Int
        /// Wall-clock milliseconds when the answer was stored.
        package var storedAt: Int64

        package enum CodingKeys: String, CodingKey {
            case key, text
            case modelName = "model_name"
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case storedAt = "stored_at"
        }
    }

    package struct Statistics: Sendable, Equatable {
        package var hits = 0
        package var misses = 0
        package var evictions = 0
    }

    package let ttl: Int64
    package let maxEntries: Int
    private let path: String?
    private let clock: any ArenaClock
    private var entries: [String: Entry] = [:]
    private var lastUse: [String: UInt64] = [:]
    private var useCounter: UInt64 = 0
    private var appender: FileHandle?
    package private(set) var statistics = Statistics()

    package init(configuration: LLMConfiguration.Cache, clock: any ArenaClock) throws {
        ttl = configuration.ttl.milliseconds
        maxEntries = configuration.maxEntries
        path = configuration.path
        self.clock = clock
        guard let path else { return }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let loaded = try Self.load(path: path, now: clock.now(), ttl: ttl, maxEntries: maxEntries)
        entries = Dictionary(uniqueKeysWithValues: loaded.map { ($0.key, $0) })
        lastUse = Dictionary(uniqueKeysWithValues: loaded.enumerated().map { ($1.key, UInt64($0 + 1)) })
        useCounter = UInt64(loaded.count)
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        appender = FileHandle(forWritingAtPath: path)
        _ = try appender?.seekToEnd()
    }

    /// Reads the file: the newest copy of each key, unexpired, the `maxEntries` most recent, oldest first.
    /// A file holding more lines than that (old copies, expired or torn lines) is rewritten compacted.
    private static func load(path: String, now: Int64, ttl: Int64, maxEntries: Int) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        var order: [String] = []
        var latest: [String: Entry] = [:]
        var lines = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            lines += 1
            // A torn last line or a foreign one is skipped: the cache is an optimisation, never a source of truth.
            guard let entry = try? decoder.decode(Entry.self, from: Data(line)), now - entry.storedAt < ttl else {
                continue
            }
            if latest[entry.key] == nil { order.append(entry.key) }
            latest[entry.key] = entry
        }
        let kept = order.compactMap { latest[$0] }.sorted { $0.storedAt < $1.storedAt }.suffix(maxEntries)
        if lines > kept.count {
            let encoder = JSONEncoder()
            var compacted = Data()
            for entry in kept {
                compacted.append(try encoder.encode(entry))
                compacted.append(UInt8(ascii: "\n"))
            }
            try AtomicFile.replace(path, with: compacted)
        }
        return Array(kept)
    }

    deinit {
        try? appender?.close()
    }

    package var count: Int { entries.count }

    /// The stored answer for `key`, if there is one and it has not expired.
    package func lookup(_ key: String) -> Entry? {
        guard let entry = entries[key] else {
            statistics.misses += 1
            return nil
        }
        if clock.now() - entry.storedAt >= ttl {
            entries[key] = nil
            lastUse[key] = nil
            statistics.misses += 1
            return nil
        }
        useCounter += 1
        lastUse[key] = useCounter
        statistics.hits += 1
        return entry
    }

    /// Stores an answer (and appends it to the file when persisted).
    package func store(key: String, response: LLMResponse) throws {
        let entry = Entry(
            key: key,
            text: response.text,
            modelName: response.modelName,
            promptTokens: response.promptTokens,
            completionTokens: response.completionTokens,
            storedAt: clock.now()
        )
        entries[key] = entry
        useCounter += 1
        lastUse[key] = useCounter
        while entries.count > maxEntries { evictOldest() }
        if let appender {
            var line = try JSONEncoder().encode(entry)
            line.append(UInt8(ascii: "\n"))
            try appender.write(contentsOf: line)
        }
    }

    private func evictOldest() {
        guard let oldest = lastUse.min(by: { $0.value < $1.value })?.key else { return }
        entries[oldest] = nil
        lastUse[oldest] = nil
        statistics.evictions += 1
    }

    /// The cache key: sha256 over the provider, the model and every parameter that changes the answer, and the
    /// messages, each length-prefixed so no two different requests can share bytes.
    package static func key(
        provider: String,
        model: LLMConfiguration.Model,
        responseFormat: String,
        messages: [ChatMessage]
    )
        -> String
    {
        var hasher = SHA256()
        func field(_ text: String) {
            let bytes = Array(text.utf8)
            withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        field(provider)
        field(model.modelName)
        field(String(model.temperature))
        field(String(model.maxCompletionTokens))
        field(model.topP.map { String($0) } ?? "-")
        field(responseFormat)
        for message in messages {
            field(message.role)
            field(message.content)
        }
        return Hex.encode(hasher.finalize())
    }
}
