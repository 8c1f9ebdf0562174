import ArgumentParser
import Logging
import ReactorCore

/// `reactor-bench run` (the default): the embedded echo server and the scenario matrix against it.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start an embedded echo server and drive the scenario matrix against it (the default).")

    @Option(help: "Measured seconds per scenario (for the soak: its whole length).")
    var duration = 2.0

    @Option(
        help: ArgumentHelp(
            "Run only this scenario (latency, pipelined, bulk, many-conns, idle-memory), or one outside the matrix: "
                + "burst-memory, soak."))
    var scenario: String?

    @Option(help: "Peers for --scenario burst-memory.")
    var burstPeers = 16

    @Option(help: "Connections for --scenario soak.")
    var soakConnections = 1000

    @Option(help: "Server sub-reactor threads.")
    var serverLoops = 1

    @Option(help: "Load-driver loop threads.")
    var clientLoops = 1

    @Flag(help: "Server in reuse-port mode: one SO_REUSEPORT listener per loop, no acceptor thread.")
    var reusePort = false

    @Option(
        help: ArgumentHelp(
            "Serve over TLS with this certificate chain (PEM, leaf first; needs --tls-key), the load driver "
                + "accepting it unverified; every scenario but burst-memory (plain sockets)."))
    var tlsCert: String?

    @Option(help: "The private key (PEM) for --tls-cert.")
    var tlsKey: String?

    @Flag(help: "With --tls-cert: idle connections give OpenSSL's record buffers back (SSL_MODE_RELEASE_BUFFERS).")
    var tlsReleaseBuffers = false

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsCert != nil && scenario == Scenario.burstMemoryName {
            throw ValidationError("burst-memory writes through plain sockets: not with --tls-cert")
        }
    }

    /// The certificate chain and key when serving over TLS.
    private var tls: (certificate: String, key: String, releaseBuffers: Bool)? {
        guard let tlsCert, let tlsKey else { return nil }
        return (tlsCert, tlsKey, tlsReleaseBuffers)
    }

    @OptionGroup var report: ReportOptions

    func run() throws {
        if scenario == Scenario.soakName { return try runSoak() }
        var specs = Scenario.all(duration: duration) + [Scenario.idleMemory]
        if let scenario {
            specs = (specs + [Scenario.burstMemory(peers: burstPeers)]).filter { $0.name == scenario }
            guard !specs.isEmpty else { throw ValidationError("unknown scenario \(scenario)") }
        }
        var logger = Logger(label: "reactor-bench.server")
        logger.logLevel = .warning
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, subReactors: serverLoops, logger: logger)
        configuration.reusePort = reusePort
        if let tls {
            configuration.transport = try BenchTLS.server(
                certificate: tls.certificate, key: tls.key, releaseBuffers: tls.releaseBuffers)
        }
        let transport = tls == nil ? nil : try BenchTLS.client(host: "127.0.0.1", trustedCAFile: nil)
        let server = Server(configuration: configuration, handler: EchoHandler())
        try server.start()
        defer { server.stop() }
        let generator = LoadGenerator(target: server.localAddress!, transport: transport)
        print(
            "swift-reactor echo bench: server \(serverLoops) loop(s)\(reusePort ? " (reuse-port)" : "")"
                + "\(tls == nil ? "" : " over TLS"), "
                + "load driver \(clientLoops) loop(s), "
                + "\(ServerConfiguration.coreCount) cores shared")
        emit(ResultTable.header())
        var failed = false
        var results: [(result: LoadResult, server: String)] = []
        for var spec in specs {
            spec.loops = clientLoops
            let result: LoadResult
            if Scenario.measuresMemory(spec.name) {
                // The server's memory needs the server alone in its process: the load driver's own 10,000
                // connections (or a burst's buffers) would otherwise be counted too.
                let child = try ChildServer.swiftReactor(loops: serverLoops, tls: tls)
                defer { child.stop() }
                result = try LoadGenerator.runMemory(spec, against: child, transport: transport)
            } else {
                result = try generator.run(spec, probe: EmbeddedServerProbe(server: server))
            }
            emit(ResultTable.row(result))
            if let burst = result.burst { emit(burst.summaryLine) }
            results.append((result, "swift-reactor"))
            if !result.succeeded { failed = true }
        }
        let noRegression = try report.finish(results, title: "swift-reactor echo: latency by percentile")
        if failed || !noRegression { throw ExitCode.failure }
    }

    /// The soak, against our server in a child process (`serve`), so the RSS sampled is the server's alone.
    private func runSoak() throws {
        let child = try ChildServer.swiftReactor(loops: serverLoops, countAllocations: true, tls: tls)
        defer { child.stop() }
        print(
            "swift-reactor echo soak: server \(serverLoops) loop(s) in a child process\(tls == nil ? "" : " over TLS"), "
                + "load driver \(clientLoops) loop(s), \(ServerConfiguration.coreCount) cores shared")
        let spec = Scenario.soak(duration: duration, connections: soakConnections, loops: clientLoops)
        var runner = SoakRunner(target: child.address, serverPID: child.pid)
        if tls != nil { runner.transport = try BenchTLS.client(host: "127.0.0.1", trustedCAFile: nil) }
        runner.serverHeap = { child.liveHeap() }
        var (result, report) = try runner.run(spec)
        report.addServerOutput(child.stop())
        if let frames = report.serverFrames { result.server?.frames = frames }
        result.server?.allocations = report.serverAllocations
        emit(ResultTable.header())
        emit(ResultTable.row(result))
        for line in report.summaryLines() { emit(line) }
        let noRegression = try self.report.finish(
            [(result, "swift-reactor")], title: "swift-reactor echo soak: resident memory over time", soak: report)
        if !result.succeeded || !report.passed || !noRegression { throw ExitCode.failure }
    }
}
