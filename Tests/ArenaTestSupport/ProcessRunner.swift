import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs the project's own binaries as child processes, as an operator would.
public enum ProcessRunner {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The directory holding the built products (`engine`, `control-api`), beside the test bundle.
    public static var binaryDirectory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("engine").path) { return url }
            url.deleteLastPathComponent()
        }
        return TestPaths.packageRoot.appendingPathComponent(".build/debug")
    }

    public static func binary(_ name: String) -> URL { binaryDirectory.appendingPathComponent(name) }

    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: URL? = nil
    ) throws -> Result {
        let process = try makeProcess(executable, arguments, environment: environment, directory: directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    public static func makeProcess(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: URL? = nil
    ) throws -> Process {
        let process = Process()
        // A path runs as is; a bare name is one of the project's built binaries.
        process.executableURL = executable.hasPrefix("/") ? URL(fileURLWithPath: executable) : binary(executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.currentDirectoryURL = directory ?? TestPaths.packageRoot
        return process
    }

    /// A TCP port free on loopback at the time of the call.
    public static func freePort() throws -> Int {
        let result = try runSystem(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
            ]
        )
        guard let port = Int(result.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RunnerError.noPort
        }
        return port
    }

    public static func runSystem(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a command that leaves a daemon behind (`pg_ctl start`) and returns its exit status. Foundation's
    /// `Process` learns of an exit through a descriptor the child inherits, which the daemon keeps open, so
    /// `waitUntilExit` would never return; this spawns with `posix_spawn`, stdio on /dev/null and every
    /// other descriptor closed, and waits on the pid.
    public static func runLeavingDaemon(_ executable: String, _ arguments: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(
                &actions,
                descriptor,
                "/dev/null",
                descriptor == 0 ? O_RDONLY : O_WRONLY,
                0
            )
        }
        // Nor may the daemon hold pipes other tests are reading to EOF.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw RunnerError.spawn(executable, spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw RunnerError.spawn(executable, errno) }
        }
        // WIFEXITED / WEXITSTATUS by hand (the C macros are not imported).
        return status & 0x7f == 0 ? (status >> 8) & 0xff : -1
    }

    public enum RunnerError: Error {
        case noPort
        case spawn(String, Int32)
    }
}
