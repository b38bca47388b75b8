import ArenaCore
import Foundation
import Shared

/// Re-runs steps 3–7 of recorded cycles with the current configuration and templates, and compares prompts,
/// decisions, risk verdicts and order intents with what was recorded.
package struct JournalReplay: Sendable {
    package struct Difference: Sendable, CustomStringConvertible {
        package var cycleID: String
        package var field: String
        package var recorded: String
        package var replayed: String

        package var description: String {
            "\(cycleID): \(field)\n    recorded: \(recorded.prefix(300))\n    replayed: \(replayed.prefix(300))"
        }
    }

    package struct TraderSummary: Sendable {
        package var trader: String
        package var cycles = 0
        package var matched = 0
        package var skipped = 0
        /// Cycles of an in-process baseline whose prompts were not rendered (a backtest's): their decisions,
        /// verdicts and orders were compared, their prompts could not be.
        package var withoutPrompts = 0
        package var differences: [Difference] = []
        package var mismatchedCycles: [String] = []

        package init(trader: String) { self.trader = trader }

        /// Adds the summary of the records that follow this one's.
        package mutating func add(_ next: TraderSummary) {
            cycles += next.cycles
            matched += next.matched
            skipped += next.skipped
            withoutPrompts += next.withoutPrompts
            differences += next.differences
            mismatchedCycles += next.mismatchedCycles
        }
    }

    package let configuration: ArenaConfiguration
    /// Replaces the `prompts/` directory of template paths (`--templates DIR`).
    package let templatesDirectory: String?

    package enum Failure: Error, CustomStringConvertible {
        case unknownTrader(String)
        case template(String)
        case record(String)

        package var description: String {
            switch self {
            case .unknownTrader(let trader): "trader '\(trader)' is not in the configuration"
            case .template(let message): message
            case .record(let message): message
            }
        }
    }

    /// The trader's pipeline as the live cycle builds it, with `--templates` in place of `prompts/` when given.
    package func pipeline(for trader: TraderConfiguration) throws -> TraderPipeline {
        do {
            return try TraderPipeline.make(
                trader: trader,
                configuration: configuration,
                decisionSchema: try TraderPipeline.decisionSchema(configuration),
                templatesDirectory: templatesDirectory
            )
        } catch {
            throw Failure.template(error.description)
        }
    }

    /// The symbols a trader decides on: its own list, else its market's.
    package func symbols(of trader: TraderConfiguration) -> [String] {
        trader.symbols.isEmpty
            ? (configuration.market.providers[trader.marketProvider]?.symbols ?? []) : trader.symbols
    }

    /// Replays `records` of one trader.
    package func replay(trader id: String, records: [CycleRecord]) throws -> TraderSummary {
        guard let trader = configuration.traders.first(where: { $0.id == id }) else { throw Failure.unknownTrader(id) }
        return try replay(trader: trader, records: records)
    }

    /// A trader's journal replayed a file at a time, as `engine replay` runs it: memory holds one file's records
    /// (plus the last `last` ones when given), not the whole journal's. `since` keeps the cycles that started at or
    /// after it; `last` then the newest `last` of those.
    package func replay(
        journal: JournalDirectory,
        trader id: String,
        since: Int64? = nil,
        last: Int? = nil
    ) throws -> TraderSummary {
        guard let trader = configuration.traders.first(where: { $0.id == id }) else { throw Failure.unknownTrader(id) }
        return try replay(journal: journal, trader: trader, since: since, last: last)
    }

    package func replay(
        journal: JournalDirectory,
        trader: TraderConfiguration,
        since: Int64? = nil,
        last: Int? = nil
    ) throws -> TraderSummary {
        var summary = TraderSummary(trader: trader.id)
        try Self.forEachSelected(journal: journal, trader: trader.id, since: since, last: last) { records in
            summary.add(try replay(trader: trader, records: records))
        }
        return summary
    }

    /// Each record is replayed on its own (its market, account and inputs are recorded), so runs of records are
    /// replayed on every core at once and their summaries joined in order: the same summary as one loop.
    package func replay(trader: TraderConfiguration, records: [CycleRecord]) throws -> TraderSummary {
        let pipeline = try pipeline(for: trader)
        let symbols = symbols(of: trader)
        let runs = ParallelRuns.map(count: records.count, minimumPerRun: 128) { range in
            [replay(records[range], trader: trader, pipeline: pipeline, symbols: symbols)]
        }
        var summary = TraderSummary(trader: trader.id)
        for run in runs { summary.add(run) }
        return summary
    }

    /// One run of consecutive records.
    private func replay(
        _ records: ArraySlice<CycleRecord>,
        trader: TraderConfiguration,
        pipeline: TraderPipeline,
        symbols: [String]
    ) -> TraderSummary {
        let renderer = pipeline.renderer
        let view = pipeline.view
        var summary = TraderSummary(trader: trader.id)
        for record in records {
            guard let market = record.market, let account = record.account, let inputs = record.inputs else {
                summary.skipped += 1
                continue
            }
            let recordedPrompts: (system: String, user: String)?
            if let system = record.systemPrompt, let user = record.userPrompt {
                recordedPrompts = (system, user)
            } else if record.promptsSkipped == true {
                recordedPrompts = nil
                summary.withoutPrompts += 1
            } else {
                summary.skipped += 1
                continue
            }
            summary.cycles += 1
            var differences: [Difference] = []
            func compare<T: Equatable>(_ field: String, _ recorded: T, _ replayed: T) {
                guard recorded != replayed else { return }
                if let left = recorded as? String, let right = replayed as? String {
                    // Point at the first line that differs rather than the whole prompt.
                    let a = left.split(separator: "\n", omittingEmptySubsequences: false)
                    let b = right.split(separator: "\n", omittingEmptySubsequences: false)
                    let line = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
                    differences.append(
                        Difference(
                            cycleID: record.cycleID,
                            field: "\(field) line \(line + 1)",
                            recorded: line < a.count ? String(a[line]) : "<end>",
                            replayed: line < b.count ? String(b[line]) : "<end>"
                        )
                    )
                    return
                }
                differences.append(
                    Difference(cycleID: record.cycleID, field: field, recorded: "\(recorded)", replayed: "\(replayed)")
                )
            }
            // 3. Prompts (unless none was rendered).
            if let (system, user) = recordedPrompts {
                do {
                    let messages = try renderer.render(
                        market: market,
                        account: account,
                        inputs: inputs,
                        now: record.startedAt
                    )
                    compare("system_prompt", system, messages[0].content)
                    compare("user_prompt", user, messages[1].content)
                } catch {
                    compare("prompts", "rendered", "\(error)")
                }
            }
            // 4. A consensus: its members' recorded answers combined again by the configured rule.
            var answer = record.rawAnswer?.text
            if let recorded = record.consensus {
                if let consensus = configuration.llm.models[recorded.model]?.consensus {
                    let outcome = ConsensusCombiner.combine(recorded.members, consensus: consensus, symbols: symbols)
                    answer = outcome.hasQuorum(consensus) ? try? ConsensusCombiner.answerText(outcome.decisions) : nil
                    compare(
                        "raw_answer (consensus of \(recorded.model))",
                        record.rawAnswer?.text ?? "none",
                        answer ?? "none"
                    )
                } else {
                    compare("consensus", recorded.model, "not a consensus in the configuration")
                }
            }
            // 5. Parse the answer.
            if let raw = answer {
                let decisions = (try? DecisionParser.parse(raw)) ?? []
                compare("decisions", record.decisions, decisions)
                // 6–7. Risk and intents.
                let (verdicts, orders) = Self.plan(
                    decisions,
                    record: record,
                    trader: trader,
                    symbols: symbols,
                    view: view,
                    recheck: record.recheckAccount
                )
                if record.reason != .llmOutputInvalid {
                    compare("verdicts", record.verdicts, verdicts)
                    compare("orders", record.orders, orders)
                }
            }
            if differences.isEmpty {
                summary.matched += 1
            } else {
                summary.mismatchedCycles.append(record.cycleID)
                summary.differences += differences
            }
        }
        return summary
    }

    /// Steps 6–7 for a recorded cycle's market, account and inputs: risk verdicts, then closes and (with a
    /// pre-submit account) entries, through the same functions as the live cycle.
    package static func plan(
        _ decisions: [Decision],
        record: CycleRecord,
        trader: TraderConfiguration,
        symbols: [String],
        view: TraderConfigurationView,
        recheck: TraderAccount?
    ) -> (verdicts: [RiskVerdict], orders: [OrderRequest]) {
        guard let market = record.market, let account = record.account, let inputs = record.inputs else {
            return ([], [])
        }
        let prices = market.symbols.mapValues(\.markPrice)
        func context(_ account: TraderAccount) -> RiskContext {
            CyclePlanner.riskContext(
                limits: trader.riskParams,
                symbols: symbols,
                assets: AssetInfo.catalog,
                account: account,
                prices: prices,
                now: record.startedAt,
                inputs: inputs
            )
        }
        var verdicts = RiskPolicy.evaluate(decisions, context: context(account))
        var orders = CyclePlanner.closeOrders(
            decisions: decisions,
            verdicts: verdicts,
            account: account,
            view: view,
            cycle: record.cycle
        )
        if let recheck {
            // Version 3 on: the second check at the recorded marks, flags and time; older records at the snapshot.
            var second = context(recheck)
            if let fresh = record.entryRecheck {
                second = CyclePlanner.riskContext(
                    limits: trader.riskParams,
                    symbols: symbols,
                    assets: AssetInfo.catalog,
                    account: recheck,
                    prices: fresh.prices,
                    now: fresh.at,
                    inputs: fresh.inputs
                )
            }
            orders += CyclePlanner.entryOrders(
                decisions: decisions,
                verdicts: &verdicts,
                recheck: second,
                approvedPrices: record.entryRecheck == nil ? nil : prices,
                view: view,
                cycle: record.cycle
            ).flatMap { $0 }
        }
        return (verdicts, orders)
    }

    /// Records of a trader from the journal, oldest first: those that started at or after `since`, then the newest
    /// `last` of those. Decoding is most of a replay's time: the lines are decoded in runs over the machine's cores
    /// (the same records, in order; the first bad line is reported).
    package static func records(
        journal: JournalDirectory,
        trader: String,
        since: Int64? = nil,
        last: Int? = nil
    ) throws -> [CycleRecord] {
        var records: [CycleRecord] = []
        try forEachSelected(journal: journal, trader: trader, since: since, last: last) { records += $0 }
        return records
    }

    /// The same records in order, handed over a journal file at a time — or, with `last`, once at the end (only
    /// the newest `last` are kept across files): memory holds one file's records, not the whole journal's.
    private static func forEachSelected(
        journal: JournalDirectory,
        trader: String,
        since: Int64?,
        last: Int?,
        _ body: ([CycleRecord]) throws -> Void
    ) throws {
        var lastRecords: [CycleRecord] = []
        try forEachFile(journal: journal, trader: trader) { file in
            let records = since.map { since in file.filter { $0.startedAt >= since } } ?? file
            if let last {
                lastRecords = Array((lastRecords + records).suffix(max(0, last)))
            } else {
                try body(records)
            }
        }
        if last != nil { try body(lastRecords) }
    }

    /// The same records a journal file at a time (`engine replay` holds one file's records at once).
    private static func forEachFile(
        journal: JournalDirectory,
        trader: String,
        _ body: ([CycleRecord]) throws -> Void
    ) throws {
        var before = 0
        var chain = MarketChain()
        try journal.forEachFile(trader: trader) { lines in
            try body(records(lines, trader: trader, numberedFrom: before + 1, chain: &chain))
            before += lines.count
        }
    }

    /// `lines` decoded, the first being record `first` of the trader's journal (for the error message), their
    /// continued market series resolved in order against `chain` (the records before them).
    private static func records(
        _ lines: [Data],
        trader: String,
        numberedFrom first: Int,
        chain: inout MarketChain
    ) throws -> [CycleRecord] {
        @Sendable func undecodable(_ index: Int, _ error: any Error) -> Failure {
            .record("record \(first + index) of \(trader) does not decode: \(error)")
        }
        let decoded = try ParallelRuns.map(count: lines.count) { range in
            try range.map { index in
                do {
                    let line = try CycleRecord.readLine(from: lines[index])
                    guard CycleRecord.readableSchemaVersions.contains(line.record.schemaVersion) else {
                        throw Failure.record(
                            "record \(first + index) of \(trader) has schema_version \(line.record.schemaVersion)"
                        )
                    }
                    return line
                } catch let failure as Failure {
                    throw failure
                } catch {
                    throw undecodable(index, error)
                }
            }
        }
        var records: [CycleRecord] = []
        records.reserveCapacity(decoded.count)
        for (index, line) in decoded.enumerated() {
            var record = line.record
            do {
                try chain.resolve(&record, line.continuation)
            } catch {
                throw undecodable(index, error)
            }
            records.append(record)
        }
        return records
    }

    package init(configuration: ArenaConfiguration, templatesDirectory: String?) {
        self.configuration = configuration
        self.templatesDirectory = templatesDirectory
    }
}
