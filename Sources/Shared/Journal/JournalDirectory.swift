import Foundation

/// The on-disk layout of a journal: `<root>/<trader_id>/<sequence>.jsonl`, one JSON object per line, files
/// numbered in the order they were written. Shared so the engine writes and tools read the same way.
package struct JournalDirectory: Sendable {
    package let root: String

    package init(root: String) {
        self.root = root
    }

    package func traderDirectory(_ trader: String) -> String {
        (root as NSString).appendingPathComponent(trader)
    }

    package func fileName(sequence: Int) -> String { String(format: "%08d.jsonl", sequence) }

    /// Traders with a journal directory.
    package func traders() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(
                    atPath: (root as NSString).appendingPathComponent(name),
                    isDirectory: &isDirectory
                )
                && isDirectory.boolValue
        }.sorted()
    }

    /// The trader's journal files, oldest first, as (sequence, path): `NNNNNNNN.jsonl`, or `NNNNNNNN.jsonl.gz`
    /// once a closed file has been compressed. When both exist (a crash between compressing and removing the
    /// original), the plain file is the one read: the compressed copy is complete only once renamed into place,
    /// and the plain one is removed only after that.
    package func files(trader: String) -> [(sequence: Int, path: String)] {
        let directory = traderDirectory(trader)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var chosen: [Int: String] = [:]
        for name in names {
            let stem: Substring
            if name.hasSuffix(".jsonl.gz") {
                stem = name.dropLast(".jsonl.gz".count)
            } else if name.hasSuffix(".jsonl") {
                stem = name.dropLast(".jsonl".count)
            } else {
                continue
            }
            guard let sequence = Int(stem) else { continue }
            if let existing = chosen[sequence], existing.hasSuffix(".jsonl") { continue }
            chosen[sequence] = name
        }
        return chosen.map { ($0.key, (directory as NSString).appendingPathComponent($0.value)) }.sorted { $0.0 < $1.0 }
    }

    /// Every complete line of a trader's journal, oldest first, across plain and compressed files. A last line
    /// without its newline (a torn write) is not returned.
    package func lines(trader: String) throws -> [Data] {
        var result: [Data] = []
        try forEachFile(trader: trader) { result += $0 }
        return result
    }

    /// The same lines a file at a time, oldest first: one file's lines are held at once, not the whole journal's.
    package func forEachFile(trader: String, _ body: ([Data]) throws -> Void) throws {
        for file in files(trader: trader) {
            guard let data = try Self.contents(file.path) else { continue }
            try body(Self.completeLines(data))
        }
    }

    /// A journal file's bytes, decompressed when it is gzipped; nil when it cannot be read.
    private static func contents(_ path: String) throws -> Data? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return path.hasSuffix(".gz") ? try Gzip.decompress(data) : data
    }

    /// The newest complete line of a trader's journal, reading only as many files (newest first) as it takes.
    package func lastLine(trader: String) throws -> Data? {
        for file in files(trader: trader).reversed() {
            guard let data = try Self.contents(file.path) else { continue }
            if let last = Self.completeLines(data).last { return last }
        }
        return nil
    }

    /// Compresses a closed file: `N.jsonl.gz` is written beside it, fsynced and renamed into place, then the
    /// plain file is removed. A crash at any point leaves one complete copy. Returns the compressed size.
    @discardableResult
    package static func compress(
        path: String,
        level: Int = ArenaConfiguration.Journal.defaultCompressionLevel
    ) throws -> Int {
        guard path.hasSuffix(".jsonl"), FileManager.default.fileExists(atPath: path) else { return 0 }
        let target = path + ".gz"
        let temporary = target + ".tmp"
        let compressed = try Gzip.compressFile(path, to: temporary, level: Int32(level))
        try AtomicFile.rename(temporary, to: target)
        let directory = (path as NSString).deletingLastPathComponent
        try AtomicFile.syncDirectory(directory)
        try FileManager.default.removeItem(atPath: path)
        try AtomicFile.syncDirectory(directory)
        return compressed
    }

    /// Removes plain files whose compressed copy is complete, and compressed temporaries left by a crash.
    package func tidy(trader: String) throws {
        let directory = traderDirectory(trader)
        let names = Set((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            if name.hasSuffix(".jsonl.gz.tmp") {
                try FileManager.default.removeItem(atPath: path)
            } else if name.hasSuffix(".jsonl"), names.contains(name + ".gz") {
                // The plain file is still complete (it was only to be removed): keep it, drop the copy, and the
                // writer compresses it again. Both copies hold the same records.
                try FileManager.default.removeItem(atPath: path + ".gz")
            }
        }
    }

    package static func completeLines(_ data: Data) -> [Data] {
        // Newlines found with memchr over the bytes (Data's per-byte subscript made this a tenth of a replay).
        var ranges: [Range<Int>] = []
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count, let found = memchr(base + start, 0x0A, buffer.count - start) {
                let index = base.distance(to: UnsafeRawPointer(found))
                if index > start { ranges.append(start..<index) }
                start = index + 1
            }
        }
        let offset = data.startIndex
        return ranges.map { data[(offset + $0.lowerBound)..<(offset + $0.upperBound)] }
    }

    /// Cuts a torn final line (no newline, or not a JSON object) from the trader's newest file.
    /// Returns the number of bytes removed (0 when the file was intact).
    package func repair(trader: String) throws -> Int {
        guard let last = files(trader: trader).last,
            let data = FileManager.default.contents(atPath: last.path), !data.isEmpty
        else { return 0 }
        var keep = data.count
        if data.last != UInt8(ascii: "\n") {
            keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        }
        // The last complete line must also parse; a line cut exactly at a newline inside a string cannot happen
        // (JSON escapes newlines), but a partially flushed buffer could end in one of our own separators.
        while keep > 0 {
            let prefix = data.prefix(keep)
            let lines = Self.completeLines(prefix)
            guard let line = lines.last else { break }
            if (try? JSONSerialization.jsonObject(with: line)) is [String: Any] { break }
            keep -= line.count + 1
        }
        let removed = data.count - keep
        if removed > 0 {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: last.path))
            try handle.truncate(atOffset: UInt64(keep))
            try handle.synchronize()
            try handle.close()
        }
        return removed
    }
}
