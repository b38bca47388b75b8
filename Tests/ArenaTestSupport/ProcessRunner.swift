import Foundation

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

    public enum RunnerError: Error { case noPort }
}
