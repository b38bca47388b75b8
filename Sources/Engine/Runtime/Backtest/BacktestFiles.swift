import ArenaCore
import Foundation
import Shared

/// The files a backtest writes beside `report.json`: the equity curve as CSV (one row per trader and hour, and
/// the end) and as an SVG chart. Deterministic: the same report gives the same bytes.
package enum BacktestFiles {
    /// `time,timestamp_ms,trader,equity,return_pct,drawdown_pct`, rows by trader (id order) then time.
    package static func equityCSV(_ report: Backtest.Report) -> String {
        var lines = ["time,timestamp_ms,trader,equity,return_pct,drawdown_pct"]
        for trader in report.curves.keys.sorted() {
            guard let curve = report.curves[trader], let first = curve.first else { continue }
            var peak = first.equity
            for point in curve {
                peak = max(peak, point.equity)
                let returnPct = first.equity > 0 ? (point.equity / first.equity - 1) * 100 : 0
                let drawdown = peak > 0 ? (1 - point.equity / peak) * 100 : 0
                lines.append(
                    "\(UTCTime.iso8601(point.time)),\(point.time),\(trader),\(number(point.equity)),"
                        + "\(number(returnPct)),\(number(drawdown))"
                )
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A line chart of every trader's equity over the backtest, with axes, a legend and each start value dashed.
    package static func equitySVG(_ report: Backtest.Report, width: Double = 960, height: Double = 420) -> String {
        let colors = ["#1f77b4", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0b7285", "#a0522d", "#5c940d"]
        let traders = report.curves.keys.sorted().filter { !(report.curves[$0] ?? []).isEmpty }
        let points = traders.flatMap { report.curves[$0] ?? [] }
        let left = 78.0
        let right = 16.0
        let top = 16.0
        let bottom = 58.0 + 18.0 * Double((traders.count + 2) / 3)
        let total = height + bottom - 40
        var svg = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(number(width)) \##(number(total))" "##
                + ##"font-family="sans-serif" font-size="12">"##,
            ##"<rect width="100%" height="100%" fill="#ffffff"/>"##,
            ##"<text x="\##(number(left))" y="12" fill="#333">Equity, \##(escape(report.from)) → \##(escape(report.to))</text>"##,
        ]
        guard let t0 = points.map(\.time).min(), let t1 = points.map(\.time).max(),
            var v0 = points.map(\.equity).min(), var v1 = points.map(\.equity).max()
        else {
            svg.append(##"<text x="\##(number(left))" y="60" fill="#666">No equity recorded.</text></svg>"##)
            return svg.joined(separator: "\n") + "\n"
        }
        let pad = max((v1 - v0) * 0.08, abs(v1) * 0.001, 1)
        v0 -= pad
        v1 += pad
        let spanT = Double(max(t1 - t0, 1))
        let plotBottom = height - 40
        func x(_ t: Int64) -> Double { left + Double(t - t0) / spanT * (width - left - right) }
        func y(_ v: Double) -> Double { top + (v1 - v) / (v1 - v0) * (plotBottom - top) }
        // Value grid: about five steps of 1, 2 or 5 × 10^n.
        let raw = (v1 - v0) / 5
        let power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        var value = (v0 / step).rounded(.up) * step
        while value <= v1 {
            svg.append(
                ##"<line x1="\##(number(left))" x2="\##(number(width - right))" y1="\##(number(y(value)))" y2="\##(number(y(value)))" stroke="#e6e9ee"/>"##
            )
            svg.append(
                ##"<text x="\##(number(left - 6))" y="\##(number(y(value) + 4))" text-anchor="end" fill="#5b6470">\##(number(value))</text>"##
            )
            value += step
        }
        // Time labels: five, as dates (and hours when the span is under four days).
        let showsHours = t1 - t0 < 4 * 86_400_000
        for index in 0...4 {
            let t = t0 + Int64(Double(t1 - t0) * Double(index) / 4)
            let text = String(UTCTime.iso8601(t).prefix(showsHours ? 16 : 10)).replacingOccurrences(of: "T", with: " ")
            let anchor = index == 0 ? "start" : index == 4 ? "end" : "middle"
            svg.append(
                ##"<text x="\##(number(x(t)))" y="\##(number(plotBottom + 18))" text-anchor="\##(anchor)" fill="#5b6470">\##(text)</text>"##
            )
        }
        svg.append(
            ##"<line x1="\##(number(left))" x2="\##(number(width - right))" y1="\##(number(plotBottom))" y2="\##(number(plotBottom))" stroke="#999"/>"##
        )
        for (index, trader) in traders.enumerated() {
            guard let curve = report.curves[trader], let first = curve.first else { continue }
            let color = colors[index % colors.count]
            let path = curve.enumerated().map { offset, point in
                "\(offset == 0 ? "M" : "L")\(number(x(point.time))) \(number(y(point.equity)))"
            }.joined(separator: " ")
            svg.append(
                ##"<line x1="\##(number(left))" x2="\##(number(width - right))" y1="\##(number(y(first.equity)))" y2="\##(number(y(first.equity)))" stroke="\##(color)" stroke-opacity="0.5" stroke-dasharray="6 4"/>"##
            )
            svg.append(##"<path d="\##(path)" fill="none" stroke="\##(color)" stroke-width="2"/>"##)
            let legendX = left + Double(index % 3) * (width - left) / 3
            let legendY = plotBottom + 40 + 18 * Double(index / 3)
            svg.append(
                ##"<rect x="\##(number(legendX))" y="\##(number(legendY - 9))" width="14" height="4" fill="\##(color)"/>"##
            )
            svg.append(
                ##"<text x="\##(number(legendX + 20))" y="\##(number(legendY - 3))" fill="#333">\##(escape(trader)) (start dashed)</text>"##
            )
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Shortest text that reads back as the same number, without exponent for the values charts use.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let scaled = (value * 10_000).rounded()
        let rounded = scaled / 10_000
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        // Below 2^53 ten-thousandths, `%.4f` of `scaled / 10_000` prints `scaled`'s own digits (the quotient is
        // within half an ulp of that decimal, far finer than 10⁻⁴): written from the integer, as `%.4f` then the
        // trailing zeros cut would — an equity curve has tens of thousands of them.
        if abs(scaled) < 9_007_199_254_740_992 {
            let units = Int64(scaled)
            var fraction = Int(units.magnitude % 10_000)
            var digits = 4
            while fraction != 0, fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let text = String(fraction)
            let padding = String(repeating: "0", count: digits - text.count)
            return (units < 0 ? "-" : "") + String(units.magnitude / 10_000) + "." + padding + text
        }
        return String(format: "%.4f", rounded).replacingOccurrences(
            of: "0+$",
            with: "",
            options: .regularExpression
        )
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
