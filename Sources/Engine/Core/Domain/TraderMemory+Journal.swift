import Shared

// A cycle's memory writes its own journal bytes, like the rest of the record (CycleRecord+Journal.swift): the
// bytes `JSONEncoder` gives with sorted keys (camel-case keys sort upper-case letters first). `PromptMemoryTests`
// compares both on records with trades, cycles and verdicts.

extension PromptMemory: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("cycles", first: true)
        try writer.array(cycles)
        writer.key("day")
        try writer.value(day)
        writer.key("entryReasons")
        writer.object(entryReasons) { writer, reason in writer.string(reason) }
        writer.key("trades")
        try writer.array(trades)
        writer.key("week")
        try writer.value(week)
        writer.endObject()
    }
}

extension PerformanceWindow: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("netPnL", first: true)
        try writer.double(netPnL)
        writer.key("sharpe")
        try writer.double(sharpe)
        writer.key("trades")
        writer.integer(Int64(trades))
        writer.key("wins")
        writer.integer(Int64(wins))
        writer.endObject()
    }
}

extension RememberedTrade: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("closeReason", first: true)
        writer.string(closeReason)
        writer.key("entryPrice")
        try writer.double(entryPrice)
        if let entryReasoning {
            writer.key("entryReasoning")
            writer.string(entryReasoning)
        }
        writer.key("entryTime")
        writer.integer(entryTime)
        writer.key("exitPrice")
        try writer.double(exitPrice)
        writer.key("exitTime")
        writer.integer(exitTime)
        writer.key("netPnL")
        try writer.double(netPnL)
        writer.key("quantity")
        try writer.double(quantity)
        writer.key("symbol")
        writer.string(symbol)
        writer.endObject()
    }
}

extension RememberedCycle: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("outcome", first: true)
        writer.string(outcome)
        if let reason {
            writer.key("reason")
            writer.string(reason)
        }
        writer.key("time")
        writer.integer(time)
        writer.key("verdicts")
        try writer.array(verdicts.map(VerdictJSON.init))
        writer.endObject()
    }
}

/// A verdict of a remembered cycle as the journal writes it.
private struct VerdictJSON: SortedJSONWritable {
    let verdict: ConversationsDocument.Verdict

    func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("accepted", first: true)
        writer.bool(verdict.accepted)
        writer.key("reasons")
        writer.strings(verdict.reasons)
        writer.key("signal")
        writer.string(verdict.signal)
        writer.key("symbol")
        writer.string(verdict.symbol)
        writer.endObject()
    }
}
