import Shared

/// What a consensus cycle journals: each member's answer (or why it has none), so that replay combines them again.
package struct ConsensusRecord: Sendable, Codable, Equatable {
    package struct Member: Sendable, Codable, Equatable {
        package var model: String
        /// The member's answer text, as the model gave it; nil when it gave none.
        package var answer: String?
        /// Why the member does not count: no answer (timeout, error, budget) or an invalid one.
        package var error: String?

        package init(model: String, answer: String?, error: String?) {
            self.model = model
            self.answer = answer
            self.error = error
        }
    }

    /// The consensus alias and its rule at the time.
    package var model: String
    package var rule: String
    package var members: [Member]

    package init(model: String, rule: String, members: [Member]) {
        self.model = model
        self.rule = rule
        self.members = members
    }
}

/// Combines the decisions of a consensus's members per symbol by its rule. Pure and deterministic: the live cycle
/// and `engine replay` both call it on the members' parsed answers.
///
/// For each symbol any valid member decided on (a valid member that leaves a symbol out holds it), the members'
/// signals are counted (by weight for `weighted`). The winning signal needs: more than half of the valid answers
/// (`majority`), at least `threshold` of their weight and more than any other signal (`weighted`), every valid
/// answer (`unanimous`), or — `highest_confidence` — to be the single most confident decision, at least
/// `threshold` confident. Otherwise the symbol holds. The winning decision is the most confident agreeing
/// member's (its size, stops, leverage), with a reasoning that says who agreed.
package enum ConsensusCombiner {
    package struct Outcome: Sendable, Equatable {
        package var decisions: [Decision]
        /// The members whose answers counted.
        package var valid: [String]
        /// Members without a valid answer, with why.
        package var failed: [(model: String, error: String)]

        package static func == (lhs: Outcome, rhs: Outcome) -> Bool {
            lhs.decisions == rhs.decisions && lhs.valid == rhs.valid
                && lhs.failed.map(\.model) == rhs.failed.map(\.model)
                && lhs.failed.map(\.error) == rhs.failed.map(\.error)
        }

        /// Whether enough members answered validly.
        package func hasQuorum(_ consensus: LLMConfiguration.Consensus) -> Bool { valid.count >= consensus.minMembers }
    }

    /// The combined decisions as an answer text (`{"decisions":[…]}`, keys sorted), which the parser reads back
    /// to the same decisions.
    package static func answerText(_ decisions: [Decision]) throws -> String {
        struct Answer: Encodable { let decisions: [Decision] }
        var bytes: [UInt8] = []
        try SortedJSONEncoder().encode(Answer(decisions: decisions), into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses each member's answer and combines the valid ones.
    package static func combine(
        _ members: [ConsensusRecord.Member],
        consensus: LLMConfiguration.Consensus,
        symbols: [String]
    ) -> Outcome {
        var answers: [(model: String, decisions: [Decision])] = []
        var failed: [(model: String, error: String)] = []
        for member in members {
            guard let text = member.answer else {
                failed.append((member.model, member.error ?? "no answer"))
                continue
            }
            do {
                answers.append((member.model, try DecisionParser.parse(text)))
            } catch {
                failed.append((member.model, "invalid answer: \(error.message)"))
            }
        }
        return Outcome(
            decisions: combine(answers, consensus: consensus, symbols: symbols),
            valid: answers.map(\.model),
            failed: failed
        )
    }

    /// Combines valid answers (member alias and its decisions), symbol by symbol: the trader's symbols first, then
    /// any other symbol named (risk refuses those), sorted.
    package static func combine(
        _ answers: [(model: String, decisions: [Decision])],
        consensus: LLMConfiguration.Consensus,
        symbols: [String]
    ) -> [Decision] {
        guard !answers.isEmpty else { return [] }
        var named = Set<String>()
        for answer in answers { for decision in answer.decisions { named.insert(decision.symbol) } }
        let order = symbols.filter(named.contains) + named.subtracting(symbols).sorted()
        return order.map { symbol in
            decide(
                symbol,
                votes: answers.map { answer in
                    (answer.model, answer.decisions.first { $0.symbol == symbol })
                },
                consensus: consensus
            )
        }
    }

    private static func decide(
        _ symbol: String,
        votes: [(model: String, decision: Decision?)],
        consensus: LLMConfiguration.Consensus
    ) -> Decision {
        let rule = consensus.rule
        // A member that left the symbol out holds it (`highest_confidence` only weighs decisions given).
        let ballots: [(model: String, decision: Decision)] = votes.compactMap { vote in
            if let decision = vote.decision { return (vote.model, decision) }
            return rule == .highestConfidence
                ? nil : (vote.model, Decision(symbol: symbol, signal: .hold, confidence: 0))
        }
        let tally = ballots.map { "\($0.decision.signal.rawValue) by \($0.model)" }.joined(separator: ", ")
        func hold(_ why: String) -> Decision {
            Decision(
                symbol: symbol,
                signal: .hold,
                confidence: 0,
                reasoning: "consensus (\(rule.rawValue)): no agreement, held — \(why) [\(tally)]"
            )
        }
        var winner: Decision.Signal
        switch rule {
        case .majority, .weighted, .unanimous:
            var weight: [Decision.Signal: Double] = [:]
            for ballot in ballots {
                weight[ballot.decision.signal, default: 0] += rule == .weighted ? consensus.weight(ballot.model) : 1
            }
            let total = weight.values.reduce(0, +)
            let ranked = weight.sorted { ($0.value, $0.key.rawValue) > ($1.value, $1.key.rawValue) }
            guard let top = ranked.first, total > 0 else { return hold("no valid answer") }
            if ranked.count > 1, ranked[1].value == top.value { return hold("a tie") }
            switch rule {
            case .majority where top.value * 2 <= total:
                return hold("no signal has more than half of the answers")
            case .weighted where top.value / total < consensus.threshold:
                return hold("no signal has \(consensus.threshold) of the weight")
            case .unanimous where ranked.count > 1:
                return hold("the answers differ")
            default:
                winner = top.key
            }
        case .highestConfidence:
            let best = ballots.map(\.decision.confidence).max() ?? 0
            let top = Set(ballots.filter { $0.decision.confidence == best }.map(\.decision.signal))
            guard let signal = top.first, top.count == 1 else {
                return hold(ballots.isEmpty ? "no decision" : "the most confident answers differ")
            }
            guard best >= consensus.threshold else { return hold("no answer is \(consensus.threshold) confident") }
            winner = signal
        }
        // The most confident agreeing member's decision (first in the members' order on a tie).
        let agreeing = ballots.filter { $0.decision.signal == winner }
        guard var chosen = agreeing.max(by: { $0.decision.confidence < $1.decision.confidence })
        else { return hold("no decision") }
        if let first = agreeing.first(where: { $0.decision.confidence == chosen.decision.confidence }) {
            chosen = first
        }
        var decision = chosen.decision
        let prefix =
            "consensus (\(rule.rawValue)): \(winner.rawValue) by \(agreeing.map(\.model).joined(separator: ", ")) "
            + "of \(ballots.count) [\(tally)]; \(chosen.model): "
        decision.reasoning = String((prefix + (decision.reasoning ?? "")).prefix(4000))
        return decision
    }
}
