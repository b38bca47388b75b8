import ArenaCore
import Foundation
import PostgresNIO
import Shared

/// The database rows of journaled cycles: every table the journal can fill, one `RowBatch` each. The same code
/// writes live cycles (the sink), catches up after an outage and rebuilds from the journal (`engine import`), so
/// the three can never disagree. Every key comes from the record (trader and cycle, cloid), so writing a cycle
/// twice leaves one row.
package struct CycleRows: Sendable {
    package var cycles = RowBatch(
        "decision_cycles",
        [
            "trader_id": .text, "cycle": .int, "cycle_id": .text, "started_at": .timestamp, "ended_at": .timestamp,
            "outcome": .text, "reason": .optionalText, "error": .optionalText, "model_asked": .text,
            "model_answered": .optionalText, "route": .optionalText, "cache_hit": .bool, "prompt_tokens": .int,
            "completion_tokens": .int, "cost_usd": .double, "latency_ms": .int, "equity": .optionalDouble,
            "decisions": .jsonb,
        ]
    )
    package var conversations = RowBatch(
        "llm_conversations",
        [
            "trader_id": .text, "cycle": .int, "at": .timestamp, "model": .text, "provider_model": .optionalText,
            "system_prompt": .optionalText, "user_prompt": .optionalText, "answer": .optionalText,
            "prompt_digest": .optionalText, "prompt_tokens": .int, "completion_tokens": .int, "cost_usd": .double,
            "cache_hit": .bool,
        ]
    )
    package var attempts = RowBatch(
        "llm_attempts",
        [
            "trader_id": .text, "cycle": .int, "attempt": .int, "at": .timestamp, "model": .text, "outcome": .text,
            "prompt_tokens": .int, "completion_tokens": .int, "cost_usd": .double,
        ]
    )
    package var verdicts = RowBatch(
        "risk_verdicts",
        [
            "trader_id": .text, "cycle": .int, "idx": .int, "symbol": .text, "signal": .text, "accepted": .bool,
            "reasons": .text,
        ]
    )
    package var orders = RowBatch(
        "orders",
        [
            "cloid": .text, "trader_id": .text, "cycle": .int, "at": .timestamp, "symbol": .text, "side": .text,
            "kind": .text, "size": .double, "limit_price": .optionalDouble, "trigger_price": .optionalDouble,
            "status": .optionalText, "venue_order_id": .optionalInt, "reason": .optionalText,
            "message": .optionalText,
        ]
    )
    package var fills = RowBatch(
        "fills",
        [
            "cloid": .text, "trader_id": .text, "cycle": .int, "at": .timestamp, "symbol": .text, "side": .text,
            "size": .double, "price": .double, "fee": .double,
        ]
    )
    package var accounts = RowBatch(
        "account_snapshots",
        [
            "trader_id": .text, "at": .timestamp, "equity": .double, "cash": .optionalDouble,
            "margin_used": .optionalDouble, "unrealized_pnl": .optionalDouble, "realized_pnl": .optionalDouble,
            "fees_paid": .optionalDouble, "source": .text,
        ]
    )
    package var positions = RowBatch(
        "trader_positions",
        [
            "trader_id": .text, "at": .timestamp, "symbol": .text, "quantity": .double, "entry_price": .double,
            "leverage": .optionalDouble, "margin": .optionalDouble, "liquidation_price": .optionalDouble,
            "mark_price": .optionalDouble, "stop_loss": .optionalDouble, "take_profit": .optionalDouble,
            "unrealized_pnl": .optionalDouble,
        ]
    )
    package var indicators = RowBatch(
        "indicators",
        ["symbol": .text, "interval": .text, "at": .timestamp, "name": .text, "value": .double]
    )
    /// Latest price per symbol (an upsert that only moves forward in time).
    private var prices: [String: (price: Double, at: Int64)] = [:]

    package private(set) var recordCount = 0

    package var isEmpty: Bool { recordCount == 0 }

    /// `JSONEncoder`'s `.sortedKeys` bytes, from the journal's encoder.
    private static let encoder = SortedJSONEncoder()

    package mutating func add(_ record: CycleRecord) {
        recordCount += 1
        let trader = record.traderID
        let cycle = Int64(record.cycle)
        let decisions = (try? Self.encoder.encodeEscapingSlashes(record.decisions)).map {
            String(decoding: $0, as: UTF8.self)
        }
        cycles.append([
            .text(trader), .int(cycle), .text(record.cycleID), .int(record.startedAt), .int(record.endedAt),
            .text(record.outcome.rawValue), .text(record.reason?.rawValue), .text(record.error),
            .text(record.modelAsked), .text(record.modelAnswered), .text(record.route?.rawValue),
            .bool(record.isCacheHit), .int(Int64(record.promptTokens)), .int(Int64(record.completionTokens)),
            .double(record.costUSD), .int(record.latencyMilliseconds), .double(record.account?.equity),
            .text(decisions ?? "[]"),
        ])
        if record.userPrompt != nil || record.rawAnswer != nil {
            conversations.append([
                .text(trader), .int(cycle), .int(record.startedAt), .text(record.modelAnswered ?? record.modelAsked),
                .text(record.providerModel), .text(record.systemPrompt), .text(record.userPrompt),
                .text(record.rawAnswer?.text), .text(record.promptDigest), .int(Int64(record.promptTokens)),
                .int(Int64(record.completionTokens)), .double(record.costUSD), .bool(record.isCacheHit),
            ])
        }
        for (index, attempt) in record.attempts.enumerated() {
            attempts.append([
                .text(trader), .int(cycle), .int(Int64(index)), .int(record.startedAt), .text(attempt.model),
                .text(attempt.outcome), .int(Int64(attempt.promptTokens)), .int(Int64(attempt.completionTokens)),
                .double(attempt.costUSD),
            ])
        }
        for (index, verdict) in record.verdicts.enumerated() {
            verdicts.append([
                .text(trader), .int(cycle), .int(Int64(index)), .text(verdict.symbol), .text(verdict.signal.rawValue),
                .bool(verdict.isAccepted), .text(verdict.reasons.map(\.rawValue).joined(separator: ",")),
            ])
        }
        let results = Dictionary(record.results.map { ($0.cloid, $0) }) { first, _ in first }
        for order in record.orders {
            let result = results[order.cloid]
            let side = order.isBuy ? "buy" : "sell"
            orders.append([
                .text(order.cloid), .text(trader), .int(cycle), .int(record.startedAt), .text(order.symbol),
                .text(side), .text(order.kind.rawValue), .double(order.size), .double(order.limitPrice),
                .double(order.triggerPrice), .text(result?.status.rawValue), .int(result?.orderID),
                .text(result?.reason?.rawValue), .text(result?.message),
            ])
            if let result, result.filledSize > 0 {
                fills.append([
                    .text(order.cloid), .text(trader), .int(cycle), .int(record.endedAt), .text(order.symbol),
                    .text(side), .double(result.filledSize), .double(result.averagePrice), .double(result.fee),
                ])
            }
        }
        if let account = record.account {
            accounts.append([
                .text(trader), .int(record.startedAt), .double(account.equity), .double(account.cash),
                .double(account.marginUsed), .double(account.unrealizedPnL), .double(account.realizedPnL),
                .double(account.feesPaid), .text("journal"),
            ])
            for position in account.orderedPositions {
                positions.append([
                    .text(trader), .int(record.startedAt), .text(position.symbol), .double(position.quantity),
                    .double(position.entryPrice), .double(position.leverage), .double(position.margin),
                    .double(position.liquidationPrice), .double(position.markPrice), .double(position.stopLoss),
                    .double(position.takeProfit), .double(position.unrealizedPnL),
                ])
            }
        }
        if let market = record.market {
            for symbol in market.symbols.keys.sorted() {
                guard let snapshot = market.symbols[symbol] else { continue }
                if (prices[symbol]?.at ?? .min) < snapshot.asOf {
                    prices[symbol] = (snapshot.price, snapshot.asOf)
                }
                for (name, value) in [("ema20", snapshot.ema20), ("macd", snapshot.macd), ("rsi7", snapshot.rsi7)] {
                    indicators.append([
                        .text(symbol), .text("intraday"), .int(snapshot.asOf), .text(name), .double(value),
                    ])
                }
            }
        }
    }

    /// Every non-empty batch, parents before children (the order rows are written in).
    package var batches: [RowBatch] {
        var assets = RowBatch(
            "assets",
            ["symbol": .text, "price": .double, "updated_at": .timestamp],
            conflict: """
                ON CONFLICT (symbol) DO UPDATE SET price = excluded.price, updated_at = excluded.updated_at \
                WHERE assets.updated_at < excluded.updated_at
                """
        )
        for symbol in prices.keys.sorted() {
            guard let entry = prices[symbol] else { continue }
            assets.append([.text(symbol), .double(entry.price), .int(entry.at)])
        }
        return [cycles, conversations, attempts, verdicts, orders, fills, accounts, positions, indicators, assets]
            .filter { !$0.isEmpty }
    }

    /// Writes every batch in one transaction.
    package func write(to database: PostgresDatabase) async throws {
        let batches = self.batches
        guard !batches.isEmpty else { return }
        try await database.transaction("write_cycles") { connection in
            for batch in batches {
                try await connection.query(batch.query, logger: database.logger)
            }
        }
    }
}

extension CycleRows {
    /// A journal line that is not a cycle record: its trader, 1-based line number and the decoding error.
    package struct UndecodableLine: Error, CustomStringConvertible {
        package let trader: String
        package let line: Int
        package let error: any Error
        package var description: String { "journal \(trader) record \(line) does not decode: \(error)" }
    }

    /// Writes one trader's journal cycles numbered above `after` to `database`, `batchSize` cycles per transaction,
    /// and returns how many it wrote. `written` hears of each batch once it is committed, with its last cycle (so a
    /// caller can keep a cursor that never runs ahead of the database). An undecodable line goes to `undecodable`,
    /// which throws to stop or returns to skip it. With `decodesInParallel` (`engine import`, which has the machine
    /// to itself) each run of lines is decoded on every core; the engine's own catch-up decodes on its one thread,
    /// beside the trading loop.
    package static func writeJournal(
        _ journal: JournalDirectory,
        trader: String,
        after: Int,
        batchSize: Int,
        to database: PostgresDatabase,
        decodesInParallel: Bool = false,
        undecodable: (UndecodableLine) throws -> Void,
        written: (_ lastCycle: Int) -> Void = { _ in },
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Int {
        var total = 0
        var rows = CycleRows()
        var last = after
        let lines = try journal.lines(trader: trader)
        // Decoding is most of an import's own time: in parallel, lines are decoded a run at a time (in order), then
        // written batch by batch; on one thread, a line at a time, so no more than one decoded record is held.
        let run = decodesInParallel ? Self.decodeRun : 1
        // Every line is decoded, the skipped ones too: a later record's market may continue theirs.
        var chain = MarketChain()
        var start = 0
        while start < lines.count {
            let end = min(lines.count, start + run)
            let first = start
            let decode: @Sendable (Range<Int>) -> [DecodedLine] = { range in
                range.map { offset in Self.decode(lines[first + offset]) }
            }
            let decoded =
                decodesInParallel ? ParallelRuns.map(count: end - start, decode) : decode(0..<(end - start))
            for (offset, line) in decoded.enumerated() {
                var record: CycleRecord
                switch line {
                case .undecodable(let reason):
                    try undecodable(UndecodableLine(trader: trader, line: start + offset + 1, error: reason))
                    continue
                case .record(let decodedRecord, let continuation):
                    record = decodedRecord
                    do {
                        try chain.resolve(&record, continuation)
                    } catch {
                        let reason = DecodingFailure(description: "\(error)")
                        try undecodable(UndecodableLine(trader: trader, line: start + offset + 1, error: reason))
                        continue
                    }
                }
                guard record.cycle > after else { continue }
                rows.add(record)
                last = max(last, record.cycle)
                if rows.recordCount >= batchSize {
                    try await rows.write(to: database)
                    total += rows.recordCount
                    written(last)
                    rows = CycleRows()
                }
            }
            start = end
        }
        if !rows.isEmpty {
            try await rows.write(to: database)
            total += rows.recordCount
            written(last)
        }
        return total
    }

    /// Lines decoded together, on every core.
    private static let decodeRun = 2048

    /// A journal line as the import sees it.
    private enum DecodedLine: Sendable {
        case record(CycleRecord, MarketContinuation)
        case undecodable(DecodingFailure)
    }

    /// Why a line did not decode, as the decoder said it.
    package struct DecodingFailure: Error, Sendable, CustomStringConvertible {
        package let description: String
    }

    private static func decode(_ line: Data) -> DecodedLine {
        do {
            let (record, continuation) = try CycleRecord.readLine(from: line)
            return .record(record, continuation)
        } catch {
            return .undecodable(DecodingFailure(description: "\(error)"))
        }
    }
}
