import Foundation
import Testing

@testable import Shared

@Suite("Number text without Foundation's formatter")
struct NumberTextTests {
    /// `%.Ng` through the C library is the text `String(format:)` gives, for every precision the engine uses,
    /// on values across the whole range, their signs, the edges and the special values.
    @Test func generalFormat_isWhatStringFormatGives() {
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 1e-5, 1.2345e-5, 0.000_012_5, 0.0001, 123_456_789, 1e21, 1e100, -2.5e-8,
            .infinity, -.infinity, .nan, .ulpOfOne, .leastNonzeroMagnitude, .leastNormalMagnitude,
            .greatestFiniteMagnitude, 0.000_099_999_995, 99_999_999.5, 9_999_995, 0.125, 2.5, 3.5,
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<50_000 {
            // xorshift: any bit pattern, so any exponent, subnormals and NaN payloads included.
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            values.append(Double(bitPattern: state))
            values.append(Double(Int64(bitPattern: state) % 2_000_000_001) * 1e-10)
            // Few digits at every decade (the shortest-digits path): ±1 to 7 digits over 10^±22.
            let few = Double(Int64(bitPattern: state >> 8) % 10_000_000)
            let tens = Self.exactTens[Int(state >> 58) % Self.exactTens.count]
            values += [few / tens, few * tens, few]
        }
        values += [100_000_000, 12_345_678, 123_456_789, 999_999.5, 9_999_999, 1e-4, 9.99999e-5, 1e15, 1e16]
        // Rounded from more digits: carries through nines into the next decade (and across the %e/%f switch),
        // halfway in the shortest digits (the C library's) and just past it.
        values += [
            9.9999951, 9.999995, 0.000_099_999_95, 999_999.51, 99_999.95, 1.234_565, 1.234_565_000_1, 0.000_012_345_65,
            1.000_000_5, 2.675, 0.000_123_456_789, 6.265_123_4e-5, -9.999_999_9e-5, 123_456.5, 0.999_999_7,
        ]
        var shortest = 0
        var scaled = 0
        for digits in [1, 6, 8, 9, 15, 17] {
            for value in values {
                let expected = String(format: "%.\(digits)g", value)
                #expect(GeneralNumberFormat.format(value, significantDigits: digits) == expected, "\(value) \(digits)")
                var appended = Array("x".utf8)
                GeneralNumberFormat.append(value, significantDigits: digits, to: &appended)
                #expect(String(decoding: appended, as: UTF8.self) == "x" + expected, "appended \(value) \(digits)")
                let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
                    GeneralNumberFormat.fromScaledProduct(value, significantDigits: digits, to: buffer.baseAddress!)
                        .map {
                            String(decoding: UnsafeBufferPointer(start: buffer.baseAddress, count: $0), as: UTF8.self)
                        }
                }
                if let written {
                    scaled += 1
                    #expect(written == expected, "scaled \(value) \(digits)")
                } else if digits <= 9, value.isNormal {
                    // Left to the other paths only near a tie, or far out of the exact powers of ten.
                    let decade = Int(floor(log10(value.magnitude)))
                    let shift = digits - 1 - decade
                    if abs(shift) <= 21 {
                        let product = value.magnitude * pow(10, Double(shift))
                        #expect(abs(product - product.rounded(.down) - 0.5) < 1e-5, "\(value) \(digits)")
                    }
                }
                if let text = GeneralNumberFormat.fromShortestDigits(value, significantDigits: digits) {
                    shortest += 1
                    #expect(text == expected, "\(value) \(digits)")
                } else if digits <= 15, value.isNormal {
                    // Only the halfway case is left to the C library: the shortest digits past the N-th are "5".
                    let placed = value.magnitude.description.prefix { $0 != "e" }.filter { $0 != "." }
                    let significant = placed.drop { $0 == "0" }.reversed().drop { $0 == "0" }.reversed()
                    #expect(String(significant.dropFirst(digits)) == "5", "\(value) \(digits)")
                }
            }
        }
        // Both paths were taken many times.
        #expect(shortest > 100_000 && shortest < values.count * 6 - 100_000)
        #expect(scaled > 100_000)
    }

    /// Powers of ten that are exact Doubles.
    static let exactTens: [Double] = (0...22).map { exponent in (0..<exponent).reduce(1.0) { value, _ in value * 10 } }

    @Test func digits_areStringsText() {
        func text(_ value: Int64) -> String {
            var bytes: [UInt8] = Array("x".utf8)
            ASCIIDigits.appendSigned(value, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        for value: Int64 in [0, 7, -7, 1234, 10, -100_000, .max, .min, .max - 1, .min + 1] {
            #expect(text(value) == "x" + String(value))
        }
    }

    /// The digit count is found before the digits are written: every power of ten and its neighbours, the top
    /// of the range and random values give `String`'s text.
    @Test func unsignedDigits_countEveryLength() {
        var values: [UInt64] = [0, .max, .max - 1]
        var power: UInt64 = 1
        for _ in 0...19 {
            values += [power - 1, power, power + 1]
            if power > UInt64.max / 10 { break }
            power *= 10
        }
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<10_000 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            values += [state, state >> (state % 64)]
        }
        for value in values {
            var bytes: [UInt8] = []
            ASCIIDigits.append(value, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(value))
        }
    }
}
