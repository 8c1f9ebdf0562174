import ArgumentParser
import Logging
import ReactorCore
import ReactorHTTP1
import ReactorHTTPEndpoints
import ReactorTLS

#if canImport(Glibc)
    import Glibc
#endif

/// `reactor-http`: the HTTP/1.1 proof on swift-reactor, with TechEmpower's plaintext and JSON endpoints.
@main
struct ReactorHTTP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reactor-http",
        abstract: """
            An HTTP/1.1 server on swift-reactor until SIGINT or SIGTERM: GET /plaintext, GET /json, POST /echo, \
            404 otherwise.
            """
    )

    @Option(help: "TCP port (0 picks a free one).")
    var port = 8080

    @Option(help: "Numeric address to listen on.")
    var bind = "127.0.0.1"

    @Option(help: "Event loops (default: one per core).")
    var loops = ServerConfiguration.coreCount

    @Option(help: "Longest request line in bytes (longer: 414).")
    var maxRequestLine = 8192

    @Option(help: "Longest header section in bytes, request line included (longer: 431).")
    var maxHeaderSection = 32768

    @Option(help: "Longest request body in bytes, declared or de-chunked (longer: 413).")
    var maxBody = 1 << 20

    @Option(help: "Close a connection whose request does not complete within this many seconds (0: never).")
    var readTimeout = 30

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "notice"

    @Option(help: "Serve HTTPS: the certificate chain (PEM, leaf first). Needs --tls-key.")
    var tlsCert: String?

    @Option(help: "The private key (PEM) for --tls-cert.")
    var tlsKey: String?

    func validate() throws {
        guard loops >= 1 else { throw ValidationError("--loops must be at least 1") }
        guard maxRequestLine >= 16, maxHeaderSection >= 16, maxHeaderSection <= 1 << 30 else {
            throw ValidationError("--max-request-line and --max-header-section must be between 16 and 2^30")
        }
        guard maxBody >= 0, maxBody <= 1 << 30 else { throw ValidationError("--max-body must be between 0 and 2^30") }
        guard readTimeout >= 0 else { throw ValidationError("--read-timeout must not be negative") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() throws {
        var logger = Logger(label: "reactor-http")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
        let signals = TerminationSignals()
        var configuration = ServerConfiguration(host: bind, port: port, subReactors: loops, logger: logger)
        configuration.readTimeout = readTimeout == 0 ? nil : .seconds(readTimeout)
        // A whole request is buffered: its head, and its body with room for chunk framing (a chunked body of
        // 64-byte chunks carries ~10% of framing; smaller chunks need more and are closed past this).
        configuration.limits.maxBufferedInput = maxHeaderSection + maxBody + maxBody / 4 + 65536
        if let tlsCert, let tlsKey {
            TLSMemory.installRecyclingAllocator()  // OpenSSL's per-record structures without malloc calls
            // HTTP/1.1, and HTTP/1.0 (which `curl -0` offers alone; nginx accepts it too): a client that offers only h2
            // is refused with no_application_protocol (RFC 7301 §3.2).
            var tls = TLSServerConfiguration(certificateChain: .file(tlsCert), privateKey: .file(tlsKey))
            tls.applicationProtocols = ["http/1.1", "http/1.0"]
            configuration.transport = try TLSServerContext(configuration: tls)
        }
        let decoder = HTTP1RequestDecoder(
            maxRequestLineLength: maxRequestLine, maxHeaderSectionLength: maxHeaderSection, maxBodyLength: maxBody)
        let server = Server(configuration: configuration, handler: HTTPBenchmarkServer(decoder: decoder))
        try server.start()
        let scheme = tlsCert == nil ? "" : ", https"
        print("reactor-http listening on \(server.localAddress!), \(loops) loop\(loops == 1 ? "" : "s")\(scheme)")
        fflush(nil)  // a parent reading our stdout through a pipe waits for this line
        let signal = signals.wait()
        logger.notice("signal \(signal): shutting down")
        server.stop()
    }
}
