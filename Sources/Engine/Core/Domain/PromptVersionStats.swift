import Foundation

/// What one set of prompt templates (ids, versions and sha256 of the bodies, as the journal stamps each cycle)
/// did for one trader: its cycles and refusals, the trades it opened, the model cost, and the hourly returns while
/// it was in force. Kept in the trader's state, so it survives restarts; exported as `prompt-versions.json`.
package struct PromptVersionStats: Sendable, Codable, Equatable {
    /// `id@version#sha12` of every template, sorted by id and joined by `+`; `unrendered` when the cycles
    /// rendered no prompt (a baseline in a backtest without `--record-prompts`).
    package var key: String
    package var templates: [TemplateStamp]
    package var firstUsedAt: Int64
    package var lastUsedAt: Int64
    package var cycles = 0
    package var failedCycles = 0
    /// Refused decisions by risk reason code, and failed-closed cycles by theirs.
    package var refusals: [String: Int] = [:]
    package var llmCostUSD = 0.0
    /// Trades opened while this version was in force, once closed.
    package var trades = 0
    package var wins = 0
    package var netPnL = 0.0
    package var hourlyReturns = RunningMoments()

    package init(templates: [TemplateStamp], at time: Int64) {
        self.key = Self.key(templates)
        self.templates = templates.sorted { $0.id < $1.id }
        self.firstUsedAt = time
        self.lastUsedAt = time
    }

    package static func key(_ templates: [TemplateStamp]) -> String {
        guard !templates.isEmpty else { return "unrendered" }
        return templates.sorted { $0.id < $1.id }.map { "\($0.id)@\($0.version)#\($0.digest.prefix(12))" }
            .joined(separator: "+")
    }

    /// Books one finished model cycle.
    package mutating func record(_ record: CycleRecord) {
        cycles += 1
        lastUsedAt = max(lastUsedAt, record.startedAt)
        if record.outcome == .failedClosed {
            failedCycles += 1
            if let reason = record.reason { refusals[reason.rawValue, default: 0] += 1 }
        }
        for verdict in record.verdicts where !verdict.isAccepted {
            for reason in verdict.reasons { refusals[reason.rawValue, default: 0] += 1 }
        }
        llmCostUSD += record.costUSD
    }

    package mutating func record(_ trade: ClosedTrade) {
        trades += 1
        if trade.netPnL > 0 { wins += 1 }
        netPnL += trade.netPnL
    }
}

/// When a trader's cycles started using another set of templates: trades are attributed to the version in force
/// when they were opened.
package struct PromptVersionSwitch: Sendable, Codable, Equatable {
    package var time: Int64
    package var key: String

    package init(time: Int64, key: String) {
        self.time = time
        self.key = key
    }
}

/// Count, mean and sum of squared deviations of a series (Welford), mergeable: enough for a Sharpe ratio without
/// keeping the series.
package struct RunningMoments: Sendable, Codable, Equatable {
    package var count = 0
    package var mean = 0.0
    package var squares = 0.0

    package init() {}

    package mutating func add(_ value: Double) {
        count += 1
        let delta = value - mean
        mean += delta / Double(count)
        squares += delta * (value - mean)
    }

    /// The moments of both series together (Chan et al.).
    package func merged(with other: RunningMoments) -> RunningMoments {
        guard other.count > 0 else { return self }
        guard count > 0 else { return other }
        var result = RunningMoments()
        result.count = count + other.count
        let delta = other.mean - mean
        result.mean = mean + delta * Double(other.count) / Double(result.count)
        result.squares =
            squares + other.squares + delta * delta * Double(count) * Double(other.count) / Double(result.count)
        return result
    }

    /// Mean over standard deviation, annualised from hourly values (× √8760) as the leaderboard's Sharpe; 0 with
    /// fewer than two values or no variation.
    package var hourlySharpe: Double {
        guard count >= 2, squares > 0 else { return 0 }
        return mean / (squares / Double(count - 1)).squareRoot() * (8760.0).squareRoot()
    }
}
