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

    package struct Conversation: Codable, Sendable, Equatable {
        package var modelID: String
        package var llmModel: String?
        /// The journal cycle this conversation belongs to (added field).
        package var cycleID: String?
        package var messages: [Message]

        package init(modelID: String, llmModel: String? = nil, cycleID: String? = nil, messages: [Message]) {
            self.modelID = modelID
            self.llmModel = llmModel
            self.cycleID = cycleID
            self.messages = messages
        }

        enum CodingKeys: String, CodingKey {
            case modelID = "model_id"
            case llmModel = "llm_model"
            case cycleID = "cycle_id"
            case messages
        }
    }

    package var conversations: [Conversation]
    package var serverTime: Int64?

    package init(conversations: [Conversation], serverTime: Int64? = nil) {
        self.conversations = conversations
        self.serverTime = serverTime
    }
}
