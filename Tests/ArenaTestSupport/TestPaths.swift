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

    /// `../shared/fixtures/nof1-capture` beside the repository.
    public static var capture: URL {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/nof1-capture")
    }

    public static func makeScratch(_ name: String = "arena") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
