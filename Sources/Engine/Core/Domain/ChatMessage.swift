/// One message of a conversation with a model (system, user or assistant).
package struct ChatMessage: Sendable, Equatable, Codable {
    package var role: String
    package var content: String

    package init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
