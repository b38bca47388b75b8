import ArenaCore
import PostgresNIO

/// Rows for one table, gathered column by column and written with a single
/// `INSERT … SELECT … FROM unnest($1::type[], …)`: one statement and one round trip per table per batch, however
/// many rows. Absent values travel as sentinels (`chr(1)` text, NaN, Int64.min) that the SELECT turns into NULL.
package struct RowBatch: Sendable {
    package enum Kind: Sendable {
        case text, optionalText, int, optionalInt, double, optionalDouble, bool, jsonb
        /// Unix milliseconds stored as `timestamptz`.
        case timestamp

        package var arrayType: String {
            switch self {
            case .text, .optionalText, .jsonb: "text[]"
            case .int, .optionalInt, .timestamp: "int8[]"
            case .double, .optionalDouble: "float8[]"
            case .bool: "bool[]"
            }
        }

        package func select(_ column: String) -> String {
            switch self {
            case .optionalText: "NULLIF(\(column), chr(1))"
            case .optionalInt: "NULLIF(\(column), \(Int64.min))"
            case .optionalDouble: "NULLIF(\(column), 'NaN'::float8)"
            case .jsonb: "\(column)::jsonb"
            case .timestamp: "to_timestamp(\(column)::float8 / 1000.0)"
            case .text, .int, .double, .bool: column
            }
        }
    }

    package enum Value: Sendable {
        case text(String?)
        case int(Int64?)
        case double(Double?)
        case bool(Bool)
    }

    private enum Column: Sendable {
        case text([String])
        case int([Int64])
        case double([Double])
        case bool([Bool])
    }

    package let table: String
    package let names: [String]
    package let kinds: [Kind]
    /// What follows the SELECT: `ON CONFLICT DO NOTHING`, or an upsert.
    package let conflict: String
    private var columns: [Column]
    package private(set) var count = 0

    package init(
        _ table: String,
        _ definition: KeyValuePairs<String, Kind>,
        conflict: String = "ON CONFLICT DO NOTHING"
    ) {
        self.table = table
        self.names = definition.map(\.key)
        self.kinds = definition.map(\.value)
        self.conflict = conflict
        self.columns = kinds.map { kind in
            switch kind {
            case .text, .optionalText, .jsonb: .text([])
            case .int, .optionalInt, .timestamp: .int([])
            case .double, .optionalDouble: .double([])
            case .bool: .bool([])
            }
        }
    }

    package var isEmpty: Bool { count == 0 }

    /// One row, values in the order of the definition.
    package mutating func append(_ values: [Value]) {
        precondition(values.count == columns.count, "\(table): \(values.count) values for \(columns.count) columns")
        for index in columns.indices {
            switch (columns[index], values[index]) {
            case (.text(var array), .text(let value)):
                array.append(value ?? "\u{1}")
                columns[index] = .text(array)
            case (.int(var array), .int(let value)):
                array.append(value ?? .min)
                columns[index] = .int(array)
            case (.double(var array), .double(let value)):
                array.append(value.map { $0.isFinite ? $0 : .nan } ?? .nan)
                columns[index] = .double(array)
            case (.bool(var array), .bool(let value)):
                array.append(value)
                columns[index] = .bool(array)
            default:
                preconditionFailure("\(table).\(names[index]): value of the wrong kind")
            }
        }
        count += 1
    }

    package var query: PostgresQuery {
        var binds = PostgresBindings(capacity: columns.count)
        for column in columns {
            switch column {
            case .text(let array): binds.append(array)
            case .int(let array): binds.append(array)
            case .double(let array): binds.append(array)
            case .bool(let array): binds.append(array)
            }
        }
        let aliases = names.indices.map { "c\($0)" }
        let selects = zip(kinds, aliases).map { $0.select($1) }.joined(separator: ", ")
        let arrays = kinds.enumerated().map { "$\($0.offset + 1)::\($0.element.arrayType)" }.joined(separator: ", ")
        let sql = """
            INSERT INTO \(table) (\(names.joined(separator: ", "))) SELECT \(selects) \
            FROM unnest(\(arrays)) AS u(\(aliases.joined(separator: ", "))) \(conflict)
            """
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}
