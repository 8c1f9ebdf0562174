import ArgumentParser
import Logging
import ReactorCore
import ReactorServiceLifecycle
import ServiceLifecycle
import UnixSignals

/// `reactor-service-example`: a line echo server run as a swift-service-lifecycle service. SIGTERM or SIGINT shuts
/// the `ServiceGroup` down gracefully: the server stops accepting, answers what it had received, closes every
/// connection, and the process exits 0. The DocC article "Running a server under ServiceLifecycle" walks through it.
@main
struct ReactorServiceExample: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reactor-service-example",
        abstract: "A line echo server under a ServiceGroup; SIGTERM or SIGINT stops it gracefully (exit 0)."
    )

    @Option(help: "TCP port (0 picks a free one).")
    var port = 7000

    @Option(help: "Numeric address to listen on.")
    var bind = "127.0.0.1"

    @Option(help: "Event loops.")
    var loops = 1

    @Option(help: "Seconds the drain may take on shutdown before the connections left are closed.")
    var drainTimeout = 5

    @Option(
        help:
            "Log level (trace, debug, info, notice, warning, error, critical); debug shows the ServiceGroup's own lines."
    )
    var logLevel = "info"

    func validate() throws {
        guard loops >= 1 else { throw ValidationError("--loops must be at least 1") }
        guard drainTimeout >= 0 else { throw ValidationError("--drain-timeout must not be negative") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        var logger = Logger(label: "reactor-service-example")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let server = Server(
            configuration: ServerConfiguration(
                host: bind, port: port, subReactors: loops, drainTimeout: .seconds(drainTimeout), logger: logger),
            handler: Decoded(DelimiterDecoder.lines(stripsDelimiter: false), LineEcho(logger: logger)))
        let group = ServiceGroup(
            services: [ReactorService(server)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
        // Stopped: the final figures, at once (the asynchronous form never blocks a thread of the pool).
        let statistics = await server.statistics()
        logger.info(
            "served",
            metadata: [
                "connections": "\(statistics.connectionsAccepted)", "lines": "\(statistics.framesIn)",
                "bytes-out": "\(statistics.bytesOut)",
            ])
    }
}

/// Echoes every line back as it came, line ending included; logs each connection's end and why.
struct LineEcho: MessageHandler {
    let logger: Logger

    func onMessage(_ line: RawSpan, state: inout Void, connection: inout ConnectionContext) {
        connection.write(line)
    }

    func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
        logger.info("connection closed", metadata: ["connection": "\(id)", "reason": "\(reason)"])
    }
}
