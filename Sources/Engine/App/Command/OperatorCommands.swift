import ArenaCore
import ArenaRuntime
import ArgumentParser
import Foundation
import Shared

/// The operator's requests to a running engine: each writes a request file the engine picks up on its next tick
/// (`OperatorControls`), then waits a little for it to be picked up and says whether it was.
enum OperatorRequestSubmission {
    static func user() -> String {
        if let name = ProcessInfo.processInfo.environment["USER"], !name.isEmpty { return name }
        return getpwuid(getuid()).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "uid \(getuid())"
    }

    static func submit(
        _ action: OperatorRequest.Action,
        trader: String?,
        configPath: String,
        wait: Double,
        command: String
    ) throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: configPath)
        if let trader {
            guard configuration.traders.contains(where: { $0.id == trader }) else {
                let known = configuration.traders.map(\.id).joined(separator: ", ")
                FileHandle.standardError.write(
                    Data("engine \(command): unknown trader '\(trader)' (known: \(known))\n".utf8)
                )
                throw ExitCode(1)
            }
        }
        let request = OperatorRequest(
            action: action,
            trader: trader,
            user: user(),
            requestedAt: UTCTime.nowMilliseconds()
        )
        let path: String
        do {
            path = try OperatorControls.submit(request, statePath: configuration.manager.statePath)
        } catch {
            FileHandle.standardError.write(Data("engine \(command): cannot write the request: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let deadline = Date().addingTimeInterval(wait)
        while FileManager.default.fileExists(atPath: path), Date() < deadline { usleep(100_000) }
        if FileManager.default.fileExists(atPath: path) {
            print(
                "\(action.rawValue)\(trader.map { " \($0)" } ?? ""): requested; not picked up within "
                    + "\(Int(wait)) s (is the engine running?). The request stays in "
                    + "\((path as NSString).deletingLastPathComponent) and applies when the engine next ticks."
            )
        } else {
            let journal = OperatorControls.journalPath(journalRoot: configuration.journal.path)
            let outcome = (try? String(contentsOfFile: journal, encoding: .utf8))?.split(separator: "\n")
                .compactMap { try? JSONDecoder().decode(OperatorControls.Entry.self, from: Data($0.utf8)) }
                .last { $0.file == (path as NSString).lastPathComponent }?.outcome
            print("\(action.rawValue)\(trader.map { " \($0)" } ?? ""): \(outcome ?? "picked up by the engine")")
        }
    }
}

/// A command that sends one request to the running engine: the request's action, its trader (none for the
/// arena-wide ones) and how long to wait for the engine to pick it up.
protocol OperatorRequestCommand: AsyncParsableCommand {
    static var action: OperatorRequest.Action { get }
    var options: ConfigOptions { get }
    var wait: Double { get }
    var requestTrader: String? { get }
}

extension OperatorRequestCommand {
    func run() async throws {
        try OperatorRequestSubmission.submit(
            Self.action,
            trader: requestTrader,
            configPath: options.config,
            wait: wait,
            command: Self.configuration.commandName ?? "\(Self.action.rawValue)"
        )
    }
}

struct PauseCommand: OperatorRequestCommand {
    static let action = OperatorRequest.Action.pause

    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop a trader's new entries (exits, stops and targets go on) until `engine resume`."
    )

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The trader id.") var trader: String
    @Option(name: .long, help: "Seconds to wait for the running engine to pick the request up.") var wait: Double = 10

    var requestTrader: String? { trader }
}

struct HaltEntriesCommand: OperatorRequestCommand {
    static let action = OperatorRequest.Action.haltEntries

    static let configuration = CommandConfiguration(
        commandName: "halt-entries",
        abstract: "Stop every trader's new entries (exits, stops and targets go on) until `engine allow-entries`."
    )

    @OptionGroup var options: ConfigOptions
    @Option(name: .long, help: "Seconds to wait for the running engine to pick the request up.") var wait: Double = 10

    var requestTrader: String? { nil }
}

struct AllowEntriesCommand: OperatorRequestCommand {
    static let action = OperatorRequest.Action.allowEntries

    static let configuration = CommandConfiguration(
        commandName: "allow-entries",
        abstract: "Lift `engine halt-entries`."
    )

    @OptionGroup var options: ConfigOptions
    @Option(name: .long, help: "Seconds to wait for the running engine to pick the request up.") var wait: Double = 10

    var requestTrader: String? { nil }
}

struct FlattenCommand: OperatorRequestCommand {
    static let action = OperatorRequest.Action.flatten

    static let configuration = CommandConfiguration(
        commandName: "flatten",
        abstract:
            "Close a trader's positions now: a journaled close-out (origin operator), protection cancelled first.",
        discussion: "New entries are not stopped: pause the trader first to keep it flat."
    )

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The trader id.") var trader: String
    @Option(name: .long, help: "Seconds to wait for the running engine to pick the request up.") var wait: Double = 10

    var requestTrader: String? { trader }
}
