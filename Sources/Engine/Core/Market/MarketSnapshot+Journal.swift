import Shared

// The journal's bytes of a market snapshot, written directly: the bulk of every record. Keys in the byte order
// `JSONEncoder`'s `.sortedKeys` gives the synthesized conformances; optionals left out when nil, as they do.
// `MarketSnapshotJournalTests` compares both on random snapshots, `JournalTests` on every line of a run.
//
// Written against the record before it (`continuing:`, a backtest's journal), a series that repeats most of the
// previous snapshot's same series is written as `{"append":[…],"shift":k}` — that series with its first k values
// dropped and these appended (`MarketContinuation`) — instead of all of its values.

extension MarketSnapshot: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        try writeSortedJSON(to: &writer, continuing: nil)
    }

    /// The snapshot, each series that continues `previous`'s same series of the same symbol written as that
    /// continuation. Without `previous`, the plain form.
    package func writeSortedJSON(to writer: inout SortedJSONWriter, continuing previous: MarketSnapshot?) throws {
        writer.beginObject()
        writer.key("symbols", first: true)
        try writer.object(keys: Array(symbols.keys)) { writer, key in
            try symbols[key]?.writeSortedJSON(to: &writer, continuing: previous?.symbols[key])
        }
        writer.key("takenAt")
        writer.integer(takenAt)
        writer.endObject()
    }
}

extension SymbolSnapshot: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        try writeSortedJSON(to: &writer, continuing: nil)
    }

    func writeSortedJSON(to writer: inout SortedJSONWriter, continuing previous: SymbolSnapshot?) throws {
        writer.beginObject()
        writer.key("asOf", first: true)
        writer.integer(asOf)
        writer.key("context")
        try context.writeSortedJSON(to: &writer, continuing: previous?.context)
        writer.key("ema20")
        try writer.double(ema20)
        if let fundingRate {
            writer.key("fundingRate")
            try writer.double(fundingRate)
        }
        writer.key("intraday")
        try intraday.writeSortedJSON(to: &writer, continuing: previous?.intraday)
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
        try writeSortedJSON(to: &writer, continuing: nil)
    }

    func writeSortedJSON(to writer: inout SortedJSONWriter, continuing previous: Self?) throws {
        writer.beginObject()
        writer.key("ema20", first: true)
        try writer.series(ema20, continuing: previous?.ema20)
        writer.key("macd")
        try writer.series(macd, continuing: previous?.macd)
        writer.key("prices")
        try writer.series(prices, continuing: previous?.prices)
        writer.key("rsi14")
        try writer.series(rsi14, continuing: previous?.rsi14)
        writer.key("rsi7")
        try writer.series(rsi7, continuing: previous?.rsi7)
        writer.endObject()
    }
}

extension SymbolSnapshot.Context: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        try writeSortedJSON(to: &writer, continuing: nil)
    }

    func writeSortedJSON(to writer: inout SortedJSONWriter, continuing previous: Self?) throws {
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
        try writer.series(macd, continuing: previous?.macd)
        writer.key("rsi14")
        try writer.series(rsi14, continuing: previous?.rsi14)
        writer.key("volume")
        try writer.double(volume)
        writer.endObject()
    }
}

extension SortedJSONWriter {
    /// `values`, or — when they continue `previous` (`MarketContinuation.shift`) — `{"append":[…],"shift":k}`.
    fileprivate mutating func series(_ values: [Double], continuing previous: [Double]?) throws {
        guard let previous, let shift = MarketContinuation.shift(from: previous, to: values) else {
            return try doubles(values)
        }
        beginObject()
        key("append", first: true)
        try doubles(values[(previous.count - shift)...])
        key("shift")
        integer(Int64(shift))
        endObject()
    }
}
