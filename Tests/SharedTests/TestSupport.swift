import ArenaTestSupport
import Foundation

/// A copy of the shipped configuration (etc/, prompts/, schemas/) in a scratch directory, with absolute template
/// paths, that a test may break on purpose.
struct ConfigFixture {
    let root: URL

    var etc: URL { root.appendingPathComponent("etc") }
    var arenaPath: String { etc.appendingPathComponent("arena.yaml").path }

    init() throws {
        root = try TestPaths.makeScratch("config")
        let manager = FileManager.default
        for folder in ["etc", "prompts", "schemas"] {
            try manager.copyItem(
                at: TestPaths.packageRoot.appendingPathComponent(folder),
                to: root.appendingPathComponent(folder)
            )
        }
    }

    func read(_ file: String) throws -> String {
        try String(contentsOf: etc.appendingPathComponent(file), encoding: .utf8)
    }

    func write(_ file: String, _ text: String) throws {
        try text.write(to: etc.appendingPathComponent(file), atomically: true, encoding: .utf8)
    }

    func edit(_ file: String, _ change: (String) -> String) throws {
        let before = try read(file)
        let after = change(before)
        guard before != after else { throw FixtureError.editChangedNothing(file) }
        try write(file, after)
    }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

enum FixtureError: Error {
    /// The text a test meant to replace was not found: the test is out of date with the shipped files.
    case editChangedNothing(String)
}
