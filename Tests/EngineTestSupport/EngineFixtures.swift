import ArenaTestSupport
import Foundation
import Logging
import Shared

/// The configurations and values the engine's tests start from.
package enum EngineFixtures {
    /// 2025-07-15T17:20Z, inside the bundled candles: the replay clock's start in the manager tests.
    package static let start: Int64 = 1_752_600_000_000

    /// A copy of the shipped `etc/` in `scratch/etc` whose `manager.yaml` is `edit` of the shipped one; the copy's
    /// `arena.yaml` (for `configuration(scratch:path:)`).
    package static func shippedCopy(in scratch: URL, manager edit: (String) throws -> String) throws -> URL {
        let etc = scratch.appendingPathComponent("etc")
        try FileManager.default.copyItem(at: TestPaths.shipped, to: etc)
        let manager = etc.appendingPathComponent("manager.yaml")
        try edit(try String(contentsOf: manager, encoding: .utf8)).write(to: manager, atomically: true, encoding: .utf8)
        return etc.appendingPathComponent("arena.yaml")
    }

    /// A configuration (the shipped `etc/arena.yaml` unless `path` says otherwise) with its runtime paths in
    /// `scratch` and `environment` on top; relative paths resolve from the package root, so no test changes the
    /// process's current directory.
    package static func configuration(
        scratch: URL,
        path: URL = TestPaths.shipped.appendingPathComponent("arena.yaml"),
        environment: [String: String] = [:]
    ) throws -> ArenaConfiguration {
        try ConfigLoader(
            environment: TestPaths.scratchRuntime(scratch).merging(environment) { $1 },
            baseDirectory: TestPaths.packageRoot.path
        ).load(path: path.path)
    }

    /// A logger that only speaks at `level` and above (critical by default: the tests read the journal instead).
    package static func quietLogger(_ level: Logger.Level = .critical) -> Logger {
        var logger = Logger(label: "test")
        logger.logLevel = level
        return logger
    }
}
