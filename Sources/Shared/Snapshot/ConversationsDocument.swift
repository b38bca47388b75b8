/// `GET /api/conversations`: the prompts and answers of recent cycles, per trader (nof0 design).
/// `timestamp` is Unix seconds. The API adds `serverTime`.
package struct ConversationsDocument: Codable, Sendable, Equatable {
    package struct Message: Codable, Sendable, Equatable {
        /// `system`, `user` or `assistant`.
        package var role: String
        package var content: String
        package var timestamp: Double

        package init(role: String, content: String, timestamp: Double) {
            self.role = role
            self.content = content
            self.timestamp = timestamp
        }
    }

    /// What risk said about one decision (added): `reasons` are the reason codes, empty when accepted.
    package struct Verdict: Codable, Sendable, Equatable {
        package var symbol: String
        package var signal: String
        package var accepted: Bool
        package var reasons: [String]

        package init(symbol: String, signal: String, accepted: Bool, reasons: [String]) {
            self.symbol = symbol
            self.signal = signal
            self.accepted = accepted
            self.reasons = reasons
        }
    }

    /// One order the cycle sent and what became of it (added).
    package struct Order: Codable, Sendable, Equatable {
        package var symbol: String
        /// `buy` or `sell`.
        package var side: String
        /// The order kind as the journal writes it: `market_ioc`, `limit_ioc`, `stop_loss`, `take_profit`, ….
        package var kind: String
        package var size: Double
        package var reduceOnly: Bool
        /// `filled`, `resting`, `rejected`, `cancelled`, …; absent when no result was recorded.
        package var status: String?
        package var filledSize: Double?
        package var averagePrice: Double?
        package var reason: String?

        package init(
            symbol: String,
            side: String,
            kind: String,
            size: Double,
            reduceOnly: Bool,
            status: String? = nil,
            filledSize: Double? = nil,
            averagePrice: Double? = nil,
            reason: String? = nil
        ) {
            self.symbol = symbol
            self.side = side
            self.kind = kind
            self.size = size
            self.reduceOnly = reduceOnly
            self.status = status
            self.filledSize = filledSize
            self.averagePrice = averagePrice
            self.reason = reason
        }

        enum CodingKeys: String, CodingKey {
            case symbol, side, kind, size, status, reason
            case reduceOnly = "reduce_only"
            case filledSize = "filled_size"
            case averagePrice = "average_price"
        }
    }

    package struct Conversation: Codable, Sendable, Equatable {
        package var modelID: String
        package var llmModel: String?
        /// The journal cycle this conversation belongs to (added field).
        package var cycleID: String?
        package var messages: [Message]
        /// The cycle's outcome (`completed`, `held`, `failed_closed`, …) and its reason code (added fields).
        package var outcome: String?
        package var reason: String?
        /// Risk's verdict on every decision, and the orders sent (added fields).
        package var verdicts: [Verdict]?
        package var orders: [Order]?

        package init(
            modelID: String,
            llmModel: String? = nil,
            cycleID: String? = nil,
            messages: [Message],
            outcome: String? = nil,
            reason: String? = nil,
            verdicts: [Verdict]? = nil,
            orders: [Order]? = nil
        ) {
            self.modelID = modelID
            self.llmModel = llmModel
            self.cycleID = cycleID
            self.messages = messages
            self.outcome = outcome
            self.reason = reason
            self.verdicts = verdicts
            self.orders = orders
        }

        enum CodingKeys: String, CodingKey {
            case modelID = "model_id"
            case llmModel = "llm_model"
            case cycleID = "cycle_id"
            case messages, outcome, reason, verdicts, orders
        }
    }

    package var conversations: [Conversation]
    package var serverTime: Int64?

    package init(conversations: [Conversation], serverTime: Int64? = nil) {
        self.conversations = conversations
        self.serverTime = serverTime
    }
}
