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
    /// For the burst-memory scenario: the server's RSS before, during and after the burst.
    var burst: BurstFigures? = nil
    /// Latency by percentile (percent, microseconds), HdrHistogram's percentile iteration, for plotting.
    var latencyDistribution: [LatencyPoint] = []
    /// Payload bytes of the verified replies when sizes are mixed (the soak); nil: `messages * spec.size`.
    var payloadBytes: Int? = nil
    /// Requests whose replies never came back on a connection that stayed open (the soak checks this).
    var lostReplies = 0
    /// Connections that could not even be started (`connect` threw; failed handshakes count as disconnects).
    var connectFailures = 0

    var messagesPerSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }
    /// Payload megabytes per second, both directions counted once (request payload = reply payload).
    var megabytesPerSecond: Double {
        guard let payloadBytes else { return messagesPerSecond * Double(spec.size) / 1_000_000 }
        return seconds > 0 ? Double(payloadBytes) / seconds / 1_000_000 : 0
    }
    var errors: Int { mismatches + disconnects + lostReplies + connectFailures }
    var succeeded: Bool { errors == 0 && messages > 0 }
}
