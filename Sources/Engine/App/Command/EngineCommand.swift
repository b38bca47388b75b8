import ArenaAdapters
import ArenaCore
import ArenaRuntime
import ArgumentParser

/// `engine`: the Arena execution plane and its operator tools.
@main
struct EngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Run LLM-driven traders, and the operator tools around them.",
        subcommands: [
            RunCommand.self, CheckCommand.self, ReplayCommand.self, BacktestCommand.self, BenchCommand.self,
            MigrateCommand.self,
            ImportCommand.self,
            HyperliquidCommand.self, DoctorCommand.self, ResumeCommand.self, FetchCandlesCommand.self,
            StatusCommand.self, PauseCommand.self, FlattenCommand.self, HaltEntriesCommand.self,
            AllowEntriesCommand.self,
        ],
        defaultSubcommand: nil
    )
}

/// Options every subcommand that reads the configuration shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Root configuration file.")
    var config: String = "etc/arena.yaml"
}
