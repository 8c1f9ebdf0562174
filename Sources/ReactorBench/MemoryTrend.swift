/// Whether a memory figure (the server's RSS, or its live heap) stayed flat after the warm-up, from a soak's
/// per-second samples.
///
/// Two measures of growth over the post-warm-up window, both of which must stay within ``thresholdBytes`` (8 MiB or
/// 5% of the starting level, whichever is larger) for the verdict to be flat:
/// - the median of its last tenth minus the median of its first tenth (robust to single spikes), and
/// - the least-squares line's rise over the window (robust to where the window happens to start and end).
struct MemoryTrend: Sendable, Codable {
    enum Verdict: String, Sendable, Codable {
        case flat
        case growing
        /// Fewer than ``MemoryTrend/minimumSamples`` samples after the warm-up.
        case tooShort = "too-short"
    }

    /// Post-warm-up samples needed for a verdict.
    static let minimumSamples = 10

    var warmupSeconds: Double
    /// The first sample (for the RSS: before the first connection).
    var idleBytes: Int
    /// The first sample at or after the warm-up, and the last sample.
    var atWarmupEndBytes: Int
    var atEndBytes: Int
    /// Extremes after the warm-up, and the maximum over the whole run.
    var minimumBytes: Int
    var maximumBytes: Int
    var overallMaximumBytes: Int
    /// Medians of the first and the last tenth of the post-warm-up samples (at least 5 samples each).
    var startMedianBytes: Int
    var endMedianBytes: Int
    var medianGrowthBytes: Int
    /// Least-squares slope over the post-warm-up samples, and its rise over that window.
    var slopeBytesPerMinute: Double
    var fittedGrowthBytes: Double
    var thresholdBytes: Int
    var verdict: Verdict

    enum CodingKeys: String, CodingKey {
        case verdict
        case warmupSeconds = "warmup_s"
        case idleBytes = "idle_bytes"
        case atWarmupEndBytes = "at_warmup_end_bytes"
        case atEndBytes = "at_end_bytes"
        case minimumBytes = "min_bytes"
        case maximumBytes = "max_bytes"
        case overallMaximumBytes = "overall_max_bytes"
        case startMedianBytes = "start_median_bytes"
        case endMedianBytes = "end_median_bytes"
        case medianGrowthBytes = "median_growth_bytes"
        case slopeBytesPerMinute = "slope_bytes_per_min"
        case fittedGrowthBytes = "fitted_growth_bytes"
        case thresholdBytes = "threshold_bytes"
    }

    /// The trend of `samples` (seconds, bytes) after `warmupSeconds`; nil without any sample.
    init?(samples: [(seconds: Double, bytes: Int)], warmupSeconds: Double) {
        guard let first = samples.first, let last = samples.last else { return nil }
        let steady = samples.filter { $0.seconds >= warmupSeconds }
        let window = steady.isEmpty ? [last] : steady
        self.warmupSeconds = warmupSeconds
        idleBytes = first.bytes
        atWarmupEndBytes = window.first!.bytes
        atEndBytes = last.bytes
        minimumBytes = window.map(\.bytes).min()!
        maximumBytes = window.map(\.bytes).max()!
        overallMaximumBytes = samples.map(\.bytes).max()!
        let tenth = min(window.count, max(5, window.count / 10))
        startMedianBytes = Self.median(window.prefix(tenth).map(\.bytes))
        endMedianBytes = Self.median(window.suffix(tenth).map(\.bytes))
        medianGrowthBytes = endMedianBytes - startMedianBytes
        let slope = Self.leastSquaresSlope(window.map { ($0.seconds, Double($0.bytes)) })
        slopeBytesPerMinute = slope * 60
        fittedGrowthBytes = slope * ((window.last?.seconds ?? 0) - (window.first?.seconds ?? 0))
        thresholdBytes = max(8 << 20, startMedianBytes / 20)
        if window.count < Self.minimumSamples {
            verdict = .tooShort
        } else if medianGrowthBytes > thresholdBytes || fittedGrowthBytes > Double(thresholdBytes) {
            verdict = .growing
        } else {
            verdict = .flat
        }
    }

    static func median(_ values: [Int]) -> Int {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// The slope of the least-squares line through `points` (0 for fewer than two distinct x).
    static func leastSquaresSlope(_ points: [(x: Double, y: Double)]) -> Double {
        guard points.count > 1 else { return 0 }
        let meanX = points.reduce(0) { $0 + $1.x } / Double(points.count)
        let meanY = points.reduce(0) { $0 + $1.y } / Double(points.count)
        var covariance = 0.0
        var variance = 0.0
        for point in points {
            covariance += (point.x - meanX) * (point.y - meanY)
            variance += (point.x - meanX) * (point.x - meanX)
        }
        return variance > 0 ? covariance / variance : 0
    }
}
