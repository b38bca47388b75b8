/// A decimal read exactly without `strtod`: at most 15 significant digits (the mantissa, an exact Double) scaled by
/// 10^±22 (an exact Double too) is one correctly rounded multiplication or division — the nearest Double, the value
/// `strtod` gives (Clinger's fast path). The candle files' reader and the model answers' reader both use it.
enum ExactDecimal {
    /// 10^0 … 10^22: every one an exact Double.
    static let powersOfTen: [Double] = (0...22).map { exponent in
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }

    /// `mantissa` × 10^`scale`, when its `significantDigits` and `scale` are within the fast path; nil otherwise
    /// (the caller reads it another way).
    @inline(__always)
    static func value(mantissa: UInt64, significantDigits: Int, scale: Int) -> Double? {
        guard significantDigits <= 15, abs(scale) <= 22 else { return nil }
        return scale >= 0 ? Double(mantissa) * powersOfTen[scale] : Double(mantissa) / powersOfTen[-scale]
    }
}
