import Foundation

/// Draws a soak's memory curve as an SVG chart in ``LatencyPlot``'s style: the server's RSS (and, thinner, the load
/// driver's) against time on linear axes, the warm-up shaded, and the least-squares line over the rest dashed.
enum RSSPlot {
    private static let width = 960.0
    private static let height = 620.0
    private static let left = 90.0
    private static let right = 30.0
    private static let top = 50.0
    /// Room for the axis label and, under it, the legend (up to four lines).
    private static let bottom = 150.0

    static func svg(_ report: SoakReport, title: String) -> String {
        let mebibyte = 1_048_576.0
        let server = report.samples.compactMap { sample in sample.serverRSSBytes.map { (sample.seconds, $0) } }
        let driver = report.samples.compactMap { sample in sample.driverRSSBytes.map { (sample.seconds, $0) } }
        let heap = report.samples.compactMap { sample in sample.serverHeapBytes.map { (sample.seconds, $0) } }
        let largest = Double((server + driver + heap).map(\.1).max() ?? 1) / mebibyte
        let yStep = niceStep(largest * 1.1 / 6)
        let yMax = max(yStep, (largest * 1.1 / yStep).rounded(.up) * yStep)
        let seconds = max(1, report.samples.last?.seconds ?? 1)
        let xStep = niceStep(seconds / 10)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ value: Double) -> Double { left + value / seconds * plotWidth }
        func y(_ mebibytes: Double) -> Double { top + plotHeight - mebibytes / yMax * plotHeight }
        let f = SVGCanvas.number

        var svg = SVGCanvas.header(width: width, height: height, title: title)
        let warmupEnd = min(report.warmupSeconds, seconds)
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(x(warmupEnd) - left))\" "
        svg += "height=\"\(f(plotHeight))\" fill=\"#f3f3f3\"/>\n"
        svg += "<text x=\"\(f(x(warmupEnd) - 6))\" y=\"\(f(top + 16))\" text-anchor=\"end\" fill=\"#777777\">"
        svg += "warm-up</text>\n"
        for tick in stride(from: 0.0, through: seconds + 1e-9, by: xStep) {
            svg += "<line x1=\"\(f(x(tick)))\" y1=\"\(f(top))\" x2=\"\(f(x(tick)))\" y2=\"\(f(top + plotHeight))\" "
            svg += "stroke=\"#dddddd\"/>\n"
            svg += "<text x=\"\(f(x(tick)))\" y=\"\(f(top + plotHeight + 20))\" text-anchor=\"middle\">"
            svg += "\(String(format: "%g", tick))</text>\n"
        }
        for tick in stride(from: 0.0, through: yMax + 1e-9, by: yStep) {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(tick)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y(tick)))\" "
            svg += "stroke=\"#dddddd\"/>\n"
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\">"
            svg += "\(String(format: "%g", tick))</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" "
        svg += "fill=\"none\" stroke=\"#333333\"/>\n"
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight + 42))\" text-anchor=\"middle\">"
        svg += "seconds</text>\n"
        svg += "<text transform=\"translate(22 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">"
        svg += "resident memory (MiB)</text>\n"

        var legend: [(name: String, color: String, dashed: Bool)] = []
        func polyline(_ points: [(Double, Int)], color: String, width: Double) {
            let path = points.map { "\(f(x($0.0))),\(f(y(Double($0.1) / mebibyte)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\"/>\n"
        }
        if !driver.isEmpty {
            polyline(driver, color: "#999999", width: 1)
            legend.append(("load driver RSS (same machine, for comparison)", "#999999", false))
        }
        if !server.isEmpty {
            polyline(server, color: "#1f77b4", width: 2)
            legend.append(("server RSS", "#1f77b4", false))
        }
        if !heap.isEmpty {
            polyline(heap, color: "#2ca02c", width: 2)
            legend.append(("server live heap (malloc'd, not freed)", "#2ca02c", false))
        }
        if let rss = report.rss {
            let steady = server.filter { $0.0 >= rss.warmupSeconds }
            let meanX = steady.reduce(0) { $0 + $1.0 } / Double(max(1, steady.count))
            let meanY = steady.reduce(0) { $0 + Double($1.1) } / Double(max(1, steady.count))
            if let first = steady.first?.0, let last = steady.last?.0 {
                let slope = rss.slopeBytesPerMinute / 60
                let y1 = (meanY + slope * (first - meanX)) / mebibyte
                let y2 = (meanY + slope * (last - meanX)) / mebibyte
                svg += "<line x1=\"\(f(x(first)))\" y1=\"\(f(y(y1)))\" x2=\"\(f(x(last)))\" y2=\"\(f(y(y2)))\" "
                svg += "stroke=\"#d62728\" stroke-width=\"2\" stroke-dasharray=\"8 5\"/>\n"
                legend.append(
                    (
                        "least squares after warm-up: \(SoakReport.signedMebibytes(rss.slopeBytesPerMinute))/min, "
                            + "verdict \(rss.verdict.rawValue)", "#d62728", true
                    ))
            }
        }
        for (index, entry) in legend.enumerated() {
            let legendY = top + plotHeight + 72 + Double(index) * 20
            svg += "<line x1=\"\(f(left + 14))\" y1=\"\(f(legendY - 4))\" x2=\"\(f(left + 40))\" "
            svg += "y2=\"\(f(legendY - 4))\" stroke=\"\(entry.color)\" stroke-width=\"3\""
            svg += entry.dashed ? " stroke-dasharray=\"6 4\"/>\n" : "/>\n"
            svg += "<text x=\"\(f(left + 48))\" y=\"\(f(legendY))\">\(SVGCanvas.escape(entry.name))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    private static func niceStep(_ raw: Double) -> Double {
        guard raw > 0 else { return 1 }
        let power = pow(10, floor(log10(raw)))
        for multiple in [1.0, 2.0, 5.0, 10.0] where multiple * power >= raw { return multiple * power }
        return 10 * power
    }

    static func write(_ report: SoakReport, title: String, to path: String) throws {
        try svg(report, title: title).write(toFile: path, atomically: true, encoding: .utf8)
    }
}
