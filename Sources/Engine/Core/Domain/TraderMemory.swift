import Shared

/// A closed trade as the trader's prompts remember it: what was done, how it ended, why it was entered and why it
/// was closed.
package struct RememberedTrade: Sendable, Codable, Equatable {
    package var symbol: String
    /// Signed: negative for shorts.
    package var quantity: Double
    package var entryPrice: Double
    package var exitPrice: Double
    package var netPnL: Double
    package var entryTime: Int64
    package var exitTime: Int64
    /// The model's reasoning for the entry; nil when it was not recorded (a position from before memory).
    package var entryReasoning: String?
    /// `stop`, `target`, `liquidation`, `model`, `kill_switch`, `operator`, or `other`.
    package var closeReason: String

    package init(
        symbol: String,
        quantity: Double,
        entryPrice: Double,
        exitPrice: Double,
        netPnL: Double,
        entryTime: Int64,
        exitTime: Int64,
        entryReasoning: String?,
        closeReason: String
    ) {
        self.symbol = symbol
        self.quantity = quantity
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.netPnL = netPnL
        self.entryTime = entryTime
        self.exitTime = exitTime
        self.entryReasoning = entryReasoning
        self.closeReason = closeReason
    }
}

/// A model cycle as the prompts remember it: its outcome and the risk layer's verdict on each decision.
package struct RememberedCycle: Sendable, Codable, Equatable {
    package var time: Int64
    package var outcome: String
    package var reason: String?
    package var verdicts: [ConversationsDocument.Verdict]

    package init(time: Int64, outcome: String, reason: String?, verdicts: [ConversationsDocument.Verdict]) {
        self.time = time
        self.outcome = outcome
        self.reason = reason
        self.verdicts = verdicts
    }
}

/// Closed trades and returns over a recent window (the last day or week).
package struct PerformanceWindow: Sendable, Codable, Equatable {
    package var trades: Int
    package var wins: Int
    package var netPnL: Double
    /// Annualised Sharpe ratio of the window's hourly equity returns (0 with fewer than three points).
    package var sharpe: Double

    package init(trades: Int = 0, wins: Int = 0, netPnL: Double = 0, sharpe: Double = 0) {
        self.trades = trades
        self.wins = wins
        self.netPnL = netPnL
        self.sharpe = sharpe
    }
}

/// What one cycle's prompts remember, taken from the trader's state when the cycle starts and journaled in its
/// inputs (`CycleInputs.memory`), so `engine replay` renders the same prompt without the state.
package struct PromptMemory: Sendable, Codable, Equatable {
    /// The model's reasoning for each open position's entry, by symbol (positions opened by a model cycle).
    package var entryReasons: [String: String]
    /// The last closed trades, oldest first.
    package var trades: [RememberedTrade]
    /// The last model cycles, oldest first.
    package var cycles: [RememberedCycle]
    package var day: PerformanceWindow
    package var week: PerformanceWindow

    package init(
        entryReasons: [String: String],
        trades: [RememberedTrade],
        cycles: [RememberedCycle],
        day: PerformanceWindow,
        week: PerformanceWindow
    ) {
        self.entryReasons = entryReasons
        self.trades = trades
        self.cycles = cycles
        self.day = day
        self.week = week
    }
}

/// The trader's memory in its saved state: kept up by the manager as cycles finish and trades close, read by
/// templates that use memory variables.
package struct TraderMemory: Sendable, Codable, Equatable {
    package var entryReasons: [String: String] = [:]
    /// Why the engine sent a close that filled, by the close's venue order id, until its closed trade is seen.
    package var closeCauses: [CloseCause] = []
    package var trades: [RememberedTrade] = []
    package var cycles: [RememberedCycle] = []

    package struct CloseCause: Sendable, Codable, Equatable {
        package var orderID: Int64
        package var cause: String
    }

    /// Most closed trades kept (the week's summary counts those of the week among them), cycles kept, causes
    /// waiting for their trade, and characters of reasoning kept per entry.
    package static let tradeLimit = 500
    package static let cycleLimit = 20
    static let causeLimit = 50
    static let reasoningLimit = 600

    package init() {}

    /// Remembers a finished cycle: its verdicts (model cycles), the reasoning of each entry that filled, and why
    /// each close that filled was sent (the model, the drawdown switch, an operator).
    package mutating func record(_ record: CycleRecord) {
        let cause =
            switch record.origin {
            case nil: "model"
            case .drawdownSwitch: "kill_switch"
            case .operatorFlatten: "operator"
            }
        for order in record.orders {
            guard let result = record.results.first(where: { $0.cloid == order.cloid }), result.filledSize > 0
            else { continue }
            if order.isReduceOnly {
                closeCauses.append(CloseCause(orderID: result.orderID, cause: cause))
            } else if order.plan != nil {
                let reasoning = record.decisions.first { $0.symbol == order.symbol }?.reasoning ?? ""
                entryReasons[order.symbol] = String(reasoning.prefix(Self.reasoningLimit))
            }
        }
        if closeCauses.count > Self.causeLimit { closeCauses.removeFirst(closeCauses.count - Self.causeLimit) }
        guard record.origin == nil else { return }
        cycles.append(
            RememberedCycle(
                time: record.startedAt,
                outcome: record.outcome.rawValue,
                reason: record.reason?.rawValue,
                verdicts: record.verdicts.map(\.summary)
            )
        )
        if cycles.count > Self.cycleLimit { cycles.removeFirst(cycles.count - Self.cycleLimit) }
    }

    /// Remembers a closed trade with its entry's reasoning and what closed it: the engine's own close when it sent
    /// one, else what the trade's prices tell (liquidation, stop, target), else `other`.
    package mutating func record(_ trade: ClosedTrade) {
        let reasoning = entryReasons.removeValue(forKey: trade.symbol)
        var cause = trade.exitTrigger ?? "other"
        if let index = closeCauses.firstIndex(where: { $0.orderID == trade.exitOrderID }) {
            cause = closeCauses.remove(at: index).cause
        }
        trades.append(
            RememberedTrade(
                symbol: trade.symbol,
                quantity: trade.quantity,
                entryPrice: trade.entryPrice,
                exitPrice: trade.exitPrice,
                netPnL: trade.netPnL,
                entryTime: trade.entryTime,
                exitTime: trade.exitTime,
                entryReasoning: reasoning,
                closeReason: cause
            )
        )
        if trades.count > Self.tradeLimit { trades.removeFirst(trades.count - Self.tradeLimit) }
    }

    /// What a cycle at `now` shows: the reasoning of the positions open in `account`, the last `depth` trades and
    /// cycles, and the last day's and week's results (Sharpe from the hourly `equityHistory`).
    package func prompt(
        now: Int64,
        account: TraderAccount,
        depth: ExecutorConfiguration.MemoryDepth,
        equityHistory: [TraderState.EquityPoint]
    ) -> PromptMemory {
        func window(_ span: Int64) -> PerformanceWindow {
            let since = now - span
            var result = PerformanceWindow()
            for trade in trades where trade.exitTime >= since {
                result.trades += 1
                if trade.netPnL > 0 { result.wins += 1 }
                result.netPnL += trade.netPnL
            }
            // The history is in time order: the window is its tail (found from the end, not by a whole scan).
            var start = equityHistory.endIndex
            while start > equityHistory.startIndex, equityHistory[start - 1].time >= since { start -= 1 }
            result.sharpe = Performance.sharpe(Array(equityHistory[start...]))
            return result
        }
        return PromptMemory(
            entryReasons: entryReasons.filter { account.positions[$0.key] != nil },
            trades: Array(trades.suffix(depth.closedTrades)),
            cycles: Array(cycles.suffix(depth.recentCycles)),
            day: window(86_400_000),
            week: window(7 * 86_400_000)
        )
    }
}

extension ClosedTrade {
    /// What closed the trade as far as its own numbers tell: `liquidation`, or `stop` / `target` when it exited
    /// at its exit plan's stop or target price (within 0.1 %); nil otherwise.
    package var exitTrigger: String? {
        if wasLiquidated { return "liquidation" }
        let long = quantity > 0
        if let stop = exitPlan?.stopLoss, long ? exitPrice <= stop * 1.001 : exitPrice >= stop * 0.999 {
            return "stop"
        }
        if let target = exitPlan?.takeProfit, long ? exitPrice >= target * 0.999 : exitPrice <= target * 1.001 {
            return "target"
        }
        return nil
    }
}

extension RiskVerdict {
    /// The verdict as the conversations document and the trader's memory show it: symbol, signal, accepted, and
    /// the reason codes.
    package var summary: ConversationsDocument.Verdict {
        .init(symbol: symbol, signal: signal.rawValue, accepted: isAccepted, reasons: reasons.map(\.rawValue))
    }
}
