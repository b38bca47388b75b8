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

    /// The trader's journal files, oldest first, as (sequence, path).
    package func files(trader: String) -> [(sequence: Int, path: String)] {
        let directory = traderDirectory(trader)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasSuffix(".jsonl"), let sequence = Int(name.dropLast(".jsonl".count)) else { return nil }
            return (sequence, (directory as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// Every complete line of a trader's journal, oldest first. A last line without its newline (a torn write)
    /// is not returned.
    package func lines(trader: String) throws -> [Data] {
        var result: [Data] = []
        for file in files(trader: trader) {
            guard let data = FileManager.default.contents(atPath: file.path) else { continue }
            result += Self.completeLines(data)
        }
        return result
    }

    package static func completeLines(_ data: Data) -> [Data] {
        var lines: [Data] = []
        var start = data.startIndex
        for index in data.indices where data[index] == UInt8(ascii: "\n") {
            if index > start { lines.append(data[start..<index]) }
            start = data.index(after: index)
        }
        return lines
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
