/// One point of a latency percentile distribution.
struct LatencyPoint: Sendable, Codable, Hashable {
    /// 0 ... 100.
    var percentile: Double
    var microseconds: Double
}
