import Shared

extension SortedJSONWriter {
    /// A `[String: V]` as `JSONEncoder` writes it with sorted keys, each value written by `write`. Here, beside the
    /// journal's record types, so that it is specialized for each of them (the writer's own `object(keys:_:)` is
    /// not generic: from another module a generic one looked up its types' metadata on every record).
    mutating func object<V>(_ dictionary: [String: V], _ write: (inout SortedJSONWriter, V) throws -> Void) rethrows {
        try object(keys: Array(dictionary.keys)) { writer, key in
            if let value = dictionary[key] { try write(&writer, value) }
        }
    }
}
