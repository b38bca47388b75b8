import HTTPTypes

/// Which browser origins may read the API. `*` (the default) allows any.
struct CORSPolicy: Sendable {
    let origins: [String]

    var allowsAny: Bool { origins.contains("*") }

    func apply(to headers: inout HTTPFields, origin: String?) {
        if allowsAny {
            headers[.accessControlAllowOrigin] = "*"
        } else if let origin, origins.contains(origin) {
            headers[.accessControlAllowOrigin] = origin
            headers.append(HTTPField(name: .vary, value: "Origin"))
        }
    }
}
