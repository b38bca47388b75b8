import ArenaAdapters
import ArenaCore
import ArgumentParser
import Foundation
import Shared

/// `engine check`: loads the configuration, prints every violation as `file: key.path: message` and exits 1,
/// or prints a summary of the traders and exits 0.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and summarise the traders."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try ConfigurationLoading.loadOrExit(path: options.config)
        // A venue key must parse and give a signer; the key itself is never printed.
        var problems: [String] = []
        var signers: [String] = []
        for provider in configuration.exchange.providers.values.sorted(by: { $0.id < $1.id })
        where provider.kind == .hyperliquid && !provider.privateKey.isEmpty {
            do {
                let signer = try HyperliquidSigner(privateKeyHex: provider.privateKey.revealed)
                var line =
                    "exchange.\(provider.id): signer \(signer.address) (\(provider.isTestnet ? "testnet" : "mainnet"))"
                if let main = provider.mainAddress { line += ", agent for \(main.lowercased())" }
                if let vault = provider.vaultAddress { line += ", trading vault \(vault.lowercased())" }
                signers.append(line)
            } catch {
                problems.append(
                    "exchange.yaml: providers.\(provider.id).private_key: \(error) (expected 64 hex digits)"
                )
            }
        }
        guard problems.isEmpty else {
            for problem in problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
            throw ExitCode(1)
        }
        print(ConfigurationSummary.render(configuration))
        for line in signers { print(line) }
    }
}

/// Loading the configuration at the start of a command: problems go to standard error, one line each, and the
/// command exits 1 without a stack trace.
enum ConfigurationLoading {
    static func loadOrExit(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    )
        throws -> ArenaConfiguration
    {
        do {
            let configuration = try ConfigLoader(environment: environment).load(path: path)
            for warning in configuration.warnings {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
            return configuration
        } catch {
            for diagnostic in error.diagnostics {
                FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
            }
            let count = error.diagnostics.count
            FileHandle.standardError.write(
                Data("\(path): configuration refused (\(count) problem\(count == 1 ? "" : "s"))\n".utf8)
            )
            throw ExitCode(1)
        }
    }
}

/// The human summary `engine check` prints. Secrets appear only as `<redacted>` or `<empty>`.
enum ConfigurationSummary {
    static func render(_ configuration: ArenaConfiguration) -> String {
        let traders = configuration.traders
        let enabled = traders.filter(\.isEnabled).count
        var lines: [String] = []
        lines.append(
            "\(configuration.path): OK: \(traders.count) traders (\(enabled) enabled), \(configuration.llm.models.count) models, "
                + "\(configuration.exchange.providers.count) exchange and \(configuration.market.providers.count) market providers"
        )
        let manager = configuration.manager
        let allocated = traders.reduce(0) { $0 + $1.allocationPct }
        lines.append(
            "capital: \(format(manager.totalEquityUSD)) USD, reserve \(format(manager.reserveEquityPct)) %, allocated \(format(allocated)) %, strategy \(manager.allocationStrategy.rawValue)"
        )
        for trader in traders {
            let model = configuration.llm.models[trader.model]
            let provider = model.flatMap { configuration.llm.providers[$0.provider] }
            let venue = configuration.exchange.providers[trader.exchangeProvider]
            var line = "  \(trader.isEnabled ? "trader  " : "disabled") \(trader.id)"
            if let consensus = model?.consensus {
                line +=
                    "  model \(trader.model) (consensus \(consensus.rule.rawValue) of "
                    + "\(consensus.members.joined(separator: ", ")), at least \(consensus.minMembers))"
            } else {
                line += "  model \(trader.model) (\(provider?.kind.rawValue ?? "?"))"
            }
            line += "  exchange \(trader.exchangeProvider) (\(venue?.kind.rawValue ?? "?"))"
            line += "  market \(trader.marketProvider)"
            line += "  allocation \(format(trader.allocationPct)) %"
            line += "  every \(ConfigDuration.format(trader.decisionInterval))"
            if let reason = trader.disabledReason { line += "  [\(reason)]" }
            lines.append(line)
        }
        var secrets: [String] = []
        for provider in configuration.llm.providers.values.sorted(by: { $0.id < $1.id })
        where provider.kind != .baseline {
            secrets.append("llm.\(provider.id).api_key \(provider.apiKey)")
        }
        for provider in configuration.exchange.providers.values.sorted(by: { $0.id < $1.id })
        where provider.kind == .hyperliquid {
            secrets.append("exchange.\(provider.id).private_key \(provider.privateKey)")
        }
        if configuration.postgres.isEnabled { secrets.append("postgres.dsn \(configuration.postgres.dsn)") }
        if !configuration.redis.password.isEmpty { secrets.append("redis.password \(configuration.redis.password)") }
        for channel in configuration.manager.notifications.channels {
            let key = channel.kind == .telegram ? "bot_token" : "webhook_url"
            secrets.append("notifications.\(channel.kind.rawValue).\(key) \(channel.secret)")
        }
        if !secrets.isEmpty { lines.append("secrets: " + secrets.joined(separator: ", ")) }
        let notifications = configuration.manager.notifications.channels.map { channel in
            "\(channel.kind.rawValue) (\(channel.events.map(\.rawValue).sorted().joined(separator: ", ")))"
        }
        if !notifications.isEmpty { lines.append("notifications: " + notifications.joined(separator: "; ")) }
        let budget = configuration.llm.budget
        let cache = configuration.llm.cache
        var llm = "llm: budget "
        llm += budget.dailyUSDLimit.map { "\(format($0)) USD" } ?? "no USD limit"
        llm += ", " + (budget.dailyTokenLimit.map { "\($0) tokens" } ?? "no token limit") + " a day"
        llm += " (\(budget.statePath)); cache " + (cache.isEnabled ? "on, \(cache.path ?? "memory only")" : "off")
        lines.append(llm)
        lines.append(
            "snapshots: \(configuration.dataPath)  journal: \(configuration.journal.path)  state: \(manager.statePath)  api: \(configuration.api.host):\(configuration.api.port)"
        )
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
