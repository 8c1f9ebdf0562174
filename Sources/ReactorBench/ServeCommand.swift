import ArgumentParser
import Logging
import ReactorCore
import ReactorMetrics

#if canImport(Glibc)
    import Glibc
#endif

/// `reactor-bench serve`: the framed echo server on its own, until SIGINT or SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the framed echo server until SIGINT or SIGTERM, then shut down gracefully.")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 9000

    @Option(help: "Sub-reactor threads (default: one per core).")
    var loops = ServerConfiguration.coreCount

    @Option(name: .customLong("max-frame"), help: "Largest frame payload accepted, in bytes.")
    var maxFrame = 1 << 20

    @Option(help: "Most connections open at once; more are accepted and closed at once.")
    var maxConnections = Int.max

    @Option(help: "Close connections on which the peer makes no progress for this many seconds (default: never).")
    var idleTimeout: Double?

    @Option(help: "Close a connection whose frame does not complete this many seconds after its first byte (0: never).")
    var readTimeout: Double = 30

    @Option(help: "Seconds a graceful stop (SIGINT/SIGTERM) waits for replies to flush before closing anyway.")
    var drainTimeout: Double = 5

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "info"

    @Option(help: "Also listen on this Unix-domain socket path (created at start, removed at stop).")
    var unix: String?

    @Option(help: "Serve the echo over TLS: the certificate chain (PEM, leaf first). Needs --tls-key.")
    var tlsCert: String?

    @Option(help: "The private key (PEM) for --tls-cert.")
    var tlsKey: String?

    @Flag(help: "With --tls-cert: idle connections give OpenSSL's record buffers back (SSL_MODE_RELEASE_BUFFERS).")
    var tlsReleaseBuffers = false

    @Flag(help: "Give each new connection to the loop with the fewest connections (default: round-robin).")
    var leastConnections = false

    @Flag(help: "One SO_REUSEPORT listener per loop, each accepted on by its loop: no acceptor thread.")
    var reusePort = false

    @Flag(help: "Count heap allocations: print the live heap every second, and the server threads' total on exit.")
    var countAllocations = false

    @Flag(
        help: """
            Report the loops' counters through swift-metrics to a built-in text backend, and print every series \
            every --metrics-interval seconds and once more after the stop.
            """)
    var metrics = false

    @Option(help: "Seconds between the loops' metrics reports (and the dumps --metrics prints).")
    var metricsInterval = 1

    func run() throws {
        var logger = Logger(label: "reactor-bench.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        SignalWaiter.blockTerminationSignals()
        var configuration = ServerConfiguration(
            host: host, port: port, subReactors: loops, maxFrameLength: maxFrame, logger: logger)
        configuration.maxConnections = maxConnections
        if let unix {
            configuration.listenAddresses = [
                try ReactorSocketAddress(host: host, port: port), try ReactorSocketAddress(unixPath: unix),
            ]
        }
        configuration.balancing = leastConnections ? .leastConnections : .roundRobin
        configuration.reusePort = reusePort
        if reusePort && unix != nil { throw ValidationError("--reuse-port listens on TCP only, not with --unix") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if let tlsCert, let tlsKey {
            configuration.transport = try BenchTLS.server(
                certificate: tlsCert, key: tlsKey, releaseBuffers: tlsReleaseBuffers)
        }
        configuration.idleTimeout = try idleTimeout.map { try Self.duration($0, "--idle-timeout") }
        configuration.readTimeout = readTimeout == 0 ? nil : try Self.duration(readTimeout, "--read-timeout")
        configuration.drainTimeout = drainTimeout == 0 ? .zero : try Self.duration(drainTimeout, "--drain-timeout")
        guard metricsInterval >= 1 else { throw ValidationError("--metrics-interval must be at least 1") }
        let metricsBackend = metrics ? TextMetricsFactory() : nil
        if let metricsBackend {
            configuration.loopMetrics = .swiftMetrics(interval: .seconds(metricsInterval), factory: metricsBackend)
        }
        let server = Server(configuration: configuration, handler: EchoHandler())
        try server.start()
        print("listening on \(server.localAddress!)")
        for address in server.localAddresses.dropFirst() { print("also listening on \(address)") }
        fflush(nil)  // a parent reading our stdout through a pipe waits for this line
        let signal: CInt
        if countAllocations {
            AllocationCounter.start()
            signal = Self.reportLiveHeap()
        } else if let metricsBackend {
            signal = Self.printMetrics(metricsBackend, every: metricsInterval)
        } else {
            signal = SignalWaiter.waitForTermination()
        }
        let allocations = countAllocations ? AllocationCounter.stop() : nil
        logger.info("signal \(signal): shutting down")
        server.stop()
        let statistics = server.statistics()
        print(
            "served \(statistics.connectionsAccepted) connections, \(statistics.framesIn) frames; "
                + "closed: \(statistics.closed.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))")
        print("pool at exit: " + Self.describe(statistics.pool))
        if let metricsBackend {
            // Every loop reported once more as it stopped: these equal the statistics above.
            print("metrics at exit:\n" + metricsBackend.render())
        }
        if let allocations {
            print(
                "allocations while serving: \(allocations.server) on reactor threads, \(allocations.total) in the process"
            )
        }
        fflush(nil)
    }

    /// Until SIGINT or SIGTERM: once a second, `heap: t=SECONDS live_allocations=N live_bytes=B` (blocks and bytes
    /// malloc'd and not freed since serving began), so a soak can tell a leak from memory the allocator keeps.
    private static func reportLiveHeap() -> CInt {
        var seconds = 0
        while true {
            if let signal = SignalWaiter.waitForTermination(seconds: 1) { return signal }
            seconds += 1
            let live = AllocationCounter.live()
            print("heap: t=\(seconds) live_allocations=\(live.allocations) live_bytes=\(live.bytes)")
            fflush(nil)
        }
    }

    /// Until SIGINT or SIGTERM: every `seconds`, `metrics: t=SECONDS` and every series of `backend`, one per line.
    private static func printMetrics(_ backend: TextMetricsFactory, every seconds: Int) -> CInt {
        var elapsed = 0
        while true {
            if let signal = SignalWaiter.waitForTermination(seconds: seconds) { return signal }
            elapsed += seconds
            print("metrics: t=\(elapsed)\n" + backend.render())
            fflush(nil)
        }
    }

    /// `1.3 MiB reserved: 4.0 KiB x 256 (1 slab), 1.0 MiB x 2`: what the buffer pools hold, class by class (chunks in
    /// use or free; after a stop every chunk is free, so this is what the pools kept from their peak).
    static func describe(_ pool: PoolStatistics) -> String {
        let classes = pool.classes.filter { $0.chunksInUse + $0.chunksFree > 0 }.map { size in
            let slabs = size.slabs == 0 ? "" : " (\(size.slabs) slab\(size.slabs == 1 ? "" : "s"))"
            return "\(Format.bytes(Double(size.chunkSize))) x \(size.chunksInUse + size.chunksFree)\(slabs)"
        }
        return "\(Format.bytes(Double(pool.bytesReserved))) reserved"
            + (classes.isEmpty ? "" : ": " + classes.joined(separator: ", "))
    }

    /// `seconds` as a `Duration`, or a validation error naming `option`.
    private static func duration(_ seconds: Double, _ option: String) throws -> Duration {
        guard seconds > 0, seconds.isFinite else { throw ValidationError("\(option) must be a positive number") }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}
