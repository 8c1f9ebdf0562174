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

    let target: ReactorSocketAddress
    /// The layer every connection speaks through (TLS, ``BenchTLS/client(host:trustedCAFile:)``); nil: plain TCP.
    var transport: (any ConnectionTransportProvider)? = nil
    /// Prints a live progress line while measuring (only when stdout is a terminal).
    var showProgress = isatty(STDOUT_FILENO) == 1

    func run(_ spec: LoadSpec, probe: (any ServerProbe)? = nil) throws -> LoadResult {
        let shared = LoadShared(size: spec.size)
        let client = Self.client(for: spec, shared: shared, transport: transport)
        try client.start()
        defer { client.stop() }

        for index in 0..<spec.connections {
            try client.connect(to: target, from: try Self.source(index: index, of: spec.connections))
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
        var configuration = ClientConfiguration(loops: spec.loops, logger: logger)
        configuration.transport = transport
        let client = Client(configuration: configuration, handler: LoadHandler(shared: shared, pipeline: 1))
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

    /// A scenario that measures the server's memory (``Scenario/measuresMemory(_:)``) against `server`, its
    /// connections through `transport` (the burst's raw sockets speak plain TCP only).
    static func runMemory(
        _ spec: LoadSpec, against server: ChildServer, transport: (any ConnectionTransportProvider)? = nil
    ) throws -> LoadResult {
        if spec.name == Scenario.burstMemoryName {
            precondition(transport == nil, "the burst's raw sockets speak plain TCP only")
            return try BurstRunner(target: server.address, serverPID: server.pid).run(spec)
        }
        return try LoadGenerator(target: server.address, transport: transport).runIdle(spec, serverPID: server.pid)
    }

    /// The load driver's client for `spec`, its connections through `transport`, not started yet.
    static func client(
        for spec: LoadSpec, shared: LoadShared, transport: (any ConnectionTransportProvider)? = nil
    ) -> Client<LoadHandler> {
        var logger = Logger(label: "reactor-bench.load")
        logger.logLevel = .error
        let largest = spec.soak?.largestSize ?? spec.size
        var configuration = ClientConfiguration(
            loops: spec.loops, maxFrameLength: max(largest, 1 << 20), logger: logger)
        // A bulk request can be queued whole while the previous ones are still being written, and the driver must
        // never stop reading while its requests are queued (the server would stop reading too: a deadlock).
        configuration.limits.maxPendingWriteBytes = max(
            configuration.limits.maxPendingWriteBytes, largest * spec.pipeline * 2 + 64 * spec.pipeline)
        configuration.limits.writeHighWatermark = max(
            configuration.limits.writeHighWatermark, largest * spec.pipeline + 64 * spec.pipeline)
        configuration.transport = transport
        return Client(configuration: configuration, handler: LoadHandler(shared: shared, pipeline: spec.pipeline))
    }

    /// The local address connection `index` of `count` connects from: past ~25k connections one source address runs
    /// out of ephemeral ports, so large runs spread over 127.0.0.x.
    static func source(index: Int, of count: Int) throws -> ReactorSocketAddress? {
        count > 20_000 ? try ReactorSocketAddress(host: "127.0.0.\(2 + index / 20_000 % 250)", port: 0) : nil
    }

    private func sleepSeconds(_ seconds: Double) {
        if seconds > 0 { usleep(useconds_t(seconds * 1_000_000)) }
    }
}
