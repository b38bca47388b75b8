import ArenaCore
import EngineTestSupport
import Foundation
import Shared
import Testing

/// The compiled prompt templates render exactly what swift-mustache renders: the shipped templates over real
/// contexts, a corpus of the spec's whitespace and section cases, and thousands of random templates.
@Suite struct CompiledTemplateTests {
    private static func template(_ body: String) throws -> PromptTemplate {
        try PromptTemplate(id: "t", file: PromptTemplateFile(version: "1", body: body))
    }

    /// The text each path renders, after the missing-variable check both share.
    private static func both(_ template: PromptTemplate, _ context: PromptScope) throws -> (String, String) {
        (try template.render(context), template.renderWithMustache(context))
    }

    @Test func shippedTemplates_compileAndRenderWhatMustacheRenders() throws {
        let system = try CycleHarness.template(.system)
        let user = try CycleHarness.template(.user)
        let previousUser = try CycleHarness.template(.user, version: "1.0.0")
        #expect(system.isCompiled)
        #expect(user.isCompiled)
        #expect(previousUser.isCompiled)
        // The README's list of memory variables.
        #expect(
            PromptContext.memoryVariables == [
                "entry_reasoning", "recent_trades", "recent_cycles",
                "day_trades", "day_win_rate_pct", "day_net_pnl", "day_sharpe",
                "week_trades", "week_win_rate_pct", "week_net_pnl", "week_sharpe",
            ]
        )
        #expect(user.readsAny(of: PromptContext.memoryVariables))
        #expect(!previousUser.readsAny(of: PromptContext.memoryVariables))
        for positions in [0, 1, 2] {
            let inputs = Self.shippedInputs(positions: positions)
            let (fast, reference) = try Self.both(user, PromptContext.user(inputs))
            #expect(fast == reference)
            #expect(fast.contains("ALL ETH DATA"))
            #expect(fast.contains(positions == 0 ? "- none" : "- BTC: quantity 0.02"))
            if positions == 0 {
                #expect(fast.components(separatedBy: "- none yet").count == 3)
                #expect(fast.contains("Last 24 hours: 0 closed trades, win rate (percent) n/a, net PnL 0"))
            } else {
                #expect(
                    fast.contains(
                        #"opened 10 minutes ago with confidence 0.7; your reasoning at entry: breakout above <range> & "volume""#
                    )
                )
                #expect(
                    fast.contains(
                        "- SOL short 3: entry 150, exit 140.5, net PnL 27.9, held 110 minutes, closed 10 minutes ago by: target; your reasoning at entry: not recorded"
                    )
                )
                #expect(
                    fast.contains(
                        "- 3 minutes ago: completed (reason: none); BTC buy_to_enter accepted (reasons: none); ETH sell_to_enter refused (reasons: CONFIDENCE_BELOW_MIN, LEVERAGE_EXCEEDED)\n- 6 minutes ago: failed_closed (reason: LLM_OUTPUT_INVALID)\n"
                    )
                )
                #expect(fast.contains("Last 7 days: 0 closed trades, win rate (percent) n/a, net PnL 0, Sharpe 0"))
            }
            if positions == 2 {
                #expect(fast.contains("your reasoning at entry: not recorded\n"))
                #expect(
                    fast.contains("Last 24 hours: 2 closed trades, win rate (percent) 50, net PnL 27.9, Sharpe 1.25")
                )
            }
            // The previous version renders without memory; the current one refuses to render without it.
            var withoutMemory = inputs
            withoutMemory.memory = nil
            let (fastPrevious, referencePrevious) = try Self.both(previousUser, PromptContext.user(withoutMemory))
            #expect(fastPrevious == referencePrevious)
            #expect(!fastPrevious.contains("CLOSED TRADES"))
            #expect(throws: PromptTemplate.Failure.self) { try user.render(PromptContext.user(withoutMemory)) }
            // Written straight from the typed values (what a cycle renders): the same text, the same refusal.
            #expect(user.isTyped(memory: true) && !user.isTyped(memory: false))
            #expect(previousUser.isTyped(memory: true) && previousUser.isTyped(memory: false))
            #expect(try user.renderUser(UserPromptModel(inputs)) == fast)
            #expect(try previousUser.renderUser(UserPromptModel(withoutMemory)) == fastPrevious)
            #expect(
                try previousUser.renderUser(UserPromptModel(inputs))
                    == previousUser.render(PromptContext.user(inputs))
            )
            #expect(throws: PromptTemplate.Failure.self) { try user.renderUser(UserPromptModel(withoutMemory)) }
            let (fastSystem, referenceSystem) = try Self.both(system, PromptContext.system(inputs))
            #expect(fastSystem == referenceSystem)
        }
    }

    /// The shipped templates' inputs: two markets, `positions` open positions (0 to 2) and, with them, memory
    /// (a trade with multi-line reasoning, two cycles with verdicts).
    static func shippedInputs(positions: Int) -> PromptContext.Inputs {
        let market = MarketSnapshot(
            takenAt: CycleHarness.now,
            symbols: [
                "BTC": CycleHarness.symbolSnapshot("BTC", price: 101_234.5, asOf: CycleHarness.now),
                "ETH": CycleHarness.symbolSnapshot("ETH", price: 3_456.78, asOf: CycleHarness.now),
            ]
        )
        var trader = CycleHarness.trader()
        trader.symbols = ["BTC", "ETH"]
        var account = TraderAccount(cash: 9_000, positions: [:], realizedPnL: 0, feesPaid: 0)
        for symbol in ["BTC", "ETH"].prefix(positions) {
            account.positions[symbol] = Position(
                symbol: symbol,
                quantity: symbol == "BTC" ? 0.02 : -0.5,
                entryPrice: symbol == "BTC" ? 100_000 : 3_500,
                leverage: 5,
                margin: 400,
                liquidationPrice: symbol == "BTC" ? 81_000 : 4_150,
                markPrice: symbol == "BTC" ? 101_234.5 : 3_456.78,
                stopLoss: symbol == "BTC" ? 98_000 : nil,
                takeProfit: 104_000,
                openedAt: CycleHarness.now - 600_000,
                entryOrderID: 7,
                confidence: 0.7,
                riskUSD: 40,
                invalidationCondition: "close below <the 4h EMA> & \"x\"",
                entryFee: 0.4,
                fundingPaid: 0
            )
        }
        // Memory: none yet without positions; with them, a trade with multi-line reasoning and two cycles.
        let memory = PromptMemory(
            entryReasons: positions == 0 ? [:] : ["BTC": "breakout\nabove <range> & \"volume\""],
            trades: positions == 0
                ? []
                : [
                    RememberedTrade(
                        symbol: "SOL",
                        quantity: -3,
                        entryPrice: 150,
                        exitPrice: 140.5,
                        netPnL: 27.9,
                        entryTime: CycleHarness.now - 7_200_000,
                        exitTime: CycleHarness.now - 600_000,
                        entryReasoning: nil,
                        closeReason: "target"
                    )
                ],
            cycles: positions == 0
                ? []
                : [
                    RememberedCycle(
                        time: CycleHarness.now - 360_000,
                        outcome: "failed_closed",
                        reason: "LLM_OUTPUT_INVALID",
                        verdicts: []
                    ),
                    RememberedCycle(
                        time: CycleHarness.now - 180_000,
                        outcome: "completed",
                        reason: nil,
                        verdicts: [
                            .init(symbol: "BTC", signal: "buy_to_enter", accepted: true, reasons: []),
                            .init(
                                symbol: "ETH",
                                signal: "sell_to_enter",
                                accepted: false,
                                reasons: ["CONFIDENCE_BELOW_MIN", "LEVERAGE_EXCEEDED"]
                            ),
                        ]
                    ),
                ],
            day: positions == 0
                ? PerformanceWindow()
                : PerformanceWindow(trades: positions, wins: positions > 1 ? 1 : 0, netPnL: 27.9, sharpe: 1.25),
            week: PerformanceWindow()
        )
        return PromptContext.Inputs(
            trader: trader,
            venue: "paper",
            capital: 10_000,
            market: market,
            account: account,
            now: CycleHarness.now,
            startedAt: CycleHarness.now - 7_200_000,
            invocationCount: 41,
            sharpe: 0.37,
            intradayInterval: "3m",
            contextInterval: "4h",
            decisionSchema: #"{"type":"object"}"#,
            memory: memory
        )
    }

    /// Random templates over the user prompt's variables and lists — names shadowed between sections (`symbol`
    /// of a market, a position, a trade, a decision), names of an outer scope read inside a section, inverted
    /// sections, memory variables with and without memory, names that are no variable, a section over a text,
    /// dotted names — written from the typed values and through the scopes: the same text or the same refusal.
    /// (`{{.}}` of a scope is left out: swift-mustache prints a dictionary, in no fixed order, either way.)
    @Test func randomUserTemplates_writtenFromTypedValues_matchTheScopes() throws {
        var random = SeededRandom(seed: 20_261_203)
        let texts = [
            "symbol", "price", "intraday_prices", "funding_rate", "quantity", "entry_reasoning", "side", "reason",
            "verdict", "reasons", "minutes_ago", "now_iso", "cash_usd", "day_win_rate_pct", "invocation_count",
            "nope", "markets.symbol",
        ]
        // Mostly names the innermost section (or the prompt) has, so that most templates bind.
        let plausible: [String: [String]] = [
            "": ["now_iso", "cash_usd", "invocation_count", "day_win_rate_pct"],
            "markets": ["symbol", "price", "intraday_prices", "funding_rate", "cash_usd"],
            "positions": ["symbol", "quantity", "entry_reasoning", "now_iso"],
            "recent_trades": ["symbol", "side", "entry_reasoning"],
            "recent_cycles": ["minutes_ago", "reason", "invocation_count"],
            "decisions": ["symbol", "verdict", "reasons", "minutes_ago"],
        ]
        let lists = ["markets", "positions", "recent_trades", "recent_cycles", "decisions", "price"]
        var compared = 0
        var typed = 0
        for _ in 0..<3_000 {
            var body = ""
            var open: [String] = []
            for _ in 0..<random.int(below: 12) {
                switch random.int(below: 8) {
                case 0: body += ["x ", "\n", ": "][random.int(below: 3)]
                case 1, 2, 3:
                    let names = random.int(below: 4) == 0 ? texts : plausible[open.last ?? "", default: texts]
                    body += "{{\(names[random.int(below: names.count)])}}"
                case 4, 5:
                    let name =
                        open.last == "recent_cycles" && random.int(below: 2) == 0
                        ? "decisions" : lists[random.int(below: lists.count)]
                    body += "{{\(random.int(below: 4) == 0 ? "^" : "#")\(name)}}"
                    open.append(name)
                default:
                    if let name = open.popLast() { body += "{{/\(name)}}\n" }
                }
            }
            while let name = open.popLast() { body += "{{/\(name)}}" }
            let template = try Self.template(body)
            var inputs = Self.shippedInputs(positions: random.int(below: 3))
            switch random.int(below: 3) {
            case 0: inputs.memory = nil
            case 1:
                if var memory = inputs.memory {
                    memory.cycles = Array(memory.cycles.prefix(random.int(below: 3)))
                    memory.trades = []
                    inputs.memory = memory
                }
            default: break
            }
            let viaScopes = Result { try template.render(PromptContext.user(inputs)) }
            let fromTypedValues = Result { try template.renderUser(UserPromptModel(inputs)) }
            compared += 1
            if template.isTyped(memory: inputs.memory != nil) { typed += 1 }
            switch (viaScopes, fromTypedValues) {
            case (.success(let expected), .success(let written)):
                #expect(written == expected, "template \(body.debugDescription)")
            case (.failure(let expected), .failure(let thrown)):
                #expect("\(thrown)" == "\(expected)", "template \(body.debugDescription)")
            default:
                Issue.record("template \(body.debugDescription): \(viaScopes) ≠ \(fromTypedValues)")
            }
        }
        #expect(typed > 1_000 && typed < compared, "\(typed) of \(compared) typed")
    }

    /// The mustache spec's whitespace rules and swift-mustache's own behaviour, case by case.
    @Test func corpus_rendersWhatMustacheRenders() throws {
        let context: PromptScope = [
            "a": "A", "b": "B", "yes": true, "no": false, "empty": .list([]),
            "items": [["n": "1", "x": "x1"], ["n": "2"], ["n": "3", "inner": .scope(["n": "deep"])]],
            "obj": .scope(["n": "on", "k": .scope(["v": "kv"])]), "text": "T",
        ]
        let corpus = [
            "plain", "{{a}}", "{{{a}}}", "{{&a}}", "{{ a }}", "{{ \ta\t }}", "x{{a}}y\n", "{{!c}}{{a}}",
            "{{#items}}{{n}},{{/items}}", "{{#items}}\n{{n}}\n{{/items}}\n", "  {{#items}}\n  {{n}}\n  {{/items}}\n",
            "\t{{#yes}}  \nY\n {{/yes}}\t\n", "{{#no}}N{{/no}}{{^no}}not{{/no}}", "{{^items}}none{{/items}}",
            "{{^empty}}\n- none\n{{/empty}}\n", "{{#empty}}x{{/empty}}", "{{#obj}}{{n}} {{a}} {{k.v}}{{/obj}}",
            "{{obj.k.v}} {{obj.n}} {{missing.x}}", "{{#text}}[{{.}}]{{/text}}", "{{#items}}{{.n}}|{{a}}{{/items}}",
            "{{#items}}{{#obj}}{{n}}{{k.v}}{{/obj}}{{/items}}", "a\r\n{{#yes}}\r\nb\r\n{{/yes}}\r\nc",
            "{{! standalone }}\nx",
            "  {{! indented comment }}  \ny", "x {{! inline }} y\n", "{{#yes}}\nX{{/yes}} {{! after }}\nZ",
            "{{#yes}}X{{/yes}}\n  {{#no}}\n  {{/no}}\n", "line\n   ", "line\n   {{a}}", "{{yes}} {{no}}",
            "{{#items}}{{^x}}-{{/x}}{{x}}{{/items}}", "{{#items}}\n  {{#yes}}\n  {{n}}\n  {{/yes}}\n{{/items}}",
            "{ {a} }{{a}}}", "{{a}}{{", "{a{{b}}", "{{#yes}}{{/yes}}", "\n\n{{#yes}}\n\n{{/yes}}\n\n",
            "café → {{a}} ✓", "{{a}}\n{{^yes}}\n{{/yes}}",
        ]
        var compiled = 0
        for body in corpus {
            guard let template = try? Self.template(body) else { continue }  // not valid mustache: nothing to compare
            if template.isCompiled { compiled += 1 }
            let context = context.merging(["missing": .scope([:]), "x": "X", "k": .scope([:])]) { old, _ in old }
            let missing = template.missingVariables(in: context)
            guard missing.isEmpty else {
                Issue.record("corpus case \(body.debugDescription) lacks \(missing)")
                continue
            }
            let (fast, reference) = try Self.both(template, context)
            #expect(fast == reference, "template \(body.debugDescription)")
        }
        #expect(compiled >= corpus.count - 3)
    }

    /// Random templates built from tags, names, spaces, tabs and both newlines; random contexts; same text.
    @Test func randomTemplates_renderWhatMustacheRenders() throws {
        var random = SeededRandom(seed: 20_261_202)
        let names = ["a", "b", "items", "obj", "flag", "."]
        var compared = 0
        var compiled = 0
        for _ in 0..<3_000 {
            var body = ""
            var open: [String] = []
            for _ in 0..<random.int(below: 14) {
                switch random.int(below: 11) {
                case 0: body += ["x", "word", "  ", "\t", "{", "}"][random.int(below: 6)]
                case 1: body += "\n"
                case 2: body += "\r\n"
                case 3: body += "{{\(names[random.int(below: names.count)])}}"
                case 4: body += "{{{\(names[random.int(below: 5)])}}}"
                case 5: body += "{{! note }}"
                case 6, 7:
                    let name = names[random.int(below: 5)]
                    body += "{{\(random.int(below: 3) == 0 ? "^" : "#")\(name)}}"
                    open.append(name)
                case 8, 9:
                    if let name = open.popLast() { body += "{{/\(name)}}" }
                default: body += "{{obj.n}}"
                }
            }
            while let name = open.popLast() { body += "{{/\(name)}}" }
            let context = Self.randomContext(&random)
            guard let template = try? Self.template(body), template.missingVariables(in: context).isEmpty else {
                continue
            }
            compared += 1
            if template.isCompiled { compiled += 1 }
            let (fast, reference) = try Self.both(template, context)
            if fast != reference {
                Issue.record(
                    "template \(body.debugDescription): \(fast.debugDescription) ≠ \(reference.debugDescription)"
                )
                return
            }
        }
        #expect(compared > 1_000)
        #expect(compiled == compared)
    }

    @Test func templatesOutsideTheSubset_renderThroughMustache() throws {
        let context: PromptScope = ["a": "A", "items": [["n": "1"]]]
        for body in ["{{=<% %>=}}<%a%>", "{{> partial}}{{a}}", "👩‍💻 {{a}}", "e\u{301}{{a}}"] {
            let template = try Self.template(body)
            #expect(!template.isCompiled, "\(body)")
            #expect(try template.render(context) == template.renderWithMustache(context))
        }
        // A variable naming a list has no compiled text: the render falls back and still matches.
        let list = try Self.template("{{items}}")
        #expect(list.isCompiled)
        #expect(try list.render(context) == list.renderWithMustache(context))
    }

    private static func randomContext(_ random: inout SeededRandom) -> PromptScope {
        func scalar() -> PromptValue {
            switch random.int(below: 4) {
            case 0: .flag(true)
            case 1: .flag(false)
            case 2: .text("")
            default: .text(["v", "<&>", "1.5", " sp "][random.int(below: 4)])
            }
        }
        func element() -> PromptScope {
            var scope: PromptScope = [:]
            if random.int(below: 2) == 0 { scope["a"] = scalar() }
            if random.int(below: 3) == 0 { scope["flag"] = scalar() }
            return scope
        }
        var context: PromptScope = [
            "a": scalar(), "b": scalar(), "flag": scalar(),
            "obj": .scope(["n": "on", "a": scalar()]),
        ]
        switch random.int(below: 4) {
        case 0: context["items"] = .list([])
        case 1: context["items"] = scalar()
        default: context["items"] = .list((0..<(1 + random.int(below: 3))).map { _ in element() })
        }
        return context
    }
}

/// A small deterministic generator (SplitMix64), so a failing random case is the same on every run.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
