/// Parses durations written as `500ms`, `30s`, `3m`, `1h30m` or `1d`.
package enum ConfigDuration {
    package static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        var total = Duration.zero
        var number = ""
        var unit = ""
        var parts: [(String, String)] = []
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty {
                    parts.append((number, unit))
                    number = ""
                    unit = ""
                }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, !unit.isEmpty else { return nil }
        parts.append((number, unit))
        for (digits, unit) in parts {
            guard let value = Double(digits), value.isFinite, value >= 0 else { return nil }
            let seconds: Double
            switch unit {
            case "ms": seconds = value / 1000
            case "s": seconds = value
            case "m": seconds = value * 60
            case "h": seconds = value * 3600
            case "d": seconds = value * 86400
            default: return nil
            }
            total += .milliseconds(Int64((seconds * 1000).rounded()))
        }
        return total
    }

    package static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 3_600_000 == 0 && milliseconds > 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 && milliseconds > 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    package var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
