import ArenaCore
import Shared

/// The analytics tables of the capture, computed from each trader's closed trades, open positions, signals and
/// invocations. Holding periods are minutes, percentages percent numbers, confidences 0..1.
extension ArenaSnapshotBuilder {
    package func analytics() -> AnalyticsDocument {
        AnalyticsDocument(analytics: traders.map(analytics))
    }

    package func analytics(_ trader: TraderView) -> AnalyticsDocument.Entry {
        let id = trader.configuration.id
        let trades = trader.trades
        let last = trades.max { $0.exitTime < $1.exitTime }
        let conversation = trader.state.conversations.last
        return AnalyticsDocument.Entry(
            id: id,
            modelID: id,
            llmModel: trader.configuration.model,
            updatedAt: seconds,
            feePnLMovesBreakdownTable: feeTable(trades),
            winnersLosersBreakdownTable: winnersLosers(trades),
            signalsBreakdownTable: signalsTable(trader),
            lastTradeExitTime: last.map { Double($0.exitTime) / 1000 } ?? 0,
            invocationBreakdownTable: invocationTable(
                trader.state.invocationTimes,
                count: trader.state.invocationCount
            ),
            longsShortsBreakdownTable: longsShorts(trades),
            lastConvoDocID: conversation.map { "\(id)_\(Double($0.time) / 1000)" } ?? "",
            lastConvoTimestamp: conversation.map { Double($0.time) / 1000 } ?? 0,
            overallTradesOverviewTable: overview(trader),
            lastTradeDocID: last.map { "\(id)_\($0.tradeID)" } ?? "",
            llmCostBreakdownTable: llmCostTable(trader)
        )
    }

    package func llmCostTable(_ trader: TraderView) -> LLMCostBreakdown {
        let usage = trader.state.llmUsage ?? [:]
        let rows = usage.keys.sorted().compactMap { model -> LLMCostBreakdown.ModelRow? in
            guard let use = usage[model] else { return nil }
            return .init(
                model: model,
                requests: use.requests,
                failures: use.failures,
                cacheHits: use.cacheHits,
                promptTokens: use.promptTokens,
                completionTokens: use.completionTokens,
                costUSD: use.costUSD
            )
        }
        let cost = trader.state.llmCostUSD
        let pnl = trader.account.equity - trader.state.inceptionCapital
        return LLMCostBreakdown(
            models: rows,
            totalCostUSD: cost,
            totalTokens: rows.reduce(0) { $0 + $1.promptTokens + $1.completionTokens },
            pnlUSD: pnl,
            pnlNetOfLLMUSD: pnl - cost,
            costPerTradeUSD: trader.trades.isEmpty ? 0 : cost / Double(trader.trades.count)
        )
    }

    package static func holdingMinutes(_ trade: ClosedTrade) -> Double {
        Double(trade.exitTime - trade.entryTime) / 60_000
    }
    package static func notional(_ trade: ClosedTrade) -> Double { abs(trade.quantity) * trade.entryPrice }

    package func feeTable(_ trades: [ClosedTrade]) -> FeePnLMovesBreakdown {
        let net = trades.map(\.netPnL)
        let gross = trades.map(\.grossPnL)
        let fees = trades.map { $0.entryFee + $0.exitFee }
        let totalFees = fees.reduce(0, +)
        let totalGross = gross.reduce(0, +)
        return FeePnLMovesBreakdown(
            avgGrossPnL: Statistics.mean(gross),
            avgNetPnL: Statistics.mean(net),
            avgTakerFee: Statistics.mean(fees),
            biggestNetGain: net.max() ?? 0,
            biggestNetLoss: net.min() ?? 0,
            overallPnLWithFees: net.reduce(0, +),
            overallPnLWithoutFees: totalGross,
            stdGrossPnL: Statistics.standardDeviation(gross),
            stdNetPnL: Statistics.standardDeviation(net),
            stdTakerFee: Statistics.standardDeviation(fees),
            totalFeesAsPctOfPnL: totalGross > 0 ? totalFees / totalGross * 100 : 0,
            totalFeesPaid: totalFees
        )
    }

    /// Averages and spreads of one group of trades (winners, losers, longs, shorts).
    package struct TradeGroup {
        package let count: Int
        package let averageHolding: Double
        package let averageNet: Double
        package let averageNotional: Double
        package let spreadHolding: Double
        package let spreadNet: Double
        package let spreadNotional: Double

        package init(_ trades: [ClosedTrade]) {
            let holding = trades.map(ArenaSnapshotBuilder.holdingMinutes)
            let net = trades.map(\.netPnL)
            let notional = trades.map(ArenaSnapshotBuilder.notional)
            count = trades.count
            averageHolding = Statistics.mean(holding)
            averageNet = Statistics.mean(net)
            averageNotional = Statistics.mean(notional)
            spreadHolding = Statistics.standardDeviation(holding)
            spreadNet = Statistics.standardDeviation(net)
            spreadNotional = Statistics.standardDeviation(notional)
        }
    }

    package func winnersLosers(_ trades: [ClosedTrade]) -> WinnersLosersBreakdown {
        let winners = TradeGroup(trades.filter { $0.netPnL > 0 })
        let losers = TradeGroup(trades.filter { $0.netPnL <= 0 })
        return WinnersLosersBreakdown(
            avgLosersHoldingPeriod: losers.averageHolding,
            avgLosersNetPnL: losers.averageNet,
            avgLosersNotional: losers.averageNotional,
            avgWinnersHoldingPeriod: winners.averageHolding,
            avgWinnersNetPnL: winners.averageNet,
            avgWinnersNotional: winners.averageNotional,
            stdLosersHoldingPeriod: losers.spreadHolding,
            stdLosersNetPnL: losers.spreadNet,
            stdLosersNotional: losers.spreadNotional,
            stdWinnersHoldingPeriod: winners.spreadHolding,
            stdWinnersNetPnL: winners.spreadNet,
            stdWinnersNotional: winners.spreadNotional,
            winRate: trades.isEmpty ? 0 : Double(winners.count) / Double(trades.count) * 100
        )
    }

    package func longsShorts(_ trades: [ClosedTrade]) -> LongsShortsBreakdown {
        let longs = TradeGroup(trades.filter { $0.quantity > 0 })
        let shorts = TradeGroup(trades.filter { $0.quantity < 0 })
        return LongsShortsBreakdown(
            avgLongsHoldingPeriod: longs.averageHolding,
            avgLongsNetPnL: longs.averageNet,
            avgLongsNotional: longs.averageNotional,
            avgShortsHoldingPeriod: shorts.averageHolding,
            avgShortsNetPnL: shorts.averageNet,
            avgShortsNotional: shorts.averageNotional,
            longShortTradesRatio: trades.isEmpty ? 0 : Double(longs.count) / Double(trades.count),
            numLongTrades: longs.count,
            numShortTrades: shorts.count,
            stdLongsHoldingPeriod: longs.spreadHolding,
            stdLongsNetPnL: longs.spreadNet,
            stdLongsNotional: longs.spreadNotional,
            stdShortsHoldingPeriod: shorts.spreadHolding,
            stdShortsNetPnL: shorts.spreadNet,
            stdShortsNotional: shorts.spreadNotional
        )
    }

    package func signalsTable(_ trader: TraderView) -> SignalsBreakdown {
        let statistics = trader.state.signals
        let samples = statistics.samples
        func confidences(_ signal: Decision.Signal) -> [Double] {
            samples.filter { $0.signal == signal }.map(\.confidence)
        }
        func leverages(_ signal: Decision.Signal?) -> [Double] {
            samples.filter { signal == nil || $0.signal == signal }.compactMap { $0.leverage.map(Double.init) }
        }
        let long = statistics.count(.buyToEnter)
        let short = statistics.count(.sellToEnter)
        let hold = statistics.count(.hold)
        let close = statistics.count(.closePosition)
        let total = long + short + hold + close
        func pct(_ count: Int) -> Double { total > 0 ? Double(count) / Double(total) * 100 : 0 }
        // Minutes spent long, short and flat since the trader started, from closed trades and open positions.
        var longMinutes = 0.0
        var shortMinutes = 0.0
        for trade in trader.trades {
            if trade.quantity > 0 {
                longMinutes += Self.holdingMinutes(trade)
            } else {
                shortMinutes += Self.holdingMinutes(trade)
            }
        }
        for position in trader.account.orderedPositions {
            let minutes = Double(max(0, now - position.openedAt)) / 60_000
            if position.quantity > 0 { longMinutes += minutes } else { shortMinutes += minutes }
        }
        let elapsed = Double(max(0, now - trader.state.startedAt)) / 60_000
        let flat = max(0, elapsed - longMinutes - shortMinutes)
        let combined = longMinutes + shortMinutes + flat
        func minutesPct(_ value: Double) -> Double { combined > 0 ? value / combined * 100 : 0 }
        let allConfidences = samples.map(\.confidence)
        return SignalsBreakdown(
            avgConfidence: Statistics.mean(allConfidences),
            avgConfidenceClose: Statistics.mean(confidences(.closePosition)),
            avgConfidenceHold: Statistics.mean(confidences(.hold)),
            avgConfidenceLong: Statistics.mean(confidences(.buyToEnter)),
            avgConfidenceShort: Statistics.mean(confidences(.sellToEnter)),
            avgLeverage: Statistics.mean(leverages(nil)),
            avgLeverageLong: Statistics.mean(leverages(.buyToEnter)),
            avgLeverageShort: Statistics.mean(leverages(.sellToEnter)),
            closeSignalPct: pct(close),
            holdSignalPct: pct(hold),
            longShortRatio: short > 0 ? Double(long) / Double(short) : 0,
            longSignalPct: pct(long),
            medianConfidence: Statistics.median(allConfidences),
            medianLeverage: Statistics.median(leverages(nil)),
            minsFlatCombined: flat,
            minsLongCombined: longMinutes,
            minsShortCombined: shortMinutes,
            numCloseSignals: close,
            numHoldSignals: hold,
            numLongSignals: long,
            numShortSignals: short,
            pctMinsFlatCombined: minutesPct(flat),
            pctMinsLongCombined: minutesPct(longMinutes),
            pctMinsShortCombined: minutesPct(shortMinutes),
            shortSignalPct: pct(short),
            stdConfidence: Statistics.standardDeviation(allConfidences),
            stdConfidenceClose: Statistics.standardDeviation(confidences(.closePosition)),
            stdConfidenceHold: Statistics.standardDeviation(confidences(.hold)),
            stdConfidenceLong: Statistics.standardDeviation(confidences(.buyToEnter)),
            stdConfidenceShort: Statistics.standardDeviation(confidences(.sellToEnter)),
            stdLeverage: Statistics.standardDeviation(leverages(nil)),
            stdLeverageLong: Statistics.standardDeviation(leverages(.buyToEnter)),
            stdLeverageShort: Statistics.standardDeviation(leverages(.sellToEnter)),
            totalSignals: total
        )
    }

    /// The breaks between the kept times; `count`: every invocation since inception (default: the times kept).
    package func invocationTable(_ times: [Int64], count: Int? = nil) -> InvocationBreakdown {
        let breaks = zip(times.dropFirst(), times).map { Double($0 - $1) / 60_000 }
        return InvocationBreakdown(
            avgInvocationBreakMins: Statistics.mean(breaks),
            maxInvocationBreakMins: breaks.max() ?? 0,
            minInvocationBreakMins: breaks.min() ?? 0,
            numInvocations: count ?? times.count,
            stdInvocationBreakMins: Statistics.standardDeviation(breaks)
        )
    }

    package func overview(_ trader: TraderView) -> OverallTradesOverview {
        let trades = trader.trades
        let holding = trades.map(Self.holdingMinutes)
        let notional = trades.map(Self.notional)
        let capital = max(trader.state.inceptionCapital, 1)
        let portfolioPct = notional.map { $0 / capital * 100 }
        let leverages = trader.state.signals.samples.compactMap { $0.leverage.map(Double.init) }
        let stopDistances = trades.compactMap { trade -> Double? in
            guard let stop = trade.exitPlan?.stopLoss, trade.entryPrice > 0 else { return nil }
            return abs(trade.entryPrice - stop) / trade.entryPrice * 100
        }
        let targetDistances = trades.compactMap { trade -> Double? in
            guard let target = trade.exitPlan?.takeProfit, trade.entryPrice > 0 else { return nil }
            return abs(target - trade.entryPrice) / trade.entryPrice * 100
        }
        return OverallTradesOverview(
            avgConvoLeverage: Statistics.mean(leverages),
            avgHoldingPeriodMins: Statistics.mean(holding),
            avgSizeOfTradeNotional: Statistics.mean(notional),
            avgSizeOfTradePortfolioPct: Statistics.mean(portfolioPct),
            avgStopLossDistancePct: Statistics.mean(stopDistances),
            avgTakeProfitDistancePct: Statistics.mean(targetDistances),
            medianConvoLeverage: Statistics.median(leverages),
            medianHoldingPeriodMins: Statistics.median(holding),
            medianSizeOfTradeNotional: Statistics.median(notional),
            stdHoldingPeriodMins: Statistics.standardDeviation(holding),
            stdSizeOfTradeNotional: Statistics.standardDeviation(notional),
            stdSizeOfTradePortfolioPct: Statistics.standardDeviation(portfolioPct),
            totalTrades: trades.count
        )
    }
}
