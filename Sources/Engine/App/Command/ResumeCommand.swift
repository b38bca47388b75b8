import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArgumentParser
import Foundation
import Shared

/// `engine resume TRADER`: lifts the pause a running engine put on a trader that kept failing closed. The request
/// is a file the engine picks up on its next tick; a restart resumes every paused trader as well.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a trader the engine paused after repeated failures."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The trader id.")
    var trader: String

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        guard trader != ".", trader != "..", configuration.traders.contains(where: { $0.id == trader }) else {
            let known = configuration.traders.map(\.id).joined(separator: ", ")
            FileHandle.standardError.write(Data("engine resume: unknown trader '\(trader)' (known: \(known))\n".utf8))
            throw ExitCode(1)
        }
        let directory = TraderHealth.resumeDirectory(statePath: configuration.manager.statePath)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try AtomicFile.replace((directory as NSString).appendingPathComponent(trader), with: Data())
        } catch {
            FileHandle.standardError.write(
                Data("engine resume: cannot write the request in \(directory): \(error)\n".utf8)
            )
            throw ExitCode(1)
        }
        print("resume requested for \(trader); the running engine picks it up within a tick")
    }
}
