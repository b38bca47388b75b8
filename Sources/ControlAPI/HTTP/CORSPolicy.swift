import HTTPTypes

/// Which browser origins may read the API. `*` (the default) allows any.
struct CORSPolicy: Sendable {
    let origins: [String]

    var allowsAny: Bool { origins.contains("*") }

    /// With a list of origins every response depends on the request's `Origin` (allowed or not, present or
    /// not), so every one says `Vary: Origin`: a shared cache must never hand one origin's answer to another.
    func apply(to headers: inout HTTPFields, origin: String?) {
        if allowsAny {
            headers[.accessControlAllowOrigin] = "*"
            return
        }
        headers.append(HTTPField(name: .vary, value: "Origin"))
        if let origin, origins.contains(origin) { headers[.accessControlAllowOrigin] = origin }
    }
}
