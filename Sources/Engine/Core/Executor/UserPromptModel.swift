import Shared

/// The user prompt's values in typed form: the lists its sections repeat over, and one function per variable
/// that writes its text. Both ways of rendering read them: `PromptContext.user` makes the variable scopes from
/// them (for any template, rendered by `CompiledTemplate` or swift-mustache), and `TypedTemplate` writes a
/// template's text straight from them, without a scope, a dictionary or a string per value.
package struct UserPromptModel {
    let inputs: PromptContext.Inputs
    let equity: Double
    /// The markets listed, in the prompt's order: their symbols and snapshots.
    let marketSymbols: [String]
    let markets: [SymbolSnapshot]
    /// Open positions, by their symbols in order.
    let positions: [(symbol: String, position: Position)]
    /// The trader's memory (nil when the templates read none): trades and cycles newest first.
    let memory: PromptMemory?
    let trades: [RememberedTrade]
    let cycles: [RememberedCycle]

    package init(_ inputs: PromptContext.Inputs) {
        self.inputs = inputs
        equity = inputs.account.equity
        marketSymbols = PromptContext.symbols(trader: inputs.trader, market: inputs.market).filter {
            inputs.market.symbols[$0] != nil
        }
        markets = marketSymbols.compactMap { inputs.market.symbols[$0] }
        positions = inputs.account.positions.keys.sorted().compactMap { symbol in
            inputs.account.positions[symbol].map { (symbol, $0) }
        }
        memory = inputs.memory
        trades = inputs.memory?.trades.reversed() ?? []
        cycles = inputs.memory?.cycles.reversed() ?? []
    }

    /// The element of a list a variable is read from: its index, and the index of the element it sits in
    /// (a cycle's decision).
    struct Element {
        var index: Int
        var parent: Int
    }

    typealias Write = @Sendable (UserPromptModel, Element, inout [UInt8]) -> Void
    typealias Count = @Sendable (UserPromptModel, Element) -> Int

    /// The kinds of scope the user prompt has: the whole prompt and one element of each list.
    enum Kind: Sendable {
        case root, market, position, trade, cycle, decision

        struct Text: Sendable {
            let name: String
            /// Present only when the trader's memory is (the memory variables).
            let needsMemory: Bool
            let write: Write
        }

        struct List: Sendable {
            let name: String
            let needsMemory: Bool
            let kind: Kind
            let count: Count
        }

        var texts: [Text] { Self.texts[self] ?? [] }
        var lists: [List] { Self.lists[self] ?? [] }

        func text(_ name: String, memory: Bool) -> Text? {
            texts.first { $0.name == name && (memory || !$0.needsMemory) }
        }

        func list(_ name: String, memory: Bool) -> List? {
            lists.first { $0.name == name && (memory || !$0.needsMemory) }
        }

        private static let lists: [Kind: [List]] = [
            .root: [
                List(name: "markets", needsMemory: false, kind: .market) { model, _ in model.markets.count },
                List(name: "positions", needsMemory: false, kind: .position) { model, _ in model.positions.count },
                List(name: "recent_trades", needsMemory: true, kind: .trade) { model, _ in model.trades.count },
                List(name: "recent_cycles", needsMemory: true, kind: .cycle) { model, _ in model.cycles.count },
            ],
            .cycle: [
                List(name: "decisions", needsMemory: true, kind: .decision) { model, element in
                    model.cycles[element.index].verdicts.count
                }
            ],
        ]

        private static let texts: [Kind: [Text]] = [
            .root: rootTexts, .market: marketTexts, .position: positionTexts, .trade: tradeTexts,
            .cycle: cycleTexts, .decision: decisionTexts,
        ]
    }

    /// The variables of the whole prompt (`PromptContext.user`).
    package func scope() -> PromptScope {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        return scope(.root, Element(index: 0, parent: 0), buffer: &buffer)
    }

    /// The text of one variable (for the variable scopes).
    func text(_ write: Write, _ element: Element, buffer: inout [UInt8]) -> String {
        buffer.removeAll(keepingCapacity: true)
        write(self, element, &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// The variables of one scope of `kind` (what `PromptContext.user` gives swift-mustache and the compiled
    /// template).
    func scope(_ kind: Kind, _ element: Element, buffer: inout [UInt8]) -> PromptScope {
        let hasMemory = memory != nil
        var scope: PromptScope = [:]
        for text in kind.texts where hasMemory || !text.needsMemory {
            scope[text.name] = .text(self.text(text.write, element, buffer: &buffer))
        }
        for list in kind.lists where hasMemory || !list.needsMemory {
            scope[list.name] = .list(
                (0..<list.count(self, element)).map { index in
                    self.scope(list.kind, Element(index: index, parent: element.index), buffer: &buffer)
                }
            )
        }
        return scope
    }
}

// MARK: The variables (README, "Template variables")

extension UserPromptModel {
    private static func minutes(_ milliseconds: Int64, into bytes: inout [UInt8]) {
        ASCIIDigits.appendSigned(max(0, milliseconds / 60_000), to: &bytes)
    }

    private static func string(_ text: String, into bytes: inout [UInt8]) { bytes.append(contentsOf: text.utf8) }

    private static func number(_ value: Double, into bytes: inout [UInt8]) {
        PromptContext.appendNumber(value, to: &bytes)
    }

    private static func number(_ value: Double?, or absent: String, into bytes: inout [UInt8]) {
        if let value { number(value, into: &bytes) } else { string(absent, into: &bytes) }
    }

    private static func list(_ values: [Double], into bytes: inout [UInt8]) {
        PromptContext.appendList(values, to: &bytes)
    }

    fileprivate static let rootTexts: [Kind.Text] =
        [
            .init(name: "minutes_since_start", needsMemory: false) { model, _, bytes in
                minutes(model.inputs.now - model.inputs.startedAt, into: &bytes)
            },
            .init(name: "now_iso", needsMemory: false) { model, _, bytes in
                string(PromptContext.iso(model.inputs.now), into: &bytes)
            },
            .init(name: "invocation_count", needsMemory: false) { model, _, bytes in
                ASCIIDigits.appendSigned(Int64(model.inputs.invocationCount), to: &bytes)
            },
            .init(name: "intraday_interval", needsMemory: false) { model, _, bytes in
                string(model.inputs.intradayInterval, into: &bytes)
            },
            .init(name: "context_interval", needsMemory: false) { model, _, bytes in
                string(model.inputs.contextInterval, into: &bytes)
            },
            .init(name: "return_pct", needsMemory: false) { model, _, bytes in
                let capital = model.inputs.capital
                number(capital > 0 ? (model.equity / capital - 1) * 100 : 0, into: &bytes)
            },
            .init(name: "cash_usd", needsMemory: false) { model, _, bytes in
                number(model.inputs.account.cash, into: &bytes)
            },
            .init(name: "equity_usd", needsMemory: false) { model, _, bytes in number(model.equity, into: &bytes) },
            .init(name: "sharpe", needsMemory: false) { model, _, bytes in number(model.inputs.sharpe, into: &bytes) },
        ] + window("day") { $0.day } + window("week") { $0.week }

    /// The last day's or week's results (memory).
    private static func window(
        _ prefix: String,
        _ window: @escaping @Sendable (PromptMemory) -> PerformanceWindow
    ) -> [Kind.Text] {
        func text(
            _ suffix: String,
            _ write: @escaping @Sendable (PerformanceWindow, inout [UInt8]) -> Void
        )
            -> Kind.Text
        {
            .init(name: prefix + suffix, needsMemory: true) { model, _, bytes in
                write(model.memory.map(window) ?? PerformanceWindow(), &bytes)
            }
        }
        return [
            text("_trades") { ASCIIDigits.appendSigned(Int64($0.trades), to: &$1) },
            text("_win_rate_pct") { window, bytes in
                guard window.trades > 0 else { return string("n/a", into: &bytes) }
                number(Double(window.wins) / Double(window.trades) * 100, into: &bytes)
            },
            text("_net_pnl") { number($0.netPnL, into: &$1) },
            text("_sharpe") { number($0.sharpe, into: &$1) },
        ]
    }

    // Each value is read where it lies in the model (passing the whole snapshot would copy it per variable), by a
    // function that captures nothing: one made by a helper from an accessor has a context object, which every
    // write retains and releases — from every core at once while replay renders in parallel.
    fileprivate static let marketTexts: [Kind.Text] = [
        .init(name: "symbol", needsMemory: false) { model, element, bytes in
            string(model.marketSymbols[element.index], into: &bytes)
        },
        .init(name: "price", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].price, into: &bytes)
        },
        .init(name: "ema20", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].ema20, into: &bytes)
        },
        .init(name: "macd", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].macd, into: &bytes)
        },
        .init(name: "rsi7", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].rsi7, into: &bytes)
        },
        .init(name: "open_interest", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].openInterest, or: "n/a", into: &bytes)
        },
        .init(name: "funding_rate", needsMemory: false) { model, element, bytes in
            if let rate = model.markets[element.index].fundingRate {
                GeneralNumberFormat.append(rate, significantDigits: 8, to: &bytes)
            } else {
                string("n/a", into: &bytes)
            }
        },
        .init(name: "intraday_prices", needsMemory: false) { model, element, bytes in
            list(model.markets[element.index].intraday.prices, into: &bytes)
        },
        .init(name: "intraday_ema20", needsMemory: false) { model, element, bytes in
            list(model.markets[element.index].intraday.ema20, into: &bytes)
        },
        .init(name: "intraday_macd", needsMemory: false) { model, element, bytes in
            list(model.markets[element.index].intraday.macd, into: &bytes)
        },
        .init(name: "intraday_rsi7", needsMemory: false) { model, element, bytes in
            list(model.markets[element.index].intraday.rsi7, into: &bytes)
        },
        .init(name: "intraday_rsi14", needsMemory: false) { model, element, bytes in
            list(model.markets[element.index].intraday.rsi14, into: &bytes)
        },
        .init(name: "context_ema20", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].context.ema20, into: &bytes)
        },
        .init(name: "context_ema50", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].context.ema50, into: &bytes)
        },
        .init(name: "context_atr3", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].context.atr3, into: &bytes)
        },
        .init(name: "context_atr14", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].context.atr14, into: &bytes)
        },
        .init(name: "context_volume", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].context.volume, into: &bytes)
        },
        .init(name: "context_volume_avg", needsMemory: false) { model, element, bytes in
            number(model.markets[element.index].context.averageVolume, into: &bytes)
        },
        .init(name: "context_macd", needsMemory: false) { model, element, bytes in
            list(model.markets[element.index].context.macd, into: &bytes)
        },
        .init(name: "context_rsi14", needsMemory: false) { model, element, bytes in
            list(model.markets[element.index].context.rsi14, into: &bytes)
        },
    ]

    fileprivate static let positionTexts: [Kind.Text] = [
        .init(name: "symbol", needsMemory: false) { model, element, bytes in
            string(model.positions[element.index].symbol, into: &bytes)
        },
        .init(name: "quantity", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.quantity, into: &bytes)
        },
        .init(name: "entry_price", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.entryPrice, into: &bytes)
        },
        .init(name: "current_price", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.markPrice, into: &bytes)
        },
        .init(name: "liquidation_price", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.liquidationPrice, into: &bytes)
        },
        .init(name: "unrealized_pnl", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.unrealizedPnL, into: &bytes)
        },
        .init(name: "leverage", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.leverage, into: &bytes)
        },
        .init(name: "stop_loss", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.stopLoss, or: "none", into: &bytes)
        },
        .init(name: "profit_target", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.takeProfit, or: "none", into: &bytes)
        },
        .init(name: "invalidation_condition", needsMemory: false) { model, element, bytes in
            string(model.positions[element.index].position.invalidationCondition, into: &bytes)
        },
        .init(name: "confidence", needsMemory: false) { model, element, bytes in
            number(model.positions[element.index].position.confidence, into: &bytes)
        },
        .init(name: "age_minutes", needsMemory: false) { model, element, bytes in
            minutes(model.inputs.now - model.positions[element.index].position.openedAt, into: &bytes)
        },
        .init(name: "entry_reasoning", needsMemory: true) { model, element, bytes in
            let symbol = model.positions[element.index].symbol
            string(PromptContext.oneLine(model.memory?.entryReasons[symbol]), into: &bytes)
        },
    ]

    fileprivate static let tradeTexts: [Kind.Text] = {
        func trade(
            _ name: String,
            _ write: @escaping @Sendable (RememberedTrade, Int64, inout [UInt8]) -> Void
        )
            -> Kind.Text
        {
            .init(name: name, needsMemory: true) { model, element, bytes in
                write(model.trades[element.index], model.inputs.now, &bytes)
            }
        }
        return [
            trade("symbol") { trade, _, bytes in string(trade.symbol, into: &bytes) },
            trade("side") { trade, _, bytes in string(trade.quantity >= 0 ? "long" : "short", into: &bytes) },
            trade("quantity") { trade, _, bytes in number(abs(trade.quantity), into: &bytes) },
            trade("entry_price") { trade, _, bytes in number(trade.entryPrice, into: &bytes) },
            trade("exit_price") { trade, _, bytes in number(trade.exitPrice, into: &bytes) },
            trade("net_pnl") { trade, _, bytes in number(trade.netPnL, into: &bytes) },
            trade("held_minutes") { trade, _, bytes in minutes(trade.exitTime - trade.entryTime, into: &bytes) },
            trade("closed_minutes_ago") { trade, now, bytes in minutes(now - trade.exitTime, into: &bytes) },
            trade("entry_reasoning") { trade, _, bytes in
                string(PromptContext.oneLine(trade.entryReasoning), into: &bytes)
            },
            trade("close_reason") { trade, _, bytes in string(trade.closeReason, into: &bytes) },
        ]
    }()

    fileprivate static let cycleTexts: [Kind.Text] = [
        .init(name: "minutes_ago", needsMemory: true) { model, element, bytes in
            minutes(model.inputs.now - model.cycles[element.index].time, into: &bytes)
        },
        .init(name: "outcome", needsMemory: true) { model, element, bytes in
            string(model.cycles[element.index].outcome, into: &bytes)
        },
        .init(name: "reason", needsMemory: true) { model, element, bytes in
            string(model.cycles[element.index].reason ?? "none", into: &bytes)
        },
    ]

    fileprivate static let decisionTexts: [Kind.Text] = {
        func decision(
            _ name: String,
            _ write: @escaping @Sendable (ConversationsDocument.Verdict, inout [UInt8]) -> Void
        ) -> Kind.Text {
            .init(name: name, needsMemory: true) { model, element, bytes in
                write(model.cycles[element.parent].verdicts[element.index], &bytes)
            }
        }
        return [
            decision("symbol") { string($0.symbol, into: &$1) },
            decision("signal") { string($0.signal, into: &$1) },
            decision("verdict") { string($0.accepted ? "accepted" : "refused", into: &$1) },
            decision("reasons") { verdict, bytes in
                string(verdict.reasons.isEmpty ? "none" : verdict.reasons.joined(separator: ", "), into: &bytes)
            },
        ]
    }()
}
