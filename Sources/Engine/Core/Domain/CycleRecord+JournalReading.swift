import Foundation
import Shared

// A journal line read back without `JSONDecoder`: each type reads the keys its `Decodable` conformance reads, with
// the same keys required and the same defaults for absent ones (`CycleRecord.init(from:)`), and skips keys it does
// not know, as the decoder does. The rare part, a consensus, goes through `JSONDecoder` on its bytes.
// `JournalReadingTests` and the journal tests read random and real records both ways and compare.

extension CycleRecord: JSONByteReadable {
    /// A record that stands alone (an intent, a record written whole): one with continued market series throws.
    package init(reading reader: inout JSONByteReader) throws {
        var continuation = MarketContinuation()
        try self.init(reading: &reader, continuation: &continuation)
        try continuation.refuse()
    }

    /// A line of a trader's journal, with the market series it continues from the record before it (resolved by
    /// `MarketChain` in the journal's order).
    package static func readLine(from data: Data) throws -> (record: CycleRecord, continuation: MarketContinuation) {
        try data.withUnsafeBytes { bytes in
            var reader = JSONByteReader(bytes)
            var continuation = MarketContinuation()
            let record = try CycleRecord(reading: &reader, continuation: &continuation)
            try reader.finish()
            return (record, continuation)
        }
    }

    init(reading reader: inout JSONByteReader, continuation: inout MarketContinuation) throws {
        var schemaVersion: Int?
        var traderID: String?
        var cycle: Int?
        var cycleID: String?
        var startedAt: Int64?
        var endedAt: Int64?
        var outcome: Outcome?
        var modelAsked: String?
        var record = CycleRecord(
            traderID: "",
            cycle: 0,
            cycleID: "",
            startedAt: 0,
            endedAt: 0,
            outcome: .completed,
            modelAsked: ""
        )
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "schema_version": schemaVersion = try reader.int()
            case "trader_id": traderID = try reader.string()
            case "cycle": cycle = try reader.int()
            case "cycle_id": cycleID = try reader.string()
            case "started_at": startedAt = try reader.integer()
            case "ended_at": endedAt = try reader.integer()
            case "outcome": outcome = try reader.rawValue(Outcome.self)
            case "model_asked": modelAsked = try reader.string()
            case "reason": record.reason = try reader.null() ? nil : reader.rawValue(ReasonCode.self)
            case "error": record.error = try reader.optionalString()
            case "model_answered": record.modelAnswered = try reader.optionalString()
            case "provider_model": record.providerModel = try reader.optionalString()
            case "route": record.route = try reader.null() ? nil : reader.rawValue(ModelRoute.self)
            case "attempts": record.attempts = try reader.null() ? [] : reader.array(of: LLMAttempt.self)
            case "cache_hit": record.isCacheHit = try reader.optionalBool() ?? false
            case "cost_usd": record.costUSD = try reader.optionalDouble() ?? 0
            case "rejected_answer": record.rejectedAnswer = try reader.optionalString()
            case "system_prompt": record.systemPrompt = try reader.optionalString()
            case "user_prompt": record.userPrompt = try reader.optionalString()
            case "prompt_digest": record.promptDigest = try reader.optionalString()
            case "prompts_skipped": record.promptsSkipped = try reader.optionalBool()
            case "raw_answer": record.rawAnswer = try reader.optionalString().map(AnswerText.text)
            case "prompt_tokens": record.promptTokens = reader.null() ? 0 : try reader.int()
            case "completion_tokens": record.completionTokens = reader.null() ? 0 : try reader.int()
            case "latency_ms": record.latencyMilliseconds = try reader.optionalInteger() ?? 0
            case "market":
                record.market = try reader.null() ? nil : MarketSnapshot(reading: &reader, continuation: &continuation)
            case "account": record.account = try reader.null() ? nil : TraderAccount(reading: &reader)
            case "decisions": record.decisions = try reader.null() ? [] : reader.array(of: Decision.self)
            case "verdicts": record.verdicts = try reader.null() ? [] : reader.array(of: RiskVerdict.self)
            case "orders": record.orders = try reader.null() ? [] : reader.array(of: OrderRequest.self)
            case "results": record.results = try reader.null() ? [] : reader.array(of: OrderResult.self)
            case "inputs": record.inputs = try reader.null() ? nil : CycleInputs(reading: &reader)
            case "recheck_account": record.recheckAccount = try reader.null() ? nil : TraderAccount(reading: &reader)
            case "entry_recheck": record.entryRecheck = try reader.null() ? nil : EntryRecheck(reading: &reader)
            case "templates": record.templates = try reader.null() ? [] : reader.array(of: TemplateStamp.self)
            case "recovered_at": record.recoveredAt = try reader.optionalInteger()
            case "origin": record.origin = try reader.null() ? nil : reader.rawValue(Origin.self)
            case "consensus": record.consensus = try reader.null() ? nil : reader.decoded(ConsensusRecord.self)
            default: try reader.skipValue()
            }
        }
        let type = "CycleRecord"
        record.schemaVersion = try reader.required(schemaVersion, "schema_version", in: type)
        record.traderID = try reader.required(traderID, "trader_id", in: type)
        record.cycle = try reader.required(cycle, "cycle", in: type)
        record.cycleID = try reader.required(cycleID, "cycle_id", in: type)
        record.startedAt = try reader.required(startedAt, "started_at", in: type)
        record.endedAt = try reader.required(endedAt, "ended_at", in: type)
        record.outcome = try reader.required(outcome, "outcome", in: type)
        record.modelAsked = try reader.required(modelAsked, "model_asked", in: type)
        self = record
    }
}

extension MarketContinuation {
    /// Throws when any series is continued (a reader that cannot resolve them).
    func refuse() throws {
        guard let (symbol, shifts) = shifts.min(by: { $0.key < $1.key }),
            let series = shifts.keys.map(\.rawValue).min()
        else { return }
        throw Failure.nothingToContinue(symbol: symbol, series: series)
    }
}

extension MarketSnapshot: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var continuation = MarketContinuation()
        try self.init(reading: &reader, continuation: &continuation)
        try continuation.refuse()
    }

    init(reading reader: inout JSONByteReader, continuation: inout MarketContinuation) throws {
        var takenAt: Int64?
        var symbols: [String: SymbolSnapshot]?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "takenAt": takenAt = try reader.integer()
            case "symbols":
                var table: [String: SymbolSnapshot] = [:]
                try reader.beginObject()
                while let symbol = try reader.nextKey() {
                    var shifts: [MarketContinuation.Series: Int] = [:]
                    table[symbol.string] = try SymbolSnapshot(reading: &reader, shifts: &shifts)
                    if !shifts.isEmpty { continuation.shifts[symbol.string] = shifts }
                }
                symbols = table
            default: try reader.skipValue()
            }
        }
        self.init(
            takenAt: try reader.required(takenAt, "takenAt", in: "MarketSnapshot"),
            symbols: try reader.required(symbols, "symbols", in: "MarketSnapshot")
        )
    }
}

extension SymbolSnapshot {
    /// Read as part of a market snapshot: a continued series' shift goes to `shifts`.
    init(reading reader: inout JSONByteReader, shifts: inout [MarketContinuation.Series: Int]) throws {
        var symbol: String?
        var asOf: Int64?
        var price: Double?
        var markPrice: Double?
        var fundingRate: Double?
        var openInterest: Double?
        var ema20: Double?
        var macd: Double?
        var rsi7: Double?
        var intraday: Series?
        var context: Context?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "symbol": symbol = try reader.string()
            case "asOf": asOf = try reader.integer()
            case "price": price = try reader.double()
            case "markPrice": markPrice = try reader.double()
            case "fundingRate": fundingRate = try reader.optionalDouble()
            case "openInterest": openInterest = try reader.optionalDouble()
            case "ema20": ema20 = try reader.double()
            case "macd": macd = try reader.double()
            case "rsi7": rsi7 = try reader.double()
            case "intraday": intraday = try Series(reading: &reader, shifts: &shifts)
            case "context": context = try Context(reading: &reader, shifts: &shifts)
            default: try reader.skipValue()
            }
        }
        let type = "SymbolSnapshot"
        self.init(
            symbol: try reader.required(symbol, "symbol", in: type),
            asOf: try reader.required(asOf, "asOf", in: type),
            price: try reader.required(price, "price", in: type),
            markPrice: try reader.required(markPrice, "markPrice", in: type),
            fundingRate: fundingRate,
            openInterest: openInterest,
            ema20: try reader.required(ema20, "ema20", in: type),
            macd: try reader.required(macd, "macd", in: type),
            rsi7: try reader.required(rsi7, "rsi7", in: type),
            intraday: try reader.required(intraday, "intraday", in: type),
            context: try reader.required(context, "context", in: type)
        )
    }
}

extension SymbolSnapshot.Series {
    /// Read as part of a market snapshot: a continued series' shift goes to `shifts`.
    init(reading reader: inout JSONByteReader, shifts: inout [MarketContinuation.Series: Int]) throws {
        var prices: [Double]?
        var ema20: [Double]?
        var macd: [Double]?
        var rsi7: [Double]?
        var rsi14: [Double]?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "prices": prices = try reader.series(.prices, shifts: &shifts)
            case "ema20": ema20 = try reader.series(.ema20, shifts: &shifts)
            case "macd": macd = try reader.series(.macd, shifts: &shifts)
            case "rsi7": rsi7 = try reader.series(.rsi7, shifts: &shifts)
            case "rsi14": rsi14 = try reader.series(.rsi14, shifts: &shifts)
            default: try reader.skipValue()
            }
        }
        let type = "Series"
        self.init(
            prices: try reader.required(prices, "prices", in: type),
            ema20: try reader.required(ema20, "ema20", in: type),
            macd: try reader.required(macd, "macd", in: type),
            rsi7: try reader.required(rsi7, "rsi7", in: type),
            rsi14: try reader.required(rsi14, "rsi14", in: type)
        )
    }
}

extension SymbolSnapshot.Context {
    /// Read as part of a market snapshot: a continued series' shift goes to `shifts`.
    init(reading reader: inout JSONByteReader, shifts: inout [MarketContinuation.Series: Int]) throws {
        var ema20: Double?
        var ema50: Double?
        var atr3: Double?
        var atr14: Double?
        var volume: Double?
        var averageVolume: Double?
        var macd: [Double]?
        var rsi14: [Double]?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "ema20": ema20 = try reader.double()
            case "ema50": ema50 = try reader.double()
            case "atr3": atr3 = try reader.double()
            case "atr14": atr14 = try reader.double()
            case "volume": volume = try reader.double()
            case "averageVolume": averageVolume = try reader.double()
            case "macd": macd = try reader.series(.contextMacd, shifts: &shifts)
            case "rsi14": rsi14 = try reader.series(.contextRSI14, shifts: &shifts)
            default: try reader.skipValue()
            }
        }
        let type = "Context"
        self.init(
            ema20: try reader.required(ema20, "ema20", in: type),
            ema50: try reader.required(ema50, "ema50", in: type),
            atr3: try reader.required(atr3, "atr3", in: type),
            atr14: try reader.required(atr14, "atr14", in: type),
            volume: try reader.required(volume, "volume", in: type),
            averageVolume: try reader.required(averageVolume, "averageVolume", in: type),
            macd: try reader.required(macd, "macd", in: type),
            rsi14: try reader.required(rsi14, "rsi14", in: type)
        )
    }
}

extension TraderAccount: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var cash: Double?
        var positions: [String: Position]?
        var realizedPnL: Double?
        var feesPaid: Double?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "cash": cash = try reader.double()
            case "realizedPnL": realizedPnL = try reader.double()
            case "feesPaid": feesPaid = try reader.double()
            case "positions":
                var table: [String: Position] = [:]
                try reader.beginObject()
                while let symbol = try reader.nextKey() { table[symbol.string] = try Position(reading: &reader) }
                positions = table
            default: try reader.skipValue()
            }
        }
        let type = "TraderAccount"
        self.init(
            cash: try reader.required(cash, "cash", in: type),
            positions: try reader.required(positions, "positions", in: type),
            realizedPnL: try reader.required(realizedPnL, "realizedPnL", in: type),
            feesPaid: try reader.required(feesPaid, "feesPaid", in: type)
        )
    }
}

extension Position: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var symbol: String?
        var invalidationCondition: String?
        var quantity: Double?
        var entryPrice: Double?
        var leverage: Double?
        var margin: Double?
        var liquidationPrice: Double?
        var markPrice: Double?
        var confidence: Double?
        var riskUSD: Double?
        var entryFee: Double?
        var fundingPaid: Double?
        var openedAt: Int64?
        var entryOrderID: Int64?
        var stopLoss: Double?
        var takeProfit: Double?
        var stopOrderID: Int64?
        var takeProfitOrderID: Int64?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "symbol": symbol = try reader.string()
            case "invalidationCondition": invalidationCondition = try reader.string()
            case "stopLoss": stopLoss = try reader.optionalDouble()
            case "takeProfit": takeProfit = try reader.optionalDouble()
            case "stopOrderID": stopOrderID = try reader.optionalInteger()
            case "takeProfitOrderID": takeProfitOrderID = try reader.optionalInteger()
            case "openedAt": openedAt = try reader.integer()
            case "entryOrderID": entryOrderID = try reader.integer()
            case "quantity": quantity = try reader.double()
            case "entryPrice": entryPrice = try reader.double()
            case "leverage": leverage = try reader.double()
            case "margin": margin = try reader.double()
            case "liquidationPrice": liquidationPrice = try reader.double()
            case "markPrice": markPrice = try reader.double()
            case "confidence": confidence = try reader.double()
            case "riskUSD": riskUSD = try reader.double()
            case "entryFee": entryFee = try reader.double()
            case "fundingPaid": fundingPaid = try reader.double()
            default: try reader.skipValue()
            }
        }
        let type = "Position"
        self.init(
            symbol: try reader.required(symbol, "symbol", in: type),
            quantity: try reader.required(quantity, "quantity", in: type),
            entryPrice: try reader.required(entryPrice, "entryPrice", in: type),
            leverage: try reader.required(leverage, "leverage", in: type),
            margin: try reader.required(margin, "margin", in: type),
            liquidationPrice: try reader.required(liquidationPrice, "liquidationPrice", in: type),
            markPrice: try reader.required(markPrice, "markPrice", in: type),
            stopLoss: stopLoss,
            takeProfit: takeProfit,
            openedAt: try reader.required(openedAt, "openedAt", in: type),
            entryOrderID: try reader.required(entryOrderID, "entryOrderID", in: type),
            stopOrderID: stopOrderID,
            takeProfitOrderID: takeProfitOrderID,
            confidence: try reader.required(confidence, "confidence", in: type),
            riskUSD: try reader.required(riskUSD, "riskUSD", in: type),
            invalidationCondition: try reader.required(invalidationCondition, "invalidationCondition", in: type),
            entryFee: try reader.required(entryFee, "entryFee", in: type),
            fundingPaid: try reader.required(fundingPaid, "fundingPaid", in: type)
        )
    }
}

extension Decision: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var symbol: String?
        var signal: Signal?
        var confidence: Double?
        var decision = Decision(symbol: "", signal: .hold, confidence: 0)
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "symbol": symbol = try reader.string()
            case "signal": signal = try reader.rawValue(Signal.self)
            case "confidence": confidence = try reader.double()
            case "leverage": decision.leverage = try reader.optionalInteger().map { Int($0) }
            case "position_size_usd": decision.positionSizeUSD = try reader.optionalDouble()
            case "stop_loss": decision.stopLoss = try reader.optionalDouble()
            case "take_profit": decision.takeProfit = try reader.optionalDouble()
            case "risk_usd": decision.riskUSD = try reader.optionalDouble()
            case "invalidation_condition": decision.invalidationCondition = try reader.optionalString()
            case "reasoning": decision.reasoning = try reader.optionalString()
            default: try reader.skipValue()
            }
        }
        decision.symbol = try reader.required(symbol, "symbol", in: "Decision")
        decision.signal = try reader.required(signal, "signal", in: "Decision")
        decision.confidence = try reader.required(confidence, "confidence", in: "Decision")
        self = decision
    }
}

extension RiskVerdict: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var symbol: String?
        var signal: Decision.Signal?
        var isAccepted: Bool?
        var reasons: [ReasonCode]?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "symbol": symbol = try reader.string()
            case "signal": signal = try reader.rawValue(Decision.Signal.self)
            case "accepted": isAccepted = try reader.bool()
            case "reasons":
                var codes: [ReasonCode] = []
                try reader.beginArray()
                while try reader.nextElement() { codes.append(try reader.rawValue(ReasonCode.self)) }
                reasons = codes
            default: try reader.skipValue()
            }
        }
        let type = "RiskVerdict"
        self.init(
            symbol: try reader.required(symbol, "symbol", in: type),
            signal: try reader.required(signal, "signal", in: type),
            isAccepted: try reader.required(isAccepted, "accepted", in: type),
            reasons: try reader.required(reasons, "reasons", in: type)
        )
    }
}

extension LLMAttempt: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var model: String?
        var route: ModelRoute?
        var outcome: String?
        var error: String?
        var latency: Int64?
        var promptTokens: Int?
        var completionTokens: Int?
        var cost: Double?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "model": model = try reader.string()
            case "route": route = try reader.rawValue(ModelRoute.self)
            case "outcome": outcome = try reader.string()
            case "error": error = try reader.optionalString()
            case "latency_ms": latency = try reader.integer()
            case "prompt_tokens": promptTokens = try reader.int()
            case "completion_tokens": completionTokens = try reader.int()
            case "cost_usd": cost = try reader.double()
            default: try reader.skipValue()
            }
        }
        let type = "LLMAttempt"
        self.init(
            model: try reader.required(model, "model", in: type),
            route: try reader.required(route, "route", in: type),
            outcome: try reader.required(outcome, "outcome", in: type),
            error: error,
            latencyMilliseconds: try reader.required(latency, "latency_ms", in: type),
            promptTokens: try reader.required(promptTokens, "prompt_tokens", in: type),
            completionTokens: try reader.required(completionTokens, "completion_tokens", in: type),
            costUSD: try reader.required(cost, "cost_usd", in: type)
        )
    }
}

extension OrderRequest: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var cloid: String?
        var trader: String?
        var symbol: String?
        var isBuy: Bool?
        var size: Double?
        var kind: Kind?
        var limitPrice: Double?
        var triggerPrice: Double?
        var slippageBps: Double?
        var isReduceOnly: Bool?
        var leverage: Double?
        var plan: EntryPlan?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "cloid": cloid = try reader.string()
            case "trader": trader = try reader.string()
            case "symbol": symbol = try reader.string()
            case "isBuy": isBuy = try reader.bool()
            case "size": size = try reader.double()
            case "kind": kind = try reader.rawValue(Kind.self)
            case "limitPrice": limitPrice = try reader.optionalDouble()
            case "triggerPrice": triggerPrice = try reader.optionalDouble()
            case "slippageBps": slippageBps = try reader.double()
            case "isReduceOnly": isReduceOnly = try reader.bool()
            case "leverage": leverage = try reader.double()
            case "plan": plan = try reader.null() ? nil : EntryPlan(reading: &reader)
            default: try reader.skipValue()
            }
        }
        let type = "OrderRequest"
        self.init(
            cloid: try reader.required(cloid, "cloid", in: type),
            trader: try reader.required(trader, "trader", in: type),
            symbol: try reader.required(symbol, "symbol", in: type),
            isBuy: try reader.required(isBuy, "isBuy", in: type),
            size: try reader.required(size, "size", in: type),
            kind: try reader.required(kind, "kind", in: type),
            limitPrice: limitPrice,
            triggerPrice: triggerPrice,
            slippageBps: try reader.required(slippageBps, "slippageBps", in: type),
            isReduceOnly: try reader.required(isReduceOnly, "isReduceOnly", in: type),
            leverage: try reader.required(leverage, "leverage", in: type),
            plan: plan
        )
    }
}

extension OrderRequest.EntryPlan: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var stopLoss: Double?
        var takeProfit: Double?
        var confidence: Double?
        var riskUSD: Double?
        var invalidationCondition: String?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "stopLoss": stopLoss = try reader.optionalDouble()
            case "takeProfit": takeProfit = try reader.optionalDouble()
            case "confidence": confidence = try reader.double()
            case "riskUSD": riskUSD = try reader.double()
            case "invalidationCondition": invalidationCondition = try reader.string()
            default: try reader.skipValue()
            }
        }
        let type = "EntryPlan"
        self.init(
            stopLoss: stopLoss,
            takeProfit: takeProfit,
            confidence: try reader.required(confidence, "confidence", in: type),
            riskUSD: try reader.required(riskUSD, "riskUSD", in: type),
            invalidationCondition: try reader.required(invalidationCondition, "invalidationCondition", in: type)
        )
    }
}

extension OrderResult: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var cloid: String?
        var status: Status?
        var orderID: Int64?
        var filledSize: Double?
        var averagePrice: Double?
        var fee: Double?
        var reason: ReasonCode?
        var message: String?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "cloid": cloid = try reader.string()
            case "status": status = try reader.rawValue(Status.self)
            case "orderID": orderID = try reader.integer()
            case "filledSize": filledSize = try reader.double()
            case "averagePrice": averagePrice = try reader.double()
            case "fee": fee = try reader.double()
            case "reason": reason = try reader.null() ? nil : reader.rawValue(ReasonCode.self)
            case "message": message = try reader.optionalString()
            default: try reader.skipValue()
            }
        }
        let type = "OrderResult"
        self.init(
            cloid: try reader.required(cloid, "cloid", in: type),
            status: try reader.required(status, "status", in: type),
            orderID: try reader.required(orderID, "orderID", in: type),
            filledSize: try reader.required(filledSize, "filledSize", in: type),
            averagePrice: try reader.required(averagePrice, "averagePrice", in: type),
            fee: try reader.required(fee, "fee", in: type),
            reason: reason,
            message: message
        )
    }
}

extension CycleInputs: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var startedAt: Int64?
        var inceptionCapital: Double?
        var invocationCount: Int?
        var sharpe: Double?
        var cooldownUntil: [String: Int64]?
        var isPaused: Bool?
        var isDailyLossLimitHit: Bool?
        var isDrawdownLimitHit: Bool?
        var takerFeeRate: Double?
        var unprotectedSymbols: [String]?
        var memory: PromptMemory?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "startedAt": startedAt = try reader.integer()
            case "inceptionCapital": inceptionCapital = try reader.double()
            case "invocationCount": invocationCount = try reader.int()
            case "sharpe": sharpe = try reader.double()
            case "cooldownUntil":
                var table: [String: Int64] = [:]
                try reader.beginObject()
                while let symbol = try reader.nextKey() { table[symbol.string] = try reader.integer() }
                cooldownUntil = table
            case "isPaused": isPaused = try reader.bool()
            case "isDailyLossLimitHit": isDailyLossLimitHit = try reader.bool()
            case "isDrawdownLimitHit": isDrawdownLimitHit = try reader.bool()
            case "takerFeeRate": takerFeeRate = try reader.double()
            case "unprotectedSymbols": unprotectedSymbols = try reader.null() ? nil : reader.strings()
            case "memory": memory = try reader.null() ? nil : PromptMemory(reading: &reader)
            default: try reader.skipValue()
            }
        }
        let type = "CycleInputs"
        self.init(
            startedAt: try reader.required(startedAt, "startedAt", in: type),
            inceptionCapital: try reader.required(inceptionCapital, "inceptionCapital", in: type),
            invocationCount: try reader.required(invocationCount, "invocationCount", in: type),
            sharpe: try reader.required(sharpe, "sharpe", in: type),
            cooldownUntil: try reader.required(cooldownUntil, "cooldownUntil", in: type),
            isPaused: try reader.required(isPaused, "isPaused", in: type),
            isDailyLossLimitHit: try reader.required(isDailyLossLimitHit, "isDailyLossLimitHit", in: type),
            isDrawdownLimitHit: try reader.required(isDrawdownLimitHit, "isDrawdownLimitHit", in: type),
            takerFeeRate: try reader.required(takerFeeRate, "takerFeeRate", in: type),
            unprotectedSymbols: unprotectedSymbols
        )
        self.memory = memory
    }
}

extension EntryRecheck: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var at: Int64?
        var prices: [String: Double]?
        var inputs: CycleInputs?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "at": at = try reader.integer()
            case "inputs": inputs = try CycleInputs(reading: &reader)
            case "prices":
                var table: [String: Double] = [:]
                try reader.beginObject()
                while let symbol = try reader.nextKey() { table[symbol.string] = try reader.double() }
                prices = table
            default: try reader.skipValue()
            }
        }
        let type = "EntryRecheck"
        self.init(
            at: try reader.required(at, "at", in: type),
            prices: try reader.required(prices, "prices", in: type),
            inputs: try reader.required(inputs, "inputs", in: type)
        )
    }
}

extension TemplateStamp: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var id: String?
        var version: String?
        var digest: String?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "id": id = try reader.string()
            case "version": version = try reader.string()
            case "digest": digest = try reader.string()
            default: try reader.skipValue()
            }
        }
        let type = "TemplateStamp"
        self.init(
            id: try reader.required(id, "id", in: type),
            version: try reader.required(version, "version", in: type),
            digest: try reader.required(digest, "digest", in: type)
        )
    }
}

extension PromptMemory: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var entryReasons: [String: String]?
        var trades: [RememberedTrade]?
        var cycles: [RememberedCycle]?
        var day: PerformanceWindow?
        var week: PerformanceWindow?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "entryReasons":
                var table: [String: String] = [:]
                try reader.beginObject()
                while let symbol = try reader.nextKey() { table[symbol.string] = try reader.string() }
                entryReasons = table
            case "trades": trades = try reader.array(of: RememberedTrade.self)
            case "cycles": cycles = try reader.array(of: RememberedCycle.self)
            case "day": day = try PerformanceWindow(reading: &reader)
            case "week": week = try PerformanceWindow(reading: &reader)
            default: try reader.skipValue()
            }
        }
        let type = "PromptMemory"
        self.init(
            entryReasons: try reader.required(entryReasons, "entryReasons", in: type),
            trades: try reader.required(trades, "trades", in: type),
            cycles: try reader.required(cycles, "cycles", in: type),
            day: try reader.required(day, "day", in: type),
            week: try reader.required(week, "week", in: type)
        )
    }
}

extension RememberedTrade: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var symbol: String?
        var quantity: Double?
        var entryPrice: Double?
        var exitPrice: Double?
        var netPnL: Double?
        var entryTime: Int64?
        var exitTime: Int64?
        var entryReasoning: String?
        var closeReason: String?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "symbol": symbol = try reader.string()
            case "quantity": quantity = try reader.double()
            case "entryPrice": entryPrice = try reader.double()
            case "exitPrice": exitPrice = try reader.double()
            case "netPnL": netPnL = try reader.double()
            case "entryTime": entryTime = try reader.integer()
            case "exitTime": exitTime = try reader.integer()
            case "entryReasoning": entryReasoning = try reader.optionalString()
            case "closeReason": closeReason = try reader.string()
            default: try reader.skipValue()
            }
        }
        let type = "RememberedTrade"
        self.init(
            symbol: try reader.required(symbol, "symbol", in: type),
            quantity: try reader.required(quantity, "quantity", in: type),
            entryPrice: try reader.required(entryPrice, "entryPrice", in: type),
            exitPrice: try reader.required(exitPrice, "exitPrice", in: type),
            netPnL: try reader.required(netPnL, "netPnL", in: type),
            entryTime: try reader.required(entryTime, "entryTime", in: type),
            exitTime: try reader.required(exitTime, "exitTime", in: type),
            entryReasoning: entryReasoning,
            closeReason: try reader.required(closeReason, "closeReason", in: type)
        )
    }
}

extension RememberedCycle: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var time: Int64?
        var outcome: String?
        var reason: String?
        var verdicts: [ConversationsDocument.Verdict]?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "time": time = try reader.integer()
            case "outcome": outcome = try reader.string()
            case "reason": reason = try reader.optionalString()
            case "verdicts":
                var list: [ConversationsDocument.Verdict] = []
                try reader.beginArray()
                while try reader.nextElement() { list.append(try Self.verdict(&reader)) }
                verdicts = list
            default: try reader.skipValue()
            }
        }
        let type = "RememberedCycle"
        self.init(
            time: try reader.required(time, "time", in: type),
            outcome: try reader.required(outcome, "outcome", in: type),
            reason: reason,
            verdicts: try reader.required(verdicts, "verdicts", in: type)
        )
    }

    private static func verdict(_ reader: inout JSONByteReader) throws -> ConversationsDocument.Verdict {
        var symbol: String?
        var signal: String?
        var accepted: Bool?
        var reasons: [String]?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "symbol": symbol = try reader.string()
            case "signal": signal = try reader.string()
            case "accepted": accepted = try reader.bool()
            case "reasons": reasons = try reader.strings()
            default: try reader.skipValue()
            }
        }
        let type = "Verdict"
        return ConversationsDocument.Verdict(
            symbol: try reader.required(symbol, "symbol", in: type),
            signal: try reader.required(signal, "signal", in: type),
            accepted: try reader.required(accepted, "accepted", in: type),
            reasons: try reader.required(reasons, "reasons", in: type)
        )
    }
}

extension PerformanceWindow: JSONByteReadable {
    package init(reading reader: inout JSONByteReader) throws {
        var trades: Int?
        var wins: Int?
        var netPnL: Double?
        var sharpe: Double?
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "trades": trades = try reader.int()
            case "wins": wins = try reader.int()
            case "netPnL": netPnL = try reader.double()
            case "sharpe": sharpe = try reader.double()
            default: try reader.skipValue()
            }
        }
        let type = "PerformanceWindow"
        self.init(
            trades: try reader.required(trades, "trades", in: type),
            wins: try reader.required(wins, "wins", in: type),
            netPnL: try reader.required(netPnL, "netPnL", in: type),
            sharpe: try reader.required(sharpe, "sharpe", in: type)
        )
    }
}

extension JSONByteReader {
    /// A series' values: an array, or a continuation `{"append":[…],"shift":k}` whose shift goes to `shifts` and
    /// whose appended values stand in for the series until it is resolved (`MarketContinuation`).
    fileprivate mutating func series(
        _ series: MarketContinuation.Series,
        shifts: inout [MarketContinuation.Series: Int]
    ) throws -> [Double] {
        guard objectComesNext() else { return try doubles() }
        var append: [Double]?
        var shift: Int?
        try beginObject()
        while let key = try nextKey() {
            switch key {
            case "append": append = try doubles()
            case "shift": shift = try int()
            default: try skipValue()
            }
        }
        shifts[series] = try required(shift, "shift", in: "continued series")
        return try required(append, "append", in: "continued series")
    }
}
