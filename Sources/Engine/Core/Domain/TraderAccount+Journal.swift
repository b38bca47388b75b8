import Shared

// The journal's bytes of an account (a record holds one or two), a cycle's inputs and a decision, written directly. Keys
// in the byte order `JSONEncoder`'s `.sortedKeys` gives the synthesized conformances (upper case sorts before
// lower case: `entryFee`, `entryOrderID`, `entryPrice`); optionals left out when nil. `DomainJournalTests`
// compares both on random values, `JournalTests` on every line of a run.

extension TraderAccount: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("cash", first: true)
        try writer.double(cash)
        writer.key("feesPaid")
        try writer.double(feesPaid)
        writer.key("positions")
        try writer.object(positions) { writer, position in try writer.value(position) }
        writer.key("realizedPnL")
        try writer.double(realizedPnL)
        writer.endObject()
    }
}

extension Position: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("confidence", first: true)
        try writer.double(confidence)
        writer.key("entryFee")
        try writer.double(entryFee)
        writer.key("entryOrderID")
        writer.integer(entryOrderID)
        writer.key("entryPrice")
        try writer.double(entryPrice)
        writer.key("fundingPaid")
        try writer.double(fundingPaid)
        writer.key("invalidationCondition")
        writer.string(invalidationCondition)
        writer.key("leverage")
        try writer.double(leverage)
        writer.key("liquidationPrice")
        try writer.double(liquidationPrice)
        writer.key("margin")
        try writer.double(margin)
        writer.key("markPrice")
        try writer.double(markPrice)
        writer.key("openedAt")
        writer.integer(openedAt)
        writer.key("quantity")
        try writer.double(quantity)
        writer.key("riskUSD")
        try writer.double(riskUSD)
        if let stopLoss {
            writer.key("stopLoss")
            try writer.double(stopLoss)
        }
        if let stopOrderID {
            writer.key("stopOrderID")
            writer.integer(stopOrderID)
        }
        writer.key("symbol")
        writer.string(symbol)
        if let takeProfit {
            writer.key("takeProfit")
            try writer.double(takeProfit)
        }
        if let takeProfitOrderID {
            writer.key("takeProfitOrderID")
            writer.integer(takeProfitOrderID)
        }
        writer.endObject()
    }
}

extension CycleInputs: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("cooldownUntil", first: true)
        writer.object(cooldownUntil) { writer, until in writer.integer(until) }
        writer.key("inceptionCapital")
        try writer.double(inceptionCapital)
        writer.key("invocationCount")
        writer.integer(Int64(invocationCount))
        writer.key("isDailyLossLimitHit")
        writer.bool(isDailyLossLimitHit)
        writer.key("isDrawdownLimitHit")
        writer.bool(isDrawdownLimitHit)
        writer.key("isPaused")
        writer.bool(isPaused)
        if let memory {
            writer.key("memory")
            try writer.value(memory)
        }
        writer.key("sharpe")
        try writer.double(sharpe)
        writer.key("startedAt")
        writer.integer(startedAt)
        writer.key("takerFeeRate")
        try writer.double(takerFeeRate)
        if let unprotectedSymbols {
            writer.key("unprotectedSymbols")
            writer.strings(unprotectedSymbols)
        }
        writer.endObject()
    }
}

extension Decision: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("confidence", first: true)
        try writer.double(confidence)
        if let invalidationCondition {
            writer.key("invalidation_condition")
            writer.string(invalidationCondition)
        }
        if let leverage {
            writer.key("leverage")
            writer.integer(Int64(leverage))
        }
        if let positionSizeUSD {
            writer.key("position_size_usd")
            try writer.double(positionSizeUSD)
        }
        if let reasoning {
            writer.key("reasoning")
            writer.string(reasoning)
        }
        if let riskUSD {
            writer.key("risk_usd")
            try writer.double(riskUSD)
        }
        writer.key("signal")
        writer.string(signal.rawValue)
        if let stopLoss {
            writer.key("stop_loss")
            try writer.double(stopLoss)
        }
        writer.key("symbol")
        writer.string(symbol)
        if let takeProfit {
            writer.key("take_profit")
            try writer.double(takeProfit)
        }
        writer.endObject()
    }
}
