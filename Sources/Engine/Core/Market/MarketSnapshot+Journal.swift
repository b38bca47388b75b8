import Shared

// The journal's bytes of a market snapshot, written directly: the bulk of every record. Keys in the byte order
// `JSONEncoder`'s `.sortedKeys` gives the synthesized conformances; optionals left out when nil, as they do.
// `MarketSnapshotJournalTests` compares both on random snapshots, `JournalTests` on every line of a run.

extension MarketSnapshot: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("symbols", first: true)
        try writer.object(symbols) { writer, symbol in try symbol.writeSortedJSON(to: &writer) }
        writer.key("takenAt")
        writer.integer(takenAt)
        writer.endObject()
    }
}

extension SymbolSnapshot: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("asOf", first: true)
        writer.integer(asOf)
        writer.key("context")
        try writer.value(context)
        writer.key("ema20")
        try writer.double(ema20)
        if let fundingRate {
            writer.key("fundingRate")
            try writer.double(fundingRate)
        }
        writer.key("intraday")
        try writer.value(intraday)
        writer.key("macd")
        try writer.double(macd)
        writer.key("markPrice")
        try writer.double(markPrice)
        if let openInterest {
            writer.key("openInterest")
            try writer.double(openInterest)
        }
        writer.key("price")
        try writer.double(price)
        writer.key("rsi7")
        try writer.double(rsi7)
        writer.key("symbol")
        writer.string(symbol)
        writer.endObject()
    }
}

extension SymbolSnapshot.Series: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("ema20", first: true)
        try writer.doubles(ema20)
        writer.key("macd")
        try writer.doubles(macd)
        writer.key("prices")
        try writer.doubles(prices)
        writer.key("rsi14")
        try writer.doubles(rsi14)
        writer.key("rsi7")
        try writer.doubles(rsi7)
        writer.endObject()
    }
}

extension SymbolSnapshot.Context: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("atr14", first: true)
        try writer.double(atr14)
        writer.key("atr3")
        try writer.double(atr3)
        writer.key("averageVolume")
        try writer.double(averageVolume)
        writer.key("ema20")
        try writer.double(ema20)
        writer.key("ema50")
        try writer.double(ema50)
        writer.key("macd")
        try writer.doubles(macd)
        writer.key("rsi14")
        try writer.doubles(rsi14)
        writer.key("volume")
        try writer.double(volume)
        writer.endObject()
    }
}
