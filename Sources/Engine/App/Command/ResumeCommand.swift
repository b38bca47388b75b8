import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArgumentParser
import Foundation
import Shared

/// `engine resume TRADER`: lifts an operator's pause (`engine pause`) and the pause a running engine put on a trader
/// that kept failing closed. The request is a file the engine picks up on its next tick (`OperatorControls`); a
/// restart lifts the failure pause as well.
struct ResumeCommand: OperatorRequestCommand {
    static let action = OperatorRequest.Action.resume

    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a trader paused by an operator or by the engine after repeated failures."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The trader id.")
    var trader: String

    @Option(name: .long, help: "Seconds to wait for the running engine to pick the request up.")
    var wait: Double = 10

    var requestTrader: String? { trader }
}
