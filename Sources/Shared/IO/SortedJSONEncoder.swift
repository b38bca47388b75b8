import CText
import Foundation
import Synchronization

/// Encodes any `Encodable` to the exact bytes Foundation's `JSONEncoder` gives with
/// `[.sortedKeys, .withoutEscapingSlashes]` — the journal's format — about twice as fast on journal records:
/// values go into a light tree of final classes instead of Foundation's boxed containers, and the tree is written
/// straight into one byte buffer. Coding paths are not tracked (no type here reads them; an error names no path). Same keys (the types' own `Codable` conformances decide them), same omissions, same number and string
/// forms: a Double as its shortest round-trip `description` without a trailing `.0` (`-0.0` as `-0`), integers
/// as themselves, keys sorted by their UTF-8 bytes, `"`/`\`/control characters escaped as Foundation does, `/`
/// and non-ASCII left as they are, `Data` as base64. A non-finite number is an error, as it is for `JSONEncoder`.
/// `SortedJSONEncoderTests` compares both encoders byte for byte on real records.
package struct SortedJSONEncoder: Sendable {
    /// The sorted key order of each object shape seen, reused by every later value of that shape.
    private let orders = KeyOrderCache()

    package init() {}

    package func encode<T: Encodable>(_ value: T) throws -> Data {
        try encode(value, numbers: nil)
    }

    /// With `numbers`, the text of doubles it has seen is copied instead of formatted again (same bytes): for
    /// a run of records whose market series repeat most of their values, on one thread.
    package func encode<T: Encodable>(_ value: T, numbers: DoubleTextCache?) throws -> Data {
        try data(value, numbers: numbers, newline: false)
    }

    /// The encoding and a newline: a journal line, made without copying the record's bytes twice.
    package func encodeLine<T: Encodable>(_ value: T, numbers: DoubleTextCache?) throws -> Data {
        try data(value, numbers: numbers, newline: true)
    }

    /// The same line for a value known to write itself (a journal record): no dynamic cast, which copied the whole
    /// record into an existential box and out again for every line, and its bytes as they were written, not
    /// copied into a `Data`.
    package func lineBytes<T: SortedJSONWritable & Encodable>(_ value: T, numbers: DoubleTextCache?) throws -> [UInt8] {
        try lineBytes(numbers: numbers) { try value.writeSortedJSON(to: &$0) }
    }

    /// A line written by `write` (a record written against the one before it).
    package func lineBytes(
        numbers: DoubleTextCache?,
        _ write: (inout SortedJSONWriter) throws -> Void
    ) throws -> [UInt8] {
        var writer = SortedJSONWriter(numbers: numbers, capacity: numbers?.lineCapacity ?? 4096)
        try write(&writer)
        Self.finishLine(&writer, numbers: numbers, newline: true)
        return writer.bytes
    }

    private func data<T: Encodable>(_ value: T, numbers: DoubleTextCache?, newline: Bool) throws -> Data {
        // A value that writes itself (a journal record) goes straight into one buffer the size of the last one
        // (the same bytes as through `valueNode`: its writer's bytes are the node written raw). Each grown or
        // copied buffer was a copy of the whole record.
        if var writer = try writtenBySelf(value, numbers: numbers, capacity: numbers?.lineCapacity ?? 4096) {
            Self.finishLine(&writer, numbers: numbers, newline: newline)
            return writer.bytes.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4096)
        try encode(value, into: &bytes, numbers: numbers)
        if newline { bytes.append(UInt8(ascii: "\n")) }
        return Data(bytes)
    }

    /// A self-written value's line ends (the newline when asked); the next line reserves a little more than this
    /// one took.
    private static func finishLine(_ writer: inout SortedJSONWriter, numbers: DoubleTextCache?, newline: Bool) {
        if newline { writer.newline() }
        numbers?.lineCapacity = max(4096, writer.bytes.count + writer.bytes.count / 8)
    }

    /// What `JSONEncoder` gives with `.sortedKeys` alone (slashes escaped as `\/`). A `/` can only stand inside
    /// a string (key or value) of JSON text, so escaping every one in the output is exactly that.
    package func encodeEscapingSlashes<T: Encodable>(_ value: T) throws -> Data {
        var plain: [UInt8] = []
        plain.reserveCapacity(1024)
        try encode(value, into: &plain)
        return Data(Self.escapingSlashes(plain))
    }

    /// `plain` with each `/` written `\/`, as `JSONEncoder` writes it without `.withoutEscapingSlashes`.
    /// The slashes are found with `memchr` and the runs between them copied whole into an array made at its final
    /// size (a byte-by-byte append, then a byte-by-byte scan, were 15 % of writing a baseline's answer, itself a
    /// tenth of a backtest's loop).
    package static func escapingSlashes(_ plain: [UInt8]) -> [UInt8] {
        plain.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return plain }
            let slash = Int32(UInt8(ascii: "/"))
            /// The index of the first slash at or after `start`, or the end.
            func next(_ start: Int) -> Int {
                guard start < source.count, let found = memchr(base + start, slash, source.count - start) else {
                    return source.count
                }
                return UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - base
            }
            var slashes = 0
            var at = next(0)
            while at < source.count {
                slashes += 1
                at = next(at + 1)
            }
            guard slashes > 0 else { return plain }
            return [UInt8](unsafeUninitializedCapacity: source.count + slashes) { out, initialized in
                var written = 0
                var start = 0
                var index = next(0)
                while index < source.count {
                    out.baseAddress!.advanced(by: written).update(from: base + start, count: index - start)
                    written += index - start
                    out[written] = UInt8(ascii: "\\")
                    written += 1
                    start = index
                    index = next(index + 1)
                }
                out.baseAddress!.advanced(by: written).update(from: base + start, count: source.count - start)
                initialized = written + source.count - start
            }
        }
    }

    /// Appends the encoding of `value` to `bytes`.
    package func encode<T: Encodable>(_ value: T, into bytes: inout [UInt8], numbers: DoubleTextCache? = nil) throws {
        let root = try valueNode(value, codingPath: [], numbers: numbers)
        try root.write(into: &bytes, orders: orders)
    }

    static func node<T: Encodable>(for value: T, codingPath: [any CodingKey]) throws -> JSONNode {
        if T.self == Data.self { return .string((value as! Data).base64EncodedString()) }
        if T.self == URL.self { return .string((value as! URL).absoluteString) }
        let encoder = NodeEncoder(codingPath: codingPath)
        try value.encode(to: encoder)
        return encoder.result ?? .object(JSONObject())
    }
}

/// One value of the tree.
enum JSONNode {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case array(JSONArray)
    case object(JSONObject)
    /// An array of numbers, written straight from the array (the bulk of a record: indicator series).
    case doubles([Double])
    /// Bytes a `SortedJSONWritable` value wrote itself.
    case raw([UInt8])

    func write(into bytes: inout [UInt8], orders: KeyOrderCache) throws {
        switch self {
        case .null: bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let value): bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
        case .integer(let value): Self.writeInteger(value, into: &bytes)
        case .unsigned(let value): ASCIIDigits.append(value, to: &bytes)
        case .double(let value):
            try Self.writeDouble(value, into: &bytes)
        case .raw(let raw):
            bytes.append(contentsOf: raw)
        case .doubles(let values): try Self.writeDoubles(values, into: &bytes)
        case .string(let value): Self.writeString(value, into: &bytes)
        case .array(let array):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in array.items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                try item.write(into: &bytes, orders: orders)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            let order = orders.order(of: object)
            for (position, at) in order.enumerated() {
                // A key encoded twice keeps its last value (the order puts equal keys in encoding order).
                if position + 1 < order.count, object.keys[order[position + 1]] == object.keys[at] { continue }
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                Self.writeString(object.keys[at], into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                try object.values[at].write(into: &bytes, orders: orders)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// The most bytes a finite Double's text takes (`-2.2250738585072014e-308` is 24).
    static let maxDoubleBytes = 32

    /// Foundation's form: the shortest round-trip `description`, without a trailing `.0`.
    static func writeDouble(_ value: Double, into bytes: inout [UInt8], numbers: DoubleTextCache? = nil) throws {
        try requireFinite(value)
        bytes.appendInPlace(upTo: maxDoubleBytes) { format(value, to: $0, numbers: numbers) }
    }

    /// `[…]` of doubles, formatted into one scratch buffer and appended at once (`BracketedList`).
    static func writeDoubles(_ values: [Double], into bytes: inout [UInt8], numbers: DoubleTextCache? = nil) throws {
        try writeDoubles(values[...], into: &bytes, numbers: numbers)
    }

    static func writeDoubles(
        _ values: ArraySlice<Double>,
        into bytes: inout [UInt8],
        numbers: DoubleTextCache? = nil
    ) throws {
        for value in values { try requireFinite(value) }
        let first = values.startIndex
        BracketedList.append(values.count, itemBytes: maxDoubleBytes, separator: ",", to: &bytes) { index, at in
            format(values[first + index], to: at, numbers: numbers)
        }
    }

    private static func requireFinite(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: [], debugDescription: "Unable to encode Double.\(value) directly in JSON.")
            )
        }
    }

    /// Writes the finite `value`'s text at `start` (room for `maxDoubleBytes`); returns its length.
    @inline(__always)
    private static func format(_ value: Double, to start: UnsafeMutablePointer<UInt8>, numbers: DoubleTextCache?) -> Int
    {
        // Whole: at or beyond 2^52 every Double is; below, exactly when truncation keeps it (no libm call).
        let integral = abs(value) >= 0x1p52 || Double(Int64(value)) == value
        if integral, abs(value) < 1e15 {
            // An integral value prints as its digits (`description` would add `.0`, which is dropped anyway);
            // `-0.0` stays `-0`.
            var count = 0
            if value < 0 || (value == 0 && value.sign == .minus) {
                start[0] = UInt8(ascii: "-")
                count = 1
            }
            return count + ASCIIDigits.write(UInt64(abs(value)), to: start + count)
        }
        if let numbers { return numbers.write(value, integral: integral, to: start) }
        return describe(value, integral: integral, to: start)
    }

    /// A finite value by its `description`, written at `start`; returns its length.
    static func describe(_ value: Double, integral: Bool, to start: UnsafeMutablePointer<UInt8>) -> Int {
        var text = value.description
        return text.withUTF8 { utf8 in
            var count = utf8.count
            // Only an integral value can print with a `.0` to drop.
            if integral, count >= 2, utf8[count - 2] == UInt8(ascii: "."), utf8[count - 1] == UInt8(ascii: "0") {
                count -= 2
            }
            start.update(from: utf8.baseAddress!, count: count)
            return count
        }
    }

    static func writeInteger(_ value: Int64, into bytes: inout [UInt8]) {
        ASCIIDigits.appendSigned(value, to: &bytes)
    }

    /// A string in quotes: runs that need no escape are copied whole (prompts are long and rarely escaped), each
    /// found by `arena_json_plain_prefix` (sixteen bytes at a time).
    static func writeString(_ value: String, into bytes: inout [UInt8]) {
        var text = value
        text.withUTF8 { utf8 in
            let count = utf8.count
            // Written into scratch room for the worst case (every byte a `\u00XX`) and appended at once: an append
            // per run and per escape (a prompt has one at every line break) was most of writing a prompt.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count * 6 + 2) { scratch in
                let out = scratch.baseAddress!
                out[0] = UInt8(ascii: "\"")
                var written = 1
                if let base = utf8.baseAddress {
                    var index = 0
                    while index < count {
                        let run = arena_json_plain_prefix(base + index, count - index)
                        (out + written).update(from: base + index, count: run)
                        written += run
                        index += run
                        guard index < count else { break }
                        written += escape(base[index], to: out + written)
                        index += 1
                    }
                }
                out[written] = UInt8(ascii: "\"")
                bytes.append(contentsOf: UnsafeBufferPointer(start: out, count: written + 1))
            }
        }
    }

    /// Writes the escape of `byte` at `out`; returns its length.
    private static func escape(_ byte: UInt8, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = UInt8(ascii: "\\")
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out[1] = byte
        case 0x08: out[1] = UInt8(ascii: "b")
        case 0x0C: out[1] = UInt8(ascii: "f")
        case 0x0A: out[1] = UInt8(ascii: "n")
        case 0x0D: out[1] = UInt8(ascii: "r")
        case 0x09: out[1] = UInt8(ascii: "t")
        default:
            out[1] = UInt8(ascii: "u")
            out[2] = UInt8(ascii: "0")
            out[3] = UInt8(ascii: "0")
            out[4] = hex[Int(byte >> 4)]
            out[5] = hex[Int(byte & 0xF)]
            return 6
        }
        return 2
    }
}

final class JSONArray {
    var items: [JSONNode] = []
}

final class JSONObject {
    private(set) var keys: [String] = []
    private(set) var values: [JSONNode] = []
    /// The `CodingKey` type that filled this object, when one type did: objects of one shape share a key order.
    private(set) var shape: ObjectIdentifier?
    private var isMixed = false

    /// Entries are kept in encoding order, a key encoded twice included: the writer keeps the last value of a
    /// key, as `JSONEncoder` does (rare; checking at each set cost more than the whole sort).
    func set(_ key: String, _ value: JSONNode) {
        keys.append(key)
        values.append(value)
    }

    func value(for key: String) -> JSONNode? { keys.lastIndex(of: key).map { values[$0] } }

    func mark(_ type: ObjectIdentifier) {
        guard !isMixed else { return }
        if let shape, shape != type {
            self.shape = nil
            isMixed = true
        } else {
            shape = type
        }
    }

    /// Indices of the entries in the order of their keys' UTF-8 bytes (what `.sortedKeys` gives), equal keys in
    /// encoding order.
    func sortedIndices() -> [Int] {
        if keys.count < 2 { return Array(keys.indices) }
        return keys.indices.sorted { left, right in
            if keys[left] == keys[right] { return left < right }
            return keys[left].utf8.lexicographicallyPrecedes(keys[right].utf8)
        }
    }
}

/// Sorted key orders by object shape and key sequence. The journal's records repeat a few dozen shapes, each
/// with the same keys in the same encoding order (literal strings, compared by identity first), so an order is
/// sorted once and reused. A shape keeps at most `perShape` key sequences (dictionaries encode their keys in a
/// per-process order), and objects of no single shape are sorted each time.
final class KeyOrderCache: Sendable {
    private struct Entry {
        var keys: [String]
        var order: [Int]
    }

    private static let perShape = 16
    private let table = Mutex<[ObjectIdentifier: [Entry]]>([:])

    func order(of object: JSONObject) -> [Int] {
        guard let shape = object.shape, object.keys.count > 1 else { return object.sortedIndices() }
        let keys = object.keys
        if let hit = table.withLock({ table in table[shape]?.first { $0.keys == keys }?.order }) { return hit }
        let order = object.sortedIndices()
        table.withLock { table in
            if table[shape, default: []].count < Self.perShape {
                table[shape, default: []].append(Entry(keys: keys, order: order))
            }
        }
        return order
    }
}

/// The `Encoder` that fills one node.
final class NodeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var result: JSONNode?

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: JSONObject
        if case .object(let existing)? = result {
            object = existing
        } else {
            object = JSONObject()
            result = .object(object)
        }
        return KeyedEncodingContainer(NodeKeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: JSONArray
        if case .array(let existing)? = result {
            array = existing
        } else {
            array = JSONArray()
            result = .array(array)
        }
        return NodeUnkeyedContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        NodeSingleValueContainer(encoder: self)
    }
}

/// The node of a primitive, or nil for any other value.
/// The node of a primitive, or nil for any other value. The types the records hold most are tried first (a
/// failed dynamic cast is what costs here).
private func primitive<T: Encodable>(_ value: T) -> JSONNode? {
    if T.self == Double.self { return .double(value as! Double) }
    if T.self == String.self { return .string(value as! String) }
    if T.self == Int.self { return .integer(Int64(value as! Int)) }
    if T.self == Int64.self { return .integer(value as! Int64) }
    if T.self == Bool.self { return .bool(value as! Bool) }
    if T.self == [Double].self { return .doubles(value as! [Double]) }
    // Metatype comparisons, not casts: a failed dynamic cast is what costs, and most values are not primitive.
    if T.self == Float.self { return .double(Double((value as! Float).description) ?? Double(value as! Float)) }
    if T.self == Int32.self { return .integer(Int64(value as! Int32)) }
    if T.self == UInt64.self { return .unsigned(value as! UInt64) }
    if T.self == UInt.self { return .unsigned(UInt64(value as! UInt)) }
    if T.self == Int16.self { return .integer(Int64(value as! Int16)) }
    if T.self == Int8.self { return .integer(Int64(value as! Int8)) }
    if T.self == UInt32.self { return .integer(Int64(value as! UInt32)) }
    if T.self == UInt16.self { return .integer(Int64(value as! UInt16)) }
    if T.self == UInt8.self { return .integer(Int64(value as! UInt8)) }
    return nil
}

private func valueNode<T: Encodable>(
    _ value: T,
    codingPath: [any CodingKey],
    numbers: DoubleTextCache? = nil
) throws -> JSONNode {
    if let simple = primitive(value) { return simple }
    if let writer = try writtenBySelf(value, numbers: numbers) { return .raw(writer.bytes) }
    return try SortedJSONEncoder.node(for: value, codingPath: codingPath)
}

/// The bytes a value that writes itself (`SortedJSONWritable`, not a primitive) wrote, in a writer that started
/// with room for `capacity`; nil for any other value.
private func writtenBySelf<T: Encodable>(
    _ value: T,
    numbers: DoubleTextCache?,
    capacity: Int = 2048
) throws -> SortedJSONWriter? {
    guard primitive(value) == nil, let writable = value as? any SortedJSONWritable else { return nil }
    var writer = SortedJSONWriter(numbers: numbers, capacity: capacity)
    try writable.writeSortedJSON(to: &writer)
    return writer
}

/// A type that writes its own journal bytes — byte for byte what its `Encodable` conformance gives through
/// `JSONEncoder` with sorted keys and unescaped slashes — for the few types that make most of a record (a
/// market snapshot's series). `SortedJSONEncoder` uses it instead of the conformance; tests compare both.
package protocol SortedJSONWritable {
    func writeSortedJSON(to writer: inout SortedJSONWriter) throws
}

/// Appends JSON with the journal's number and string forms. The caller writes keys in sorted order.
package struct SortedJSONWriter {
    package private(set) var bytes: [UInt8] = []
    /// Doubles' text seen before, when the encoder was given one.
    let numbers: DoubleTextCache?

    package init(numbers: DoubleTextCache? = nil, capacity: Int = 2048) {
        self.numbers = numbers
        bytes.reserveCapacity(capacity)
    }

    /// A line's end.
    mutating func newline() { bytes.append(UInt8(ascii: "\n")) }

    /// `{` — then `key(_:first: true)` for the first key.
    package mutating func beginObject() { bytes.append(UInt8(ascii: "{")) }
    package mutating func endObject() { bytes.append(UInt8(ascii: "}")) }

    /// `"key":`, after a comma unless it is the object's first.
    package mutating func key(_ key: StaticString, first: Bool = false) {
        // Written in place at once: each append checks the array's uniqueness and capacity.
        let length = key.utf8CodeUnitCount
        bytes.appendInPlace(upTo: length + 4) { start in
            var count = 0
            if !first {
                start[0] = UInt8(ascii: ",")
                count = 1
            }
            start[count] = UInt8(ascii: "\"")
            (start + count + 1).update(from: key.utf8Start, count: length)
            count += length + 1
            start[count] = UInt8(ascii: "\"")
            start[count + 1] = UInt8(ascii: ":")
            return count + 2
        }
    }

    /// A dynamic key (a dictionary's), escaped as a string.
    package mutating func key(_ key: String, first: Bool) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        JSONNode.writeString(key, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    package mutating func double(_ value: Double) throws {
        try JSONNode.writeDouble(value, into: &bytes, numbers: numbers)
    }

    package mutating func integer(_ value: Int64) { JSONNode.writeInteger(value, into: &bytes) }

    package mutating func string(_ value: String) { JSONNode.writeString(value, into: &bytes) }

    package mutating func bool(_ value: Bool) {
        bytes.append(contentsOf: value ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
    }

    package mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONNode.writeString(value, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A `[String: V]` as `JSONEncoder` writes it with sorted keys: an object of `keys` (the dictionary's, in any
    /// order) by their UTF-8 bytes, each key's value written by `value`. Not generic over the dictionary: a generic
    /// writer, unspecialized across modules, looked up its types' metadata on every call (every journal record).
    package mutating func object(keys: [String], _ value: (inout Self, String) throws -> Void) rethrows {
        beginObject()
        for (index, key) in (keys.count > 1 ? Self.sortedKeys(keys) : keys).enumerated() {
            self.key(key, first: index == 0)
            try value(&self, key)
        }
        endObject()
    }

    /// An object's keys in the order `JSONEncoder`'s `.sortedKeys` writes them: by their UTF-8 bytes.
    private static func sortedKeys(_ keys: [String]) -> [String] {
        keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    package mutating func doubles(_ values: [Double]) throws {
        try JSONNode.writeDoubles(values[...], into: &bytes, numbers: numbers)
    }

    package mutating func doubles(_ values: ArraySlice<Double>) throws {
        try JSONNode.writeDoubles(values, into: &bytes, numbers: numbers)
    }

    package mutating func value(_ value: some SortedJSONWritable) throws { try value.writeSortedJSON(to: &self) }

    /// A value without its own writer, through `SortedJSONEncoder` (same bytes, slower: for rare parts).
    package mutating func encodable(_ value: some Encodable) throws {
        try SortedJSONEncoder().encode(value, into: &bytes)
    }

    /// `[…]` of values that write themselves.
    package mutating func array<T: SortedJSONWritable>(_ values: [T]) throws {
        bytes.append(UInt8(ascii: "["))
        // By a counted index: unspecialized (the element's type is another module's), an enumerated sequence looks
        // up its tuple's metadata at every step and `indices` its collection's on every call.
        var index = 0
        let count = values.count
        while index < count {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            try values[index].writeSortedJSON(to: &self)
            index += 1
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

struct NodeKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    init(object: JSONObject, codingPath: [any CodingKey]) {
        self.object = object
        self.codingPath = codingPath
        object.mark(ObjectIdentifier(Key.self))
    }

    mutating func encodeNil(forKey key: Key) throws { object.set(key.stringValue, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { object.set(key.stringValue, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { object.set(key.stringValue, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { object.set(key.stringValue, .double(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { object.set(key.stringValue, .integer(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        object.set(key.stringValue, .integer(Int64(value)))
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.set(key.stringValue, try valueNode(value, codingPath: codingPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested: JSONObject
        if case .object(let existing)? = object.value(for: key.stringValue) {
            nested = existing
        } else {
            nested = JSONObject()
            object.set(key.stringValue, .object(nested))
        }
        return KeyedEncodingContainer(NodeKeyedContainer<NestedKey>(object: nested, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = JSONArray()
        object.set(key.stringValue, .array(nested))
        return NodeUnkeyedContainer(array: nested, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder { deferred(key: "super") }

    mutating func superEncoder(forKey key: Key) -> any Encoder { deferred(key: key.stringValue) }

    private func deferred(key: String) -> any Encoder {
        DeferredEncoder(codingPath: codingPath) { [object] node in object.set(key, node) }
    }
}

struct NodeUnkeyedContainer: UnkeyedEncodingContainer {
    let array: JSONArray
    let codingPath: [any CodingKey]
    var count: Int { array.items.count }

    mutating func encodeNil() throws { array.items.append(.null) }
    mutating func encode(_ value: Bool) throws { array.items.append(.bool(value)) }
    mutating func encode(_ value: String) throws { array.items.append(.string(value)) }
    mutating func encode(_ value: Double) throws { array.items.append(.double(value)) }
    mutating func encode(_ value: Int) throws { array.items.append(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) throws { array.items.append(.integer(Int64(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        array.items.append(try valueNode(value, codingPath: codingPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    )
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = JSONObject()
        array.items.append(.object(nested))
        return KeyedEncodingContainer(NodeKeyedContainer<NestedKey>(object: nested, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = JSONArray()
        array.items.append(.array(nested))
        return NodeUnkeyedContainer(array: nested, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        let position = array.items.count
        array.items.append(.null)
        return DeferredEncoder(codingPath: codingPath) { [array] node in array.items[position] = node }
    }
}

struct NodeSingleValueContainer: SingleValueEncodingContainer {
    let encoder: NodeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.result = .null }
    mutating func encode(_ value: Bool) throws { encoder.result = .bool(value) }
    mutating func encode(_ value: String) throws { encoder.result = .string(value) }
    mutating func encode(_ value: Double) throws { encoder.result = .double(value) }
    mutating func encode(_ value: Int) throws { encoder.result = .integer(Int64(value)) }
    mutating func encode(_ value: Int64) throws { encoder.result = .integer(Int64(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.result = try valueNode(value, codingPath: codingPath)
    }
}

/// An encoder whose node is handed back when it is done with (`superEncoder`): it fills its own node and the
/// owner takes it on deinit.
final class DeferredEncoder: Encoder {
    let inner: NodeEncoder
    let finish: (JSONNode) -> Void
    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(codingPath: [any CodingKey], finish: @escaping (JSONNode) -> Void) {
        self.inner = NodeEncoder(codingPath: codingPath)
        self.finish = finish
    }

    deinit { finish(inner.result ?? .object(JSONObject())) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        inner.container(keyedBy: type)
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }
}

/// The text of doubles written lately, by bit pattern, so that a value met again is copied rather than formatted
/// again: a backtest's records repeat most of their market series from one record to the next (each window moves
/// by one candle), and Swift's shortest round-trip formatting was the largest part of writing them. Direct-mapped
/// (4,096 slots, a newer value takes an older one's slot); a hit copies the bytes the formatting gave. Not
/// thread-safe: made for one run of records on one thread (`JournalWriter` makes one per run of a batch; it
/// also keeps the size of the last line, to reserve for the next).
package final class DoubleTextCache {
    private static let slotBits = 12
    private static let slotCount = 1 << slotBits
    /// A slot holds its length, then up to 31 bytes (a Double's text is at most 24).
    private static let slotBytes = 32
    private let keys: UnsafeMutablePointer<UInt64>
    private let texts: UnsafeMutablePointer<UInt8>
    /// Values copied rather than formatted.
    package private(set) var hits = 0
    /// The room reserved for the next line written with this cache: a little more than the last one took.
    var lineCapacity = 4096

    package init() {
        keys = .allocate(capacity: Self.slotCount)
        // A NaN's pattern: never a key, as only finite values are written.
        keys.initialize(repeating: UInt64.max, count: Self.slotCount)
        texts = .allocate(capacity: Self.slotCount * Self.slotBytes)
        texts.initialize(repeating: 0, count: Self.slotCount * Self.slotBytes)
    }

    deinit {
        keys.deallocate()
        texts.deallocate()
    }

    /// Writes the text of the finite `value` at `start`, as `JSONNode.describe` does; returns its length. The hit
    /// path is inlined into the writer's loop: as a call, each value paid a retain and a release of the cache.
    @inline(__always)
    func write(_ value: Double, integral: Bool, to start: UnsafeMutablePointer<UInt8>) -> Int {
        let bits = value.bitPattern
        let slot = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - Self.slotBits))
        let text = texts + slot * Self.slotBytes
        if keys[slot] == bits {
            hits &+= 1
            let count = Int(text[0])
            start.update(from: text + 1, count: count)
            return count
        }
        return format(value, integral: integral, slot: slot, to: start)
    }

    /// A value not in its slot: formatted, then kept there when its text fits.
    @inline(never)
    private func format(_ value: Double, integral: Bool, slot: Int, to start: UnsafeMutablePointer<UInt8>) -> Int {
        let count = JSONNode.describe(value, integral: integral, to: start)
        guard count < Self.slotBytes else { return count }
        keys[slot] = value.bitPattern
        let text = texts + slot * Self.slotBytes
        text[0] = UInt8(count)
        (text + 1).update(from: start, count: count)
        return count
    }
}
