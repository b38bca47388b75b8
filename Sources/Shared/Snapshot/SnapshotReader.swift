import Foundation

/// Finds the snapshot generation to serve. A directory published by `SnapshotPublisher` resolves through its
/// `current` link; a flat directory of documents (such as the nof1 capture) is served as one generation whose id
/// changes when any of its files change.
package struct SnapshotReader: Sendable {
    package struct Generation: Sendable, Equatable {
        /// Stable identity, used as the ETag.
        package let id: String
        /// The directory holding the generation's files; read every file from here, never through `current`.
        package let directory: String
        /// When the generation was published.
        package let publishedAt: Date
    }

    package let root: String

    package init(root: String) {
        self.root = root
    }

    /// The current generation, or nil when none has been published yet.
    package func resolve() -> Generation? {
        let link = (root as NSString).appendingPathComponent("current")
        if let target = AtomicFile.readSymlink(link) {
            let directory = target.hasPrefix("/") ? target : (root as NSString).appendingPathComponent(target)
            let name = (target as NSString).lastPathComponent
            let published = Self.modificationDate(directory) ?? Date(timeIntervalSince1970: 0)
            guard FileManager.default.fileExists(atPath: directory) else { return nil }
            return Generation(id: "g\(name)", directory: directory, publishedAt: published)
        }
        return flatGeneration()
    }

    private func flatGeneration() -> Generation? {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: root) else { return nil }
        let documents = names.filter { $0.hasSuffix(".json") }.sorted()
        let known = Set(SnapshotDocument.allCases.map(\.fileName))
        guard documents.contains(where: known.contains) else { return nil }
        var newest = Date(timeIntervalSince1970: 0)
        var signature: UInt64 = 1_469_598_103_934_665_603
        for name in documents {
            let path = (root as NSString).appendingPathComponent(name)
            let attributes = try? manager.attributesOfItem(atPath: path)
            let modified = attributes?[.modificationDate] as? Date ?? newest
            let size = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
            newest = max(newest, modified)
            for byte in name.utf8 { signature = (signature ^ UInt64(byte)) &* 1_099_511_628_211 }
            signature = (signature ^ size) &* 1_099_511_628_211
            signature =
                (signature ^ UInt64(bitPattern: Int64(modified.timeIntervalSince1970 * 1e6)))
                &* 1_099_511_628_211
        }
        return Generation(id: "f" + String(signature, radix: 36), directory: root, publishedAt: newest)
    }

    private static func modificationDate(_ path: String) -> Date? {
        try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
    }
}
