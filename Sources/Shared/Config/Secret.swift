/// A credential read from the environment. It prints as `<redacted>` wherever it is interpolated,
/// so it cannot leak into logs, journals, snapshots or error messages by accident.
package struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself; read it only where it is sent to the service it belongs to.
    package let revealed: String
    /// The environment variable it came from, if any (safe to print).
    package let variable: String?

    package init(_ value: String, variable: String? = nil) {
        self.revealed = value
        self.variable = variable
    }

    package var isEmpty: Bool { revealed.isEmpty }
    package var description: String { isEmpty ? "<empty>" : "<redacted>" }
    package var debugDescription: String { description }
}
