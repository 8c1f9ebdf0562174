import ArgumentParser
import Logging
import ReactorCore
import ReactorRedisStore
import ReactorTLS

#if canImport(Glibc)
    import Glibc
#endif

/// `reactor-redis`: an in-memory Redis on swift-reactor, with redis-server's option names where it has them.
@main
struct ReactorRedis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reactor-redis",
        abstract: "An in-memory Redis (redis 7.0's replies, RESP2 and RESP3) on swift-reactor, until SIGINT or SIGTERM."
    )

    @Option(help: "TCP port (0 picks a free one).")
    var port = 6379

    @Option(help: "Numeric address to listen on.")
    var bind = "127.0.0.1"

    @Option(help: "Event loops (default: one per core). With 1, the keyspace takes no lock.")
    var loops = ServerConfiguration.coreCount

    @Option(name: .customLong("maxclients"), help: "Most clients connected at once.")
    var maxClients = 10_000

    @Option(help: "Close a client after it has been idle for this many seconds (0: never).")
    var timeout = 0

    @Option(help: "Longest bulk string in a request and longest string value, in bytes (proto-max-bulk-len).")
    var maxBulkLength = 512 << 20

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "notice"

    @Option(help: "Serve RESP over TLS: the certificate chain (PEM, leaf first). Needs --tls-key.")
    var tlsCert: String?

    @Option(help: "The private key (PEM) for --tls-cert.")
    var tlsKey: String?

    func validate() throws {
        guard loops >= 1 else { throw ValidationError("--loops must be at least 1") }
        guard maxClients >= 1 else { throw ValidationError("--maxclients must be at least 1") }
        guard timeout >= 0 else { throw ValidationError("--timeout must not be negative") }
        guard maxBulkLength >= 1, maxBulkLength <= Int(Int32.max) - RedisServer.requestHeadroom else {
            throw ValidationError(
                "--max-bulk-length must be between 1 and \(Int(Int32.max) - RedisServer.requestHeadroom)")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() throws {
        var logger = Logger(label: "reactor-redis")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
        var settings = RedisSettings()
        settings.maxClients = maxClients
        settings.idleTimeoutSeconds = timeout
        settings.maxBulkLength = maxBulkLength
        settings.port = port
        settings.bind = bind
        let signals = TerminationSignals()
        var configuration = ServerConfiguration(host: bind, port: port, subReactors: loops, logger: logger)
        if let tlsCert, let tlsKey {
            // ALPN `redis`: a client that offers ALPN without it is refused with no_application_protocol (RFC 7301
            // §3.2); one that offers no ALPN at all (redis-cli, redis-benchmark) is served.
            TLSMemory.installRecyclingAllocator()  // OpenSSL's per-record structures without malloc calls
            var tls = TLSServerConfiguration(certificateChain: .file(tlsCert), privateKey: .file(tlsKey))
            tls.applicationProtocols = ["redis"]
            configuration.transport = try TLSServerContext(configuration: tls)
        }
        let server = RedisServer(configuration: configuration, settings: settings)
        try server.start()
        let address = server.localAddress!
        let scheme = tlsCert == nil ? "" : ", tls"
        print("reactor-redis listening on \(address), \(loops) loop\(loops == 1 ? "" : "s")\(scheme)")
        fflush(nil)  // a parent reading our stdout through a pipe waits for this line
        let signal = signals.wait()
        logger.notice("signal \(signal): shutting down")
        server.stop()
    }
}
