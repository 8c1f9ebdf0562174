import Foundation

/// Draws latency percentile distributions as an SVG chart in HdrHistogram's style: percentile on a logarithmic
/// "nines" x-axis (0%, 90%, 99%, 99.9%, ...), latency on a logarithmic y-axis, one line per scenario.
enum LatencyPlot {
    struct Series {
        var name: String
        var points: [LatencyPoint]
    }

    private static let palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    ]
    private static let width = 960.0
    private static let height = 560.0
    private static let left = 90.0
    private static let right = 30.0
    private static let top = 50.0
    private static let bottom = 70.0
    private static let maxNines = 5.0  // up to 99.999%

    /// x position of a percentile: log10(1 / (1 - p)), the number of nines.
    private static func nines(_ percentile: Double) -> Double {
        min(maxNines, log10(100 / max(100 - percentile, 100 / pow(10, maxNines))))
    }

    static func svg(_ series: [Series], title: String) -> String {
        let values = series.flatMap { $0.points.map(\.microseconds) }.filter { $0 > 0 }
        let low = floor(log10(values.min() ?? 1))
        let high = max(low + 1, ceil(log10(values.max() ?? 10)))
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ percentile: Double) -> Double { left + nines(percentile) / maxNines * plotWidth }
        func y(_ microseconds: Double) -> Double {
            top + plotHeight - (log10(max(microseconds, pow(10, low))) - low) / (high - low) * plotHeight
        }
        let f = SVGCanvas.number

        var svg = SVGCanvas.header(width: width, height: height, title: title)
        // Vertical grid: one line per nine.
        for nine in 0...Int(maxNines) {
            let percentile = 100 - 100 / pow(10, Double(nine))
            let position = left + Double(nine) / maxNines * plotWidth
            let label = nine == 0 ? "0%" : String(format: "%g%%", percentile)
            svg += "<line x1=\"\(f(position))\" y1=\"\(f(top))\" x2=\"\(f(position))\" y2=\"\(f(top + plotHeight))\" "
            svg += "stroke=\"#dddddd\"/>\n"
            svg +=
                "<text x=\"\(f(position))\" y=\"\(f(top + plotHeight + 20))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        // Horizontal grid: decades, with 2x and 5x minor lines.
        for decade in Int(low)...Int(high) {
            for multiple in [1.0, 2.0, 5.0] {
                let value = multiple * pow(10, Double(decade))
                guard log10(value) <= high + 1e-9 else { continue }
                let position = y(value)
                let major = multiple == 1
                svg += "<line x1=\"\(f(left))\" y1=\"\(f(position))\" x2=\"\(f(left + plotWidth))\" "
                svg += "y2=\"\(f(position))\" stroke=\"\(major ? "#cccccc" : "#eeeeee")\"/>\n"
                svg += "<text x=\"\(f(left - 8))\" y=\"\(f(position + 4))\" text-anchor=\"end\" "
                svg += "fill=\"\(major ? "#000000" : "#777777")\">\(microsecondsLabel(value))</text>\n"
            }
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" "
        svg += "fill=\"none\" stroke=\"#333333\"/>\n"
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 20))\" text-anchor=\"middle\">"
        svg += "percentile (log scale of nines)</text>\n"
        svg += "<text transform=\"translate(22 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">"
        svg += "round-trip latency (log scale)</text>\n"

        for (index, line) in series.enumerated() where !line.points.isEmpty {
            let color = palette[index % palette.count]
            let path = line.points.filter { $0.percentile <= 99.9995 }
                .map { "\(f(x($0.percentile))),\(f(y($0.microseconds)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            let legendY = top + 20 + Double(index) * 20
            svg +=
                "<line x1=\"\(f(left + 14))\" y1=\"\(f(legendY - 4))\" x2=\"\(f(left + 40))\" y2=\"\(f(legendY - 4))\" "
            svg += "stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(f(left + 48))\" y=\"\(f(legendY))\">\(SVGCanvas.escape(line.name))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private static func microsecondsLabel(_ value: Double) -> String {
        if value >= 1_000_000 { return String(format: "%gs", value / 1_000_000) }
        if value >= 1000 { return String(format: "%gms", value / 1000) }
        return String(format: "%gus", value)
    }

    static func write(_ series: [Series], title: String, to path: String) throws {
        try svg(series, title: title).write(toFile: path, atomically: true, encoding: .utf8)
    }
}
