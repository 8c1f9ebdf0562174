import ArgumentParser
import ReactorCore

/// `reactor-bench load`: the load driver against any framed echo server.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive a framed echo server (any implementation) and report throughput and latency.")

    @Option(help: "Server address.")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port: Int

    @Option(help: "Concurrent connections.")
    var connections = 64

    @Option(
        help: "soak: the soak scenario instead (mixed sizes and depths, connection churn; ignores --size, --pipeline).")
    var scenario: String?

    @Option(help: "Request payload bytes.")
    var size = 64

    @Option(help: "Requests in flight per connection.")
    var pipeline = 1

    @Option(help: "Measured seconds.")
    var duration = 5.0

    @Option(help: "Warmup seconds before measuring.")
    var warmup = 1.0

    @Option(help: "Load-driver loop threads.")
    var loops = 1

    @Option(help: "Name for this server in the JSON and the plot.")
    var serverName = "target"

    @Option(help: "PID of the server process, to report its CPU time and RSS.")
    var serverPid: Int32?

    @Flag(help: "Connect with TLS, accepting any certificate unverified (like curl -k).")
    var tls = false

    @Option(help: "Like --tls, but verify the server's certificate: signed by a CA in this PEM file, for --host.")
    var tlsCa: String?

    @OptionGroup var report: ReportOptions

    func run() throws {
        let transport = tls || tlsCa != nil ? try BenchTLS.client(host: host, trustedCAFile: tlsCa) : nil
        if let scenario {
            guard scenario == Scenario.soakName else {
                throw ValidationError("unknown scenario \(scenario) (only soak)")
            }
            return try runSoak(transport: transport)
        }
        let generator = LoadGenerator(target: try ReactorSocketAddress(host: host, port: port), transport: transport)
        let spec = LoadSpec(
            name: "load", connections: connections, size: size, pipeline: pipeline, duration: duration,
            warmup: warmup, loops: loops)
        let result = try generator.run(spec, probe: serverPid.map { ChildProcessProbe(pid: $0) })
        emit(ResultTable.header())
        emit(ResultTable.row(result))
        let noRegression = try report.finish(
            [(result, serverName)], title: "echo latency by percentile: \(host):\(port)")
        if !result.succeeded || !noRegression { throw ExitCode.failure }
    }

    private func runSoak(transport: (any ConnectionTransportProvider)?) throws {
        let spec = Scenario.soak(duration: duration, connections: connections, loops: loops)
        let target = try ReactorSocketAddress(host: host, port: port)
        let (result, report) = try SoakRunner(target: target, serverPID: serverPid, transport: transport).run(spec)
        emit(ResultTable.header())
        emit(ResultTable.row(result))
        for line in report.summaryLines() { emit(line) }
        let noRegression = try self.report.finish(
            [(result, serverName)], title: "echo soak: \(host):\(port) resident memory over time", soak: report)
        if !result.succeeded || !report.passed || !noRegression { throw ExitCode.failure }
    }
}
