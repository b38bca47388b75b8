import Foundation

/// Compares two JSON texts by value: same keys, same values (numbers compared as numbers, so 10000 == 10000.0).
/// Returns the first difference as a path, or nil when they are equal.
public enum JSONComparison {
    public static func difference(_ lhs: Data, _ rhs: Data, ignoring ignored: Set<String> = []) throws -> String? {
        let left = try JSONSerialization.jsonObject(with: lhs, options: [.fragmentsAllowed])
        let right = try JSONSerialization.jsonObject(with: rhs, options: [.fragmentsAllowed])
        return difference(left, right, path: "$", ignoring: ignored)
    }

    static func difference(_ lhs: Any, _ rhs: Any, path: String, ignoring ignored: Set<String>) -> String? {
        switch (lhs, rhs) {
        case (let left as [String: Any], let right as [String: Any]):
            let leftKeys = Set(left.keys).subtracting(path == "$" ? ignored : [])
            let rightKeys = Set(right.keys).subtracting(path == "$" ? ignored : [])
            if leftKeys != rightKeys {
                return
                    "\(path): keys differ: only left \(leftKeys.subtracting(rightKeys).sorted()), only right \(rightKeys.subtracting(leftKeys).sorted())"
            }
            for key in leftKeys.sorted() {
                if let found = difference(left[key]!, right[key]!, path: "\(path).\(key)", ignoring: ignored) {
                    return found
                }
            }
            return nil
        case (let left as [Any], let right as [Any]):
            guard left.count == right.count else { return "\(path): \(left.count) vs \(right.count) elements" }
            for (index, pair) in zip(left, right).enumerated() {
                if let found = difference(pair.0, pair.1, path: "\(path)[\(index)]", ignoring: ignored) {
                    return found
                }
            }
            return nil
        case (is NSNull, is NSNull):
            return nil
        case (let left as NSNumber, let right as NSNumber):
            if isBool(left) != isBool(right) { return "\(path): \(left) vs \(right) (bool vs number)" }
            return left.doubleValue == right.doubleValue ? nil : "\(path): \(left) vs \(right)"
        case (let left as String, let right as String):
            return left == right ? nil : "\(path): \"\(left.prefix(60))\" vs \"\(right.prefix(60))\""
        default:
            return "\(path): \(type(of: lhs)) vs \(type(of: rhs))"
        }
    }

    private static func isBool(_ number: NSNumber) -> Bool {
        // Booleans decode as NSNumber of Objective-C type "c" (char); no JSON number decodes that way.
        String(cString: number.objCType) == "c"
    }
}
