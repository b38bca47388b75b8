import Foundation

/// Publishes snapshot generations: `<root>/generations/<n>/` is written and fsynced in full, then the symlink
/// `<root>/current` is swapped to it atomically. Readers therefore see every file of one generation or of the
/// next, never a mix and never a torn file. Old generations are pruned after a grace period, so a reader that
/// resolved a generation just before a swap can still finish reading it.
package struct SnapshotPublisher: Sendable {
    package let root: String
    package let keepGenerations: Int
    package let gracePeriod: Duration

    package init(root: String, keepGenerations: Int = 5, gracePeriod: Duration = .seconds(60)) {
        self.root = root
        self.keepGenerations = max(1, keepGenerations)
        self.gracePeriod = gracePeriod
    }

    package var generationsDirectory: String { (root as NSString).appendingPathComponent("generations") }
    package var currentLink: String { (root as NSString).appendingPathComponent("current") }

    /// Writes `files` (file name → bytes) as a new generation, makes it current, and returns its number.
    @discardableResult
    package func publish(_ files: [String: Data], now: Date = Date()) throws -> Int {
        for name in files.keys where !Self.isSafeFileName(name) {
            throw SnapshotError.invalidFileName(name)
        }
        try AtomicFile.makeDirectory(root)
        try AtomicFile.makeDirectory(generationsDirectory)
        let number = (existingGenerations().max() ?? 0) + 1
        let staging = (generationsDirectory as NSString).appendingPathComponent(".staging-\(number)")
        try? FileManager.default.removeItem(atPath: staging)
        try AtomicFile.makeDirectory(staging)
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            try AtomicFile.writeAndSync(data, to: (staging as NSString).appendingPathComponent(name))
        }
        try AtomicFile.syncDirectory(staging)
        let final = (generationsDirectory as NSString).appendingPathComponent(String(number))
        try AtomicFile.rename(staging, to: final)
        try AtomicFile.syncDirectory(generationsDirectory)
        try AtomicFile.swapSymlink(currentLink, to: "generations/\(number)")
        prune(current: number, now: now)
        return number
    }

    /// Generation numbers present on disk.
    package func existingGenerations() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: generationsDirectory)) ?? []
        return names.compactMap { Int($0) }
    }

    /// Removes generations beyond the newest `keepGenerations` once they are older than the grace period.
    package func prune(current: Int, now: Date = Date()) {
        let manager = FileManager.default
        let candidates = existingGenerations().sorted(by: >).dropFirst(keepGenerations)
        for number in candidates where number != current {
            let path = (generationsDirectory as NSString).appendingPathComponent(String(number))
            let modified = (try? manager.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? now
            if now.timeIntervalSince(modified) >= gracePeriod.secondsValue {
                try? manager.removeItem(atPath: path)
            }
        }
    }

    /// File names inside a generation: a plain name, no path separators, no hidden files.
    package static func isSafeFileName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.contains("/") && name.utf8.count <= 255
    }
}

package enum SnapshotError: Error, CustomStringConvertible, Sendable {
    case invalidFileName(String)
    case noGeneration(String)

    package var description: String {
        switch self {
        case .invalidFileName(let name): "invalid snapshot file name '\(name)'"
        case .noGeneration(let root): "no snapshot generation in \(root)"
        }
    }
}
