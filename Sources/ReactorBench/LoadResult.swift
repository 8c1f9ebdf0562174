/// What one load run measured.
struct LoadResult: Sendable {
    var spec: LoadSpec
    /// Replies received and verified during the measured window.
    var messages: Int
    /// Length of the measured window.
    var seconds: Double
    var p50Microseconds: Double
    var p99Microseconds: Double
    var p999Microseconds: Double
    var maxMicroseconds: Double
    /// Replies whose bytes differed from the request.
    var mismatches: Int
    /// Connections lost before the run ended, or that never connected.
    var disconnects: Int
    /// Server-side figures for the window, when the server could be observed.
    var server: ServerFigures?
    /// For the idle-memory scenario: server RSS growth divided by the idle connections.
    var residentBytesPerIdleConnection: Double?
    /// Latency by percentile (percent, microseconds), HdrHistogram's percentile iteration, for plotting.
    var latencyDistribution: [LatencyPoint] = []

    var messagesPerSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }
    /// Payload megabytes per second, both directions counted once (request payload = reply payload).
    var megabytesPerSecond: Double { messagesPerSecond * Double(spec.size) / 1_000_000 }
    var errors: Int { mismatches + disconnects }
    var succeeded: Bool { errors == 0 && messages > 0 }
}
