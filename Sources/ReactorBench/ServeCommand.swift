import ArgumentParser
import Logging
import ReactorCore

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

    func run() throws {
        var logger = Logger(label: "reactor-bench.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        SignalWaiter.blockTerminationSignals()
        var configuration = ServerConfiguration(
            host: host, port: port, subReactors: loops, maxFrameLength: maxFrame, logger: logger)
        configuration.maxConnections = maxConnections
        configuration.idleTimeout = try idleTimeout.map { try Self.duration($0, "--idle-timeout") }
        configuration.readTimeout = readTimeout == 0 ? nil : try Self.duration(readTimeout, "--read-timeout")
        configuration.drainTimeout = drainTimeout == 0 ? .zero : try Self.duration(drainTimeout, "--drain-timeout")
        let server = Server(configuration: configuration, handler: EchoHandler())
        try server.start()
        print("listening on \(server.localAddress!)")
        fflush(nil)  // a parent reading our stdout through a pipe waits for this line
        let signal = SignalWaiter.waitForTermination()
        logger.info("signal \(signal): shutting down")
        server.stop()
        let statistics = server.statistics()
        print(
            "served \(statistics.connectionsAccepted) connections, \(statistics.framesIn) frames; "
                + "closed: \(statistics.closed.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))")
    }

    /// `seconds` as a `Duration`, or a validation error naming `option`.
    private static func duration(_ seconds: Double, _ option: String) throws -> Duration {
        guard seconds > 0, seconds.isFinite else { throw ValidationError("\(option) must be a positive number") }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}
