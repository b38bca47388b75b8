import Foundation

/// Paths and scratch directories shared by the tests.
public enum TestPaths {
    /// The package root (the directory holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    public static var shipped: URL { packageRoot.appendingPathComponent("etc") }

    /// `Tests/Fixtures`: reference data the tests read (see its PROVENANCE.md).
    public static var fixtures: URL { packageRoot.appendingPathComponent("Tests/Fixtures") }

    /// The nof1 Alpha Arena capture (`Tests/Fixtures/nof1-capture`).
    public static var capture: URL { fixtures.appendingPathComponent("nof1-capture") }

    /// A fixture file's bytes; a missing or unreadable fixture is an error naming the file, never an empty value.
    public static func fixture(_ relativePath: String) throws -> Data {
        let url = fixtures.appendingPathComponent(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw MissingFixture(path: url.path)
        }
        return data
    }

    public struct MissingFixture: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "fixture \(path) is missing or unreadable (see Tests/Fixtures/PROVENANCE.md)" }
    }

    /// The shipped configuration's runtime paths (manager state, paper ledger, snapshots, journal, LLM budget and
    /// cache) moved into `scratch`, as the environment overrides `etc/` reads.
    public static func scratchRuntime(_ scratch: URL) -> [String: String] {
        [
            "ARENA_STATE_PATH": scratch.appendingPathComponent("state/manager.json").path,
            "ARENA_PAPER_STATE": scratch.appendingPathComponent("state/paper.json").path,
            "ARENA_DATA_PATH": scratch.appendingPathComponent("mcp-data").path,
            "ARENA_JOURNAL_PATH": scratch.appendingPathComponent("journal").path,
            "ARENA_LLM_BUDGET_PATH": scratch.appendingPathComponent("state/llm-budget.json").path,
            "ARENA_LLM_CACHE_PATH": scratch.appendingPathComponent("state/llm-cache.jsonl").path,
        ]
    }

    public static func makeScratch(_ name: String = "arena") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A scratch directory on the repository's disk (under `.build/`), for tests that watch pages being written
    /// back: the temporary directory could be a tmpfs, whose pages are never written back. The caller removes it.
    public static func makeDiskScratch(_ name: String) throws -> URL {
        let url = packageRoot.appendingPathComponent(".build/test-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
