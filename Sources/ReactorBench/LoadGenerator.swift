import Histogram
import Logging
import ReactorCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Drives one ``LoadSpec`` against a framed echo server through ReactorCore's own ``Client``.
struct LoadGenerator {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let target: SocketAddress
    /// Prints a live progress line while measuring (only when stdout is a terminal).
    var showProgress = isatty(STDOUT_FILENO) == 1

    func run(_ spec: LoadSpec, probe: (any ServerProbe)? = nil) throws -> LoadResult {
        let shared = LoadShared(size: spec.size)
        var logger = Logger(label: "reactor-bench.load")
        logger.logLevel = .error
        var configuration = ClientConfiguration(
            loops: spec.loops, maxFrameLength: max(spec.size, 1 << 20), logger: logger)
        // A bulk request can be queued whole while the previous ones are still being written.
        configuration.limits.maxPendingWriteBytes = max(
            configuration.limits.maxPendingWriteBytes, spec.size * spec.pipeline * 2 + 64)
        configuration.limits.writeHighWatermark = max(
            configuration.limits.writeHighWatermark, spec.size * spec.pipeline + 64)
        let client = Client(configuration: configuration, handler: LoadHandler(shared: shared, pipeline: spec.pipeline))
        try client.start()
        defer { client.stop() }

        for index in 0..<spec.connections {
            // Past ~25k connections one source address runs out of ephemeral ports: spread over 127.0.0.x.
            let source =
                spec.connections > 20_000 ? try SocketAddress(host: "127.0.0.\(2 + index / 20_000)", port: 0) : nil
            try client.connect(to: target, from: source)
        }
        let connectDeadline = LoadHandler.now() + 20_000_000_000
        while shared.opened.load(ordering: .relaxed) + shared.disconnects.load(ordering: .relaxed) < spec.connections {
            if LoadHandler.now() > connectDeadline {
                throw Failure(
                    description:
                        "only \(shared.opened.load(ordering: .relaxed)) of \(spec.connections) connections opened")
            }
            usleep(1000)
        }

        sleepSeconds(spec.warmup)
        let start = LoadHandler.now()
        shared.phase.store(LoadShared.Phase.measuring.rawValue, ordering: .relaxed)
        probe?.begin()
        let end = start + UInt64(spec.duration * 1e9)
        var lastCount = 0
        var lastTime = start
        while true {
            let now = LoadHandler.now()
            if now >= end { break }
            let step = min(end - now, 500_000_000)
            usleep(useconds_t(step / 1000))
            if showProgress {
                let count = shared.completedForProgress.load(ordering: .relaxed)
                let time = LoadHandler.now()
                let rate = Double(count - lastCount) / (Double(time - lastTime) / 1e9)
                let elapsed = Double(time - start) / 1e9
                print(
                    "\r  \(spec.name): \(Format.count(rate)) msgs/s  \(Format.seconds(elapsed))/\(Format.seconds(spec.duration))   ",
                    terminator: "")
                fflush(nil)
                lastCount = count
                lastTime = time
            }
        }
        shared.phase.store(LoadShared.Phase.stopping.rawValue, ordering: .relaxed)
        let seconds = Double(LoadHandler.now() - start) / 1e9
        let serverFigures = probe?.end(messages: shared.completedForProgress.load(ordering: .relaxed))
        if showProgress {
            print("\r" + String(repeating: " ", count: 72) + "\r", terminator: "")
            fflush(nil)
        }
        client.stop()

        let (histogram, measured) = shared.merged.withLock { ($0.histogram, $0.measured) }
        return LoadResult(
            spec: spec, messages: measured, seconds: seconds,
            p50Microseconds: Double(histogram.valueAtPercentile(50)) / 1000,
            p99Microseconds: Double(histogram.valueAtPercentile(99)) / 1000,
            p999Microseconds: Double(histogram.valueAtPercentile(99.9)) / 1000,
            maxMicroseconds: Double(histogram.max) / 1000,
            mismatches: shared.mismatches.load(ordering: .relaxed),
            disconnects: shared.disconnects.load(ordering: .relaxed), server: serverFigures,
            latencyDistribution: histogram.totalCount == 0
                ? []
                : histogram.percentiles(ticksPerHalfDistance: 5).map {
                    LatencyPoint(percentile: $0.percentile, microseconds: Double($0.value) / 1000)
                })
    }

    /// The idle-memory scenario: `connections` connections each echo one frame and then sit idle; the server's
    /// RSS growth divided by the connections is what one idle connection costs it.
    func runIdle(_ spec: LoadSpec, serverPID: Int32) throws -> LoadResult {
        let shared = LoadShared(size: spec.size)
        // Stopping from the start: each connection sends its one request and never another.
        shared.phase.store(LoadShared.Phase.stopping.rawValue, ordering: .relaxed)
        var logger = Logger(label: "reactor-bench.load")
        logger.logLevel = .error
        let client = Client(
            configuration: ClientConfiguration(loops: spec.loops, logger: logger),
            handler: LoadHandler(shared: shared, pipeline: 1))
        try client.start()
        defer { client.stop() }
        usleep(200_000)
        let before = ProcessStats.residentBytes(pid: "\(serverPID)") ?? 0
        let start = LoadHandler.now()
        for _ in 0..<spec.connections { try client.connect(to: target) }
        let deadline = start + 60_000_000_000
        while shared.replies.load(ordering: .relaxed) + shared.disconnects.load(ordering: .relaxed) < spec.connections {
            if LoadHandler.now() > deadline {
                throw Failure(description: "only \(shared.replies.load(ordering: .relaxed)) idle connections echoed")
            }
            usleep(10_000)
        }
        let seconds = Double(LoadHandler.now() - start) / 1e9
        usleep(300_000)  // let the server settle (deferred frees, page faults of the last slots)
        let after = ProcessStats.residentBytes(pid: "\(serverPID)") ?? 0
        var result = LoadResult(
            spec: spec, messages: shared.replies.load(ordering: .relaxed), seconds: seconds, p50Microseconds: 0,
            p99Microseconds: 0, p999Microseconds: 0, maxMicroseconds: 0,
            mismatches: shared.mismatches.load(ordering: .relaxed),
            disconnects: shared.disconnects.load(ordering: .relaxed),
            server: ServerFigures(frames: spec.connections, cpuNanoseconds: 0, residentBytes: after))
        result.residentBytesPerIdleConnection = Double(after - before) / Double(spec.connections)
        return result
    }

    private func sleepSeconds(_ seconds: Double) {
        if seconds > 0 { usleep(useconds_t(seconds * 1_000_000)) }
    }
}
