import Foundation
import Shared

// A cycle record writes its own journal bytes: byte for byte what its `Encodable` conformance gives through
// `JSONEncoder` with sorted keys and unescaped slashes (keys in the order of their UTF-8 bytes, absent optionals
// left out, empty lists written). `JournalTests` and `DomainJournalTests` compare both on real and random records.

extension CycleRecord: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        try writeSortedJSON(to: &writer, continuing: nil)
    }

    /// The record, its market's series written as continuations of `previous`'s where they continue them
    /// (`MarketContinuation`; the trader's newest earlier market in its journal file).
    package func writeSortedJSON(to writer: inout SortedJSONWriter, continuing previous: MarketSnapshot?) throws {
        writer.beginObject()
        var first = true
        func key(_ name: StaticString) {
            writer.key(name, first: first)
            first = false
        }
        if let account {
            key("account")
            try writer.value(account)
        }
        key("attempts")
        try writer.array(attempts)
        key("cache_hit")
        writer.bool(isCacheHit)
        key("completion_tokens")
        writer.integer(Int64(completionTokens))
        if let consensus {
            key("consensus")
            try writer.encodable(consensus)
        }
        key("cost_usd")
        try writer.double(costUSD)
        key("cycle")
        writer.integer(Int64(cycle))
        key("cycle_id")
        writer.string(cycleID)
        key("decisions")
        let decisionsStart = writer.bytes.count
        try writer.array(decisions)
        let decisionsBytes = decisionsStart..<writer.bytes.count
        key("ended_at")
        writer.integer(endedAt)
        if let entryRecheck {
            key("entry_recheck")
            try writer.value(entryRecheck)
        }
        if let error {
            key("error")
            writer.string(error)
        }
        if let inputs {
            key("inputs")
            try writer.value(inputs)
        }
        key("latency_ms")
        writer.integer(latencyMilliseconds)
        if let market {
            key("market")
            try market.writeSortedJSON(to: &writer, continuing: previous)
        }
        if let modelAnswered {
            key("model_answered")
            writer.string(modelAnswered)
        }
        key("model_asked")
        writer.string(modelAsked)
        key("orders")
        try writer.array(orders)
        if let origin {
            key("origin")
            writer.string(origin.rawValue)
        }
        key("outcome")
        writer.string(outcome.rawValue)
        if let promptDigest {
            key("prompt_digest")
            writer.string(promptDigest)
        }
        key("prompt_tokens")
        writer.integer(Int64(promptTokens))
        if let promptsSkipped {
            key("prompts_skipped")
            writer.bool(promptsSkipped)
        }
        if let providerModel {
            key("provider_model")
            writer.string(providerModel)
        }
        if let rawAnswer {
            key("raw_answer")
            if case .decisions(let answered) = rawAnswer, answered.isSameArray(as: decisions) {
                // An in-process policy's answer of these very decisions (the same array, so the same bits): its
                // text wraps the bytes just written for them rather than writing them again.
                writer.string(AnswerText.text(ofWritten: writer.bytes[decisionsBytes]))
            } else {
                writer.string(rawAnswer.text)
            }
        }
        if let reason {
            key("reason")
            writer.string(reason.rawValue)
        }
        if let recheckAccount {
            key("recheck_account")
            try writer.value(recheckAccount)
        }
        if let recoveredAt {
            key("recovered_at")
            writer.integer(recoveredAt)
        }
        if let rejectedAnswer {
            key("rejected_answer")
            writer.string(rejectedAnswer)
        }
        key("results")
        try writer.array(results)
        if let route {
            key("route")
            writer.string(route.rawValue)
        }
        key("schema_version")
        writer.integer(Int64(schemaVersion))
        key("started_at")
        writer.integer(startedAt)
        if let systemPrompt {
            key("system_prompt")
            writer.string(systemPrompt)
        }
        key("templates")
        try writer.array(templates)
        key("trader_id")
        writer.string(traderID)
        if let userPrompt {
            key("user_prompt")
            writer.string(userPrompt)
        }
        key("verdicts")
        try writer.array(verdicts)
        writer.endObject()
    }
}

extension LLMAttempt: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("completion_tokens", first: true)
        writer.integer(Int64(completionTokens))
        writer.key("cost_usd")
        try writer.double(costUSD)
        if let error {
            writer.key("error")
            writer.string(error)
        }
        writer.key("latency_ms")
        writer.integer(latencyMilliseconds)
        writer.key("model")
        writer.string(model)
        writer.key("outcome")
        writer.string(outcome)
        writer.key("prompt_tokens")
        writer.integer(Int64(promptTokens))
        writer.key("route")
        writer.string(route.rawValue)
        writer.endObject()
    }
}

extension RiskVerdict: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("accepted", first: true)
        writer.bool(isAccepted)
        writer.key("reasons")
        writer.strings(reasons.map(\.rawValue))
        writer.key("signal")
        writer.string(signal.rawValue)
        writer.key("symbol")
        writer.string(symbol)
        writer.endObject()
    }
}

extension OrderRequest: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("cloid", first: true)
        writer.string(cloid)
        writer.key("isBuy")
        writer.bool(isBuy)
        writer.key("isReduceOnly")
        writer.bool(isReduceOnly)
        writer.key("kind")
        writer.string(kind.rawValue)
        writer.key("leverage")
        try writer.double(leverage)
        if let limitPrice {
            writer.key("limitPrice")
            try writer.double(limitPrice)
        }
        if let plan {
            writer.key("plan")
            try writer.value(plan)
        }
        writer.key("size")
        try writer.double(size)
        writer.key("slippageBps")
        try writer.double(slippageBps)
        writer.key("symbol")
        writer.string(symbol)
        writer.key("trader")
        writer.string(trader)
        if let triggerPrice {
            writer.key("triggerPrice")
            try writer.double(triggerPrice)
        }
        writer.endObject()
    }
}

extension OrderRequest.EntryPlan: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("confidence", first: true)
        try writer.double(confidence)
        writer.key("invalidationCondition")
        writer.string(invalidationCondition)
        writer.key("riskUSD")
        try writer.double(riskUSD)
        if let stopLoss {
            writer.key("stopLoss")
            try writer.double(stopLoss)
        }
        if let takeProfit {
            writer.key("takeProfit")
            try writer.double(takeProfit)
        }
        writer.endObject()
    }
}

extension OrderResult: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("averagePrice", first: true)
        try writer.double(averagePrice)
        writer.key("cloid")
        writer.string(cloid)
        writer.key("fee")
        try writer.double(fee)
        writer.key("filledSize")
        try writer.double(filledSize)
        if let message {
            writer.key("message")
            writer.string(message)
        }
        writer.key("orderID")
        writer.integer(orderID)
        if let reason {
            writer.key("reason")
            writer.string(reason.rawValue)
        }
        writer.key("status")
        writer.string(status.rawValue)
        writer.endObject()
    }
}

extension TemplateStamp: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("digest", first: true)
        writer.string(digest)
        writer.key("id")
        writer.string(id)
        writer.key("version")
        writer.string(version)
        writer.endObject()
    }
}

extension EntryRecheck: SortedJSONWritable {
    package func writeSortedJSON(to writer: inout SortedJSONWriter) throws {
        writer.beginObject()
        writer.key("at", first: true)
        writer.integer(at)
        writer.key("inputs")
        try writer.value(inputs)
        writer.key("prices")
        try writer.object(prices) { writer, price in try writer.double(price) }
        writer.endObject()
    }
}
