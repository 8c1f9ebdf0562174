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

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "info"

    @Flag(help: "Count heap allocations on the server's threads while serving and print them on exit.")
    var countAllocations = false

    func run() throws {
        var logger = Logger(label: "reactor-bench.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        SignalWaiter.blockTerminationSignals()
        var configuration = ServerConfiguration(
            host: host, port: port, subReactors: loops, maxFrameLength: maxFrame, logger: logger)
        configuration.maxConnections = maxConnections
        let server = Server(configuration: configuration, handler: EchoHandler())
        try server.start()
        print("listening on \(server.localAddress!)")
        fflush(nil)  // a parent reading our stdout through a pipe waits for this line
        if countAllocations { AllocationCounter.start() }
        let signal = SignalWaiter.waitForTermination()
        let allocations = countAllocations ? AllocationCounter.stop() : nil
        logger.info("signal \(signal): shutting down")
        server.stop()
        let statistics = server.statistics()
        print(
            "served \(statistics.connectionsAccepted) connections, \(statistics.framesIn) frames; "
                + "closed: \(statistics.closed.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))")
        if let allocations {
            print(
                "allocations while serving: \(allocations.server) on reactor threads, \(allocations.total) in the process"
            )
        }
        fflush(nil)
    }
}
