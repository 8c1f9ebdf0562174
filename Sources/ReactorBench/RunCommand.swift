import ArgumentParser
import Logging
import ReactorCore

/// `reactor-bench run` (the default): the embedded echo server and the scenario matrix against it.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start an embedded echo server and drive the scenario matrix against it (the default).")

    @Option(help: "Measured seconds per scenario.")
    var duration = 2.0

    @Option(help: "Run only this scenario (latency, pipelined, bulk, many-conns).")
    var scenario: String?

    @Option(help: "Server sub-reactor threads.")
    var serverLoops = 1

    @Option(help: "Load-driver loop threads.")
    var clientLoops = 1

    func run() throws {
        var specs = Scenario.all(duration: duration)
        if let scenario {
            specs = specs.filter { $0.name == scenario }
            guard !specs.isEmpty else { throw ValidationError("unknown scenario \(scenario)") }
        }
        var logger = Logger(label: "reactor-bench.server")
        logger.logLevel = .warning
        let server = Server(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, subReactors: serverLoops, logger: logger),
            handler: EchoHandler())
        try server.start()
        defer { server.stop() }
        let generator = LoadGenerator(target: server.localAddress!)
        print(
            "swift-reactor echo bench: server \(serverLoops) loop(s), load driver \(clientLoops) loop(s), "
                + "\(ServerConfiguration.coreCount) cores shared")
        emit(ResultTable.header())
        var failed = false
        for var spec in specs {
            spec.loops = clientLoops
            let result = try generator.run(spec, probe: EmbeddedServerProbe(server: server))
            emit(ResultTable.row(result))
            if !result.succeeded { failed = true }
        }
        if failed { throw ExitCode.failure }
    }
}
