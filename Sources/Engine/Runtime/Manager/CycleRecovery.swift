import ArenaAdapters
import ArenaCore
import Foundation

/// A cycle the engine stopped in while its orders were going out. Before the first order of a live cycle is sent,
/// the record as it stands (prompts, decisions, verdicts, and every order intent with its cloid) is made durable
/// beside the journal (`JournalWriter.writeIntent`); the record itself is appended only once the orders have been
/// answered. A crash in between leaves the intents and no record. At the next start the cycle is completed from
/// what the venue knows of each cloid, and committed under its own number, so every order the venue booked is in
/// the journal and none is sent twice.
package enum CycleRecovery {
    /// The record of `intent` completed at clock time `now`:
    /// - an order the venue knows keeps the venue's result (filled, resting, rejected) and is not sent again;
    /// - the stop and target of an entry that filled, if they never reached the venue, are sent now: a position is
    ///   never left without its protection;
    /// - anything else the venue never saw is not sent (the decision is stale by now); the record says so.
    static func complete(_ intent: CycleRecord, exchange: any ExchangeProvider, now: Int64) async -> CycleRecord {
        var record = intent
        record.results = []
        record.recoveredAt = now
        var filledEntries: Set<String> = []
        var notSent: [String] = []
        var problems: [String] = []
        for order in intent.orders {
            let leg = "\(order.symbol) \(order.kind.rawValue)"
            do {
                if let known = try await exchange.lookup(order) {
                    record.results.append(known)
                    if !order.isReduceOnly, known.status == .filled { filledEntries.insert(order.symbol) }
                } else if order.isProtection, filledEntries.contains(order.symbol) {
                    record.results += try await exchange.submit([order])
                } else {
                    notSent.append(leg)
                }
            } catch {
                problems.append("\(leg): \(error)")
            }
        }
        var notes = ["completed at restart: the engine stopped while this cycle's orders were going out"]
        if !notSent.isEmpty { notes.append("never reached the venue, not sent: \(notSent.joined(separator: ", "))") }
        if !problems.isEmpty { notes.append("outcome unknown: \(problems.joined(separator: "; "))") }
        record.error = ([intent.error].compactMap { $0 } + notes).joined(separator: "; ")
        record.endedAt = max(intent.endedAt, now)
        return record
    }
}

extension OrderRequest {
    /// A position's stop or target: reduce-only triggers placed after its entry filled.
    var isProtection: Bool { isReduceOnly && (kind == .stopLoss || kind == .takeProfit) }
}
