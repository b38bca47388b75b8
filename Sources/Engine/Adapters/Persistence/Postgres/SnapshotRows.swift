import ArenaCore
import Foundation
import Shared

/// The database rows of one snapshot generation: every file verbatim in `api_documents`, and the documents with
/// a table of their own (trades, account totals, leaderboard, since-inception values, prices) as rows. Used by the
/// sink after each export and by `engine import --snapshot`. Keys come from the documents (trade id, model and
/// time), so importing the same generation twice leaves the same rows.
package struct SnapshotRows: Sendable {
    package var documents = RowBatch(
        "api_documents",
        ["name": .text, "generation": .text, "body": .jsonb, "imported_at": .timestamp],
        conflict: """
            ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, body = excluded.body, \
            imported_at = excluded.imported_at WHERE api_documents.body IS DISTINCT FROM excluded.body
            """
    )
    package var trades = RowBatch(
        "trades",
        [
            "id": .text, "trader_id": .text, "symbol": .text, "side": .text, "quantity": .double,
            "entry_price": .double, "exit_price": .double, "entry_time": .timestamp, "exit_time": .timestamp,
            "realized_gross_pnl": .double, "realized_net_pnl": .double, "total_commission": .double, "data": .jsonb,
        ]
    )
    package var accounts = RowBatch(
        "account_snapshots",
        [
            "trader_id": .text, "at": .timestamp, "equity": .double, "realized_pnl": .optionalDouble,
            "unrealized_pnl": .optionalDouble, "source": .text,
        ]
    )
    package var performance = RowBatch(
        "performance_snapshots",
        ["trader_id": .text, "at": .timestamp, "kind": .text, "data": .jsonb]
    )
    package var assets = RowBatch(
        "assets",
        ["symbol": .text, "price": .double, "updated_at": .timestamp],
        conflict: """
            ON CONFLICT (symbol) DO UPDATE SET price = excluded.price, updated_at = excluded.updated_at \
            WHERE assets.updated_at < excluded.updated_at
            """
    )
    /// Rows per document kind, for `engine import`'s summary.
    package private(set) var counts: [String: Int] = [:]

    package struct Malformed: Error, CustomStringConvertible {
        package let file: String
        package let reason: String
        package var description: String { "\(file): \(reason)" }
    }

    /// Adds a generation's files. `at` (Unix ms) dates documents that carry no `serverTime`.
    package mutating func add(files: [String: Data], generation: String, at: Int64) throws {
        let decoder = SnapshotCoding.makeDecoder()
        // `JSONEncoder`'s `.sortedKeys` bytes, from the journal's encoder.
        let encoder = SortedJSONEncoder()
        func decode<T: Decodable>(_ document: SnapshotDocument, _ type: T.Type) throws -> T? {
            guard let data = files[document.fileName] else { return nil }
            do {
                return try decoder.decode(T.self, from: data)
            } catch {
                throw Malformed(file: document.fileName, reason: "does not decode: \(error)")
            }
        }
        func json(_ value: some Encodable) throws -> String {
            String(decoding: try encoder.encodeEscapingSlashes(value), as: UTF8.self)
        }
        func milliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

        for name in files.keys.sorted() where name.hasSuffix(".json") {
            guard let data = files[name], (try? JSONSerialization.jsonObject(with: data)) != nil else {
                throw Malformed(file: name, reason: "is not JSON")
            }
            documents.append([
                .text(String(name.dropLast(".json".count))), .text(generation),
                .text(String(decoding: data, as: UTF8.self)), .int(at),
            ])
            counts["api_documents", default: 0] += 1
        }
        if let document = try decode(.trades, TradesDocument.self) {
            for trade in document.trades {
                trades.append([
                    .text(trade.id), .text(trade.modelID), .text(trade.symbol), .text(trade.side),
                    .double(trade.quantity), .double(trade.entryPrice), .double(trade.exitPrice),
                    .int(milliseconds(trade.entryTime)), .int(milliseconds(trade.exitTime)),
                    .double(trade.realizedGrossPnL), .double(trade.realizedNetPnL),
                    .double(trade.totalCommissionDollars), .text(try json(trade)),
                ])
            }
            counts["trades", default: 0] += document.trades.count
        }
        if let document = try decode(.accountTotals, AccountTotalsDocument.self) {
            for row in document.accountTotals {
                accounts.append([
                    .text(row.modelID), .int(milliseconds(row.timestamp)), .double(row.dollarEquity),
                    .double(row.realizedPnL), .double(row.totalUnrealizedPnL), .text("snapshot"),
                ])
            }
            counts["account_snapshots", default: 0] += document.accountTotals.count
        }
        if let document = try decode(.leaderboard, LeaderboardDocument.self) {
            let time = document.serverTime ?? at
            for entry in document.leaderboard {
                performance.append([.text(entry.id), .int(time), .text("leaderboard"), .text(try json(entry))])
            }
            counts["performance_snapshots", default: 0] += document.leaderboard.count
        }
        if let document = try decode(.sinceInceptionValues, SinceInceptionDocument.self) {
            let time = document.serverTime ?? at
            for value in document.sinceInceptionValues {
                performance.append([
                    .text(value.modelID), .int(time), .text("since_inception"), .text(try json(value)),
                ])
            }
            counts["performance_snapshots", default: 0] += document.sinceInceptionValues.count
        }
        if let data = files[PromptVersionsDocument.fileName] {
            let document: PromptVersionsDocument
            do {
                document = try decoder.decode(PromptVersionsDocument.self, from: data)
            } catch {
                throw Malformed(file: PromptVersionsDocument.fileName, reason: "does not decode: \(error)")
            }
            // One row per trader and version (the key is part of the kind: the table's key is trader, time, kind).
            for row in document.promptVersions {
                guard let trader = row.modelID else { continue }
                performance.append([
                    .text(trader), .int(at), .text("prompt_version:\(row.key)"), .text(try json(row)),
                ])
            }
            counts["performance_snapshots", default: 0] += document.promptVersions.count
        }
        if let document = try decode(.cryptoPrices, CryptoPricesDocument.self) {
            for symbol in document.prices.keys.sorted() {
                guard let price = document.prices[symbol] else { continue }
                assets.append([.text(price.symbol), .double(price.price), .int(price.timestamp)])
            }
            counts["assets", default: 0] += document.prices.count
        }
    }

    package var batches: [RowBatch] { [documents, trades, accounts, performance, assets].filter { !$0.isEmpty } }

    package func write(to database: PostgresDatabase) async throws {
        let batches = self.batches
        guard !batches.isEmpty else { return }
        try await database.transaction("write_snapshot") { connection in
            for batch in batches {
                try await connection.query(batch.query, logger: database.logger)
            }
        }
    }

    package init() {}
}
