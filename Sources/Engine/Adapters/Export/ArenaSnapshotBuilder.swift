import ArenaCore
import Foundation
import Shared

/// Builds the nine API documents from the manager's state and the exchange's ledgers.
package struct ArenaSnapshotBuilder {
    package struct TraderView: Sendable {
        package var configuration: TraderConfiguration
        package var state: TraderState
        package var account: TraderAccount
        package var trades: [ClosedTrade]
        /// Why the engine paused the trader until an operator resumes it (failing closed), if it did.
        package var suspension: String?

        package init(
            configuration: TraderConfiguration,
            state: TraderState,
            account: TraderAccount,
            trades: [ClosedTrade],
            suspension: String? = nil
        ) {
            self.configuration = configuration
            self.state = state
            self.account = account
            self.trades = trades
            self.suspension = suspension
        }

        /// `active`, `paused` or `halted`, and why, as the leaderboard shows it.
        func status(now: Int64) -> (status: String, reason: String?) {
            if state.isDrawdownLimitHit {
                let limit = ArenaSnapshotBuilder.percent(configuration.riskParams.maxDrawdownPct)
                return ("halted", "drawdown kill switch: fell \(limit) % from its peak")
            }
            if state.isDailyLossLimitHit {
                let limit = ArenaSnapshotBuilder.percent(configuration.riskParams.maxDailyLossPct)
                return ("halted", "daily loss kill switch: lost \(limit) % today")
            }
            if let suspension { return ("paused", "\(suspension); until `engine resume` or a restart") }
            if let hold = state.operatorHold { return ("paused", "\(hold); `engine resume` lifts it") }
            if let hold = state.arenaHold { return ("paused", "\(hold); `engine allow-entries` lifts it") }
            if let until = state.pausedUntil, until > now {
                return (
                    "paused",
                    "Sharpe below its threshold; entries paused until \(ArenaSnapshotBuilder.humanTime(until)) UTC"
                )
            }
            return ("active", nil)
        }
    }

    package let traders: [TraderView]
    package let prices: [String: Double]
    package let now: Int64
    /// The manager's reserve (capital no trader gets), for the leaderboard.
    package var reserveUSD: Double? = nil
    /// The newest rebalances (oldest first), exported as `rebalances.json` when rebalancing is on.
    package var rebalances: [RebalancesDocument.Rebalance]? = nil
    /// Rows of account-totals history kept per trader (the capture had 199 hourly markers).
    package static let historyRows = 200
    package static let conversationsPerTrader = 5

    package var seconds: Double { Double(now) / 1000 }

    package func encodedFiles() throws -> [String: Data] {
        let encoder = SnapshotCoding.makeEncoder()
        var files = [
            SnapshotDocument.cryptoPrices.fileName: try encoder.encode(cryptoPrices()),
            SnapshotDocument.accountTotals.fileName: try encoder.encode(accountTotals()),
            SnapshotDocument.trades.fileName: try encoder.encode(tradesDocument()),
            SnapshotDocument.positions.fileName: try encoder.encode(positionsDocument()),
            SnapshotDocument.analytics.fileName: try encoder.encode(analytics()),
            SnapshotDocument.leaderboard.fileName: try encoder.encode(leaderboard()),
            SnapshotDocument.sinceInceptionValues.fileName: try encoder.encode(sinceInception()),
            SnapshotDocument.conversations.fileName: try encoder.encode(conversations()),
            PromptVersionsDocument.fileName: try encoder.encode(promptVersions()),
        ]
        if let rebalances {
            files[RebalancesDocument.fileName] = try encoder.encode(
                RebalancesDocument(rebalances: rebalances.reversed())
            )
        }
        return files
    }

    package func cryptoPrices() -> CryptoPricesDocument {
        CryptoPricesDocument(
            prices: prices.reduce(into: [:]) { result, entry in
                result[entry.key] = .init(symbol: entry.key, price: entry.value, timestamp: now)
            }
        )
    }

    package func accountPositions(_ account: TraderAccount) -> [String: AccountTotalsDocument.Position] {
        account.positions.mapValues { p in
            AccountTotalsDocument.Position(
                entryOID: p.entryOrderID,
                oid: p.entryOrderID,
                tpOID: p.takeProfitOrderID ?? 0,
                slOID: p.stopOrderID ?? 0,
                riskUSD: p.riskUSD,
                confidence: p.confidence,
                indexCol: nil,
                exitPlan: exitPlan(p),
                entryTime: Double(p.openedAt) / 1000,
                symbol: p.symbol,
                entryPrice: p.entryPrice,
                margin: p.margin,
                waitForFill: false,
                currentPrice: p.markPrice,
                closedPnL: 0,
                liquidationPrice: p.liquidationPrice,
                commission: p.entryFee,
                leverage: p.leverage,
                slippage: 0,
                quantity: p.quantity,
                unrealizedPnL: p.unrealizedPnL
            )
        }
    }

    package func exitPlan(_ position: Position) -> ExitPlan {
        ExitPlan(
            profitTarget: position.takeProfit,
            stopLoss: position.stopLoss,
            invalidationCondition: position.invalidationCondition
        )
    }

    package func accountTotals() -> AccountTotalsDocument {
        var rows: [AccountTotalsDocument.Row] = []
        for trader in traders {
            let history = Self.withLivePoint(trader, now: now)
            let capital = trader.state.inceptionCapital
            let first = max(0, history.count - Self.historyRows)
            let sharpe = Performance.sharpeSeries(history)
            for index in first..<history.count {
                let point = history[index]
                rows.append(
                    .init(
                        id: "\(trader.configuration.id)_\(point.marker)",
                        modelID: trader.configuration.id,
                        llmModel: trader.configuration.model,
                        timestamp: Double(point.time) / 1000,
                        dollarEquity: point.equity,
                        realizedPnL: point.realizedPnL,
                        totalUnrealizedPnL: point.unrealizedPnL,
                        cumPnLPct: capital > 0 ? (point.equity / capital - 1) * 100 : 0,
                        sharpeRatio: sharpe[index],
                        sinceInceptionHourlyMarker: point.marker,
                        sinceInceptionMinuteMarker: Int((point.time - trader.state.startedAt) / 60_000),
                        positions: index == history.count - 1 ? accountPositions(trader.account) : [:],
                        llmCostUSD: point.llmCostUSD ?? 0,
                        pnlNetOfLLMUSD: point.equity - capital - (point.llmCostUSD ?? 0)
                    )
                )
            }
        }
        return AccountTotalsDocument(
            accountTotals: rows,
            lastHourlyMarkerRead: rows.map(\.sinceInceptionHourlyMarker).max() ?? 0
        )
    }

    /// The trader's hourly equity points with the newest one taken from the account as it is now: its equity,
    /// realized PnL (net of fees and funding) and unrealized PnL agree with the positions it is shown with, the
    /// leaderboard and the positions document. It replaces the point of the current hour, or follows the last one.
    static func withLivePoint(_ trader: TraderView, now: Int64) -> [TraderState.EquityPoint] {
        var history = trader.state.equityHistory
        guard trader.state.startedAt > 0 else { return history }
        let marker = max(Int((now - trader.state.startedAt) / 3_600_000), history.last?.marker ?? 0)
        let live = TraderState.EquityPoint(
            marker: marker,
            time: now,
            equity: trader.account.equity,
            realizedPnL: trader.account.realizedNetPnL(closedTrades: trader.trades),
            unrealizedPnL: trader.account.unrealizedPnL,
            llmCostUSD: trader.state.llmCostUSD,
            marginUsed: trader.account.marginUsed
        )
        if history.last?.marker == marker {
            history[history.count - 1] = live
        } else {
            history.append(live)
        }
        return history
    }

    package func positionsDocument() -> PositionsDocument {
        PositionsDocument(
            accountTotals: traders.map { trader in
                .init(
                    modelID: trader.configuration.id,
                    llmModel: trader.configuration.model,
                    positions: trader.account.positions.mapValues { p in
                        .init(
                            entryOID: p.entryOrderID,
                            riskUSD: p.riskUSD,
                            confidence: p.confidence,
                            exitPlan: exitPlan(p),
                            entryTime: Double(p.openedAt) / 1000,
                            symbol: p.symbol,
                            entryPrice: p.entryPrice,
                            margin: p.margin,
                            leverage: p.leverage,
                            quantity: p.quantity,
                            currentPrice: p.markPrice,
                            unrealizedPnL: p.unrealizedPnL,
                            closedPnL: 0,
                            liquidationPrice: p.liquidationPrice
                        )
                    }
                )
            }
        )
    }

    package static func humanTime(_ milliseconds: Int64) -> String { UTCTime.human(milliseconds) }

    /// A percent number as people write it: `15`, `2.5`.
    static func percent(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    package func tradesDocument() -> TradesDocument {
        var trades: [TradesDocument.Trade] = []
        for trader in traders {
            let id = trader.configuration.id
            for trade in trader.trades {
                let side = trade.quantity >= 0 ? "long" : "short"
                trades.append(
                    .init(
                        id: "\(id)_\(trade.tradeID)",
                        modelID: id,
                        llmModel: trader.configuration.model,
                        tradeID:
                            "\(Double(trade.entryTime) / 1000)_\(trade.symbol)_\(Double(trade.exitTime) / 1000)_\(id)",
                        symbol: trade.symbol,
                        side: side,
                        tradeType: side,
                        quantity: trade.quantity,
                        leverage: trade.leverage,
                        confidence: trade.confidence,
                        exitPlan: ExitPlan(
                            profitTarget: trade.exitPlan?.takeProfit,
                            stopLoss: trade.exitPlan?.stopLoss,
                            invalidationCondition: trade.exitPlan?.invalidationCondition
                        ),
                        entryOID: trade.entryOrderID,
                        entryTID: trade.entryOrderID,
                        entryTime: Double(trade.entryTime) / 1000,
                        entryHumanTime: Self.humanTime(trade.entryTime),
                        entryPrice: trade.entryPrice,
                        entrySz: abs(trade.quantity),
                        entryCrossed: true,
                        entryCommissionDollars: trade.entryFee,
                        entryClosedPnL: -trade.entryFee,
                        entryLiquidation: nil,
                        exitOID: trade.exitOrderID,
                        exitTID: trade.exitOrderID,
                        exitTime: Double(trade.exitTime) / 1000,
                        exitHumanTime: Self.humanTime(trade.exitTime),
                        exitPrice: trade.exitPrice,
                        exitSz: abs(trade.quantity),
                        exitCrossed: true,
                        exitCommissionDollars: trade.exitFee,
                        exitClosedPnL: trade.grossPnL - trade.exitFee,
                        exitLiquidation: trade.wasLiquidated ? trade.exitPrice : nil,
                        totalCommissionDollars: trade.entryFee + trade.exitFee,
                        realizedGrossPnL: trade.grossPnL,
                        realizedNetPnL: trade.netPnL,
                        fundingDollars: trade.fundingPaid
                    )
                )
            }
        }
        return TradesDocument(trades: trades.sorted { $0.exitTime > $1.exitTime })
    }

    package func leaderboard() -> LeaderboardDocument {
        let entries = traders.map { trader -> LeaderboardDocument.Entry in
            let wins = trader.trades.filter { $0.netPnL > 0 }
            let losses = trader.trades.filter { $0.netPnL <= 0 }
            let equity = trader.account.equity
            let capital = trader.state.inceptionCapital
            var entry = LeaderboardDocument.Entry(
                id: trader.configuration.id,
                llmModel: trader.configuration.model,
                numTrades: trader.trades.count,
                sharpe: Performance.sharpe(trader.state.equityHistory),
                winDollars: wins.reduce(0) { $0 + $1.netPnL },
                numLosses: losses.count,
                loseDollars: losses.reduce(0) { $0 + $1.netPnL },
                returnPct: capital > 0 ? (equity / capital - 1) * 100 : 0,
                equity: equity,
                numWins: wins.count,
                llmCostUSD: trader.state.llmCostUSD,
                pnlNetOfLLMUSD: equity - capital - trader.state.llmCostUSD
            )
            let (status, reason) = trader.status(now: now)
            entry.name = trader.configuration.name
            entry.status = status
            entry.statusReason = reason
            entry.modelInUse = trader.state.lastModel
            entry.maxDrawdownPct = trader.state.maxDrawdownPct ?? 0
            entry.feesUSD = trader.account.feesPaid
            entry.lastOutcome = trader.state.lastOutcome
            entry.lastCycleAt = trader.state.lastDecisionAt.map { Double($0) / 1000 }
            return entry
        }
        return LeaderboardDocument(
            leaderboard: entries.sorted { $0.returnPct > $1.returnPct },
            reserveUSD: reserveUSD
        )
    }

    package func sinceInception() -> SinceInceptionDocument {
        SinceInceptionDocument(
            sinceInceptionValues: traders.map { trader in
                .init(
                    id: trader.configuration.id,
                    navSinceInception: trader.state.inceptionCapital,
                    inceptionDate: Double(trader.state.startedAt) / 1000,
                    numInvocations: trader.state.invocationCount,
                    modelID: trader.configuration.id,
                    llmModel: trader.configuration.model
                )
            }
        )
    }

    /// Results by prompt version, per trader (in trader order, versions in order of first use) and summed across
    /// traders (in order of first use).
    package func promptVersions() -> PromptVersionsDocument {
        func row(_ stats: PromptVersionStats, trader: TraderView?) -> PromptVersionsDocument.Row {
            .init(
                modelID: trader?.configuration.id,
                llmModel: trader?.configuration.model,
                key: stats.key,
                templates: stats.templates.map { .init(id: $0.id, version: $0.version, sha256: $0.digest) },
                firstUsedAt: Double(stats.firstUsedAt) / 1000,
                lastUsedAt: Double(stats.lastUsedAt) / 1000,
                cycles: stats.cycles,
                failedCycles: stats.failedCycles,
                trades: stats.trades,
                wins: stats.wins,
                netPnLUSD: stats.netPnL,
                llmCostUSD: stats.llmCostUSD,
                sharpe: stats.hourlyReturns.hourlySharpe,
                refusals: stats.refusals
            )
        }
        var perTrader: [PromptVersionsDocument.Row] = []
        var combined: [PromptVersionStats] = []
        for trader in traders {
            for stats in trader.state.promptVersions ?? [] {
                perTrader.append(row(stats, trader: trader))
                guard let index = combined.firstIndex(where: { $0.key == stats.key }) else {
                    combined.append(stats)
                    continue
                }
                combined[index].firstUsedAt = min(combined[index].firstUsedAt, stats.firstUsedAt)
                combined[index].lastUsedAt = max(combined[index].lastUsedAt, stats.lastUsedAt)
                combined[index].cycles += stats.cycles
                combined[index].failedCycles += stats.failedCycles
                combined[index].refusals.merge(stats.refusals, uniquingKeysWith: +)
                combined[index].llmCostUSD += stats.llmCostUSD
                combined[index].trades += stats.trades
                combined[index].wins += stats.wins
                combined[index].netPnL += stats.netPnL
                combined[index].hourlyReturns = combined[index].hourlyReturns.merged(with: stats.hourlyReturns)
            }
        }
        return PromptVersionsDocument(
            promptVersions: perTrader,
            acrossTraders: combined.sorted { ($0.firstUsedAt, $0.key) < ($1.firstUsedAt, $1.key) }.map {
                row($0, trader: nil)
            }
        )
    }

    package func conversations() -> ConversationsDocument {
        var result: [ConversationsDocument.Conversation] = []
        for trader in traders {
            for conversation in trader.state.conversations.suffix(Self.conversationsPerTrader).reversed() {
                let time = Double(conversation.time) / 1000
                result.append(
                    .init(
                        modelID: trader.configuration.id,
                        llmModel: conversation.model,
                        cycleID: conversation.cycleID,
                        messages: [
                            .init(role: "system", content: conversation.system, timestamp: time),
                            .init(role: "user", content: conversation.user, timestamp: time),
                            .init(role: "assistant", content: conversation.answer, timestamp: time),
                        ],
                        outcome: conversation.outcome,
                        reason: conversation.reason,
                        verdicts: conversation.verdicts,
                        orders: conversation.orders
                    )
                )
            }
        }
        return ConversationsDocument(conversations: result)
    }

    package init(
        traders: [TraderView],
        prices: [String: Double],
        now: Int64,
        rebalances: [RebalancesDocument.Rebalance]? = nil,
        reserveUSD: Double? = nil
    ) {
        self.traders = traders
        self.prices = prices
        self.now = now
        self.rebalances = rebalances
        self.reserveUSD = reserveUSD
    }
}
