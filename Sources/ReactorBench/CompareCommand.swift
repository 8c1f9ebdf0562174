import ArgumentParser
import ReactorCore

/// `reactor-bench compare`: our server and the C reference echo server, each in its own process with the same
/// number of threads, measured alternately by the same load driver in the same run; prints medians and ratios.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Measure swift-reactor against the C reference echo server in the same run and print ratios.")

    @Option(help: "Measured seconds per run.")
    var duration = 2.0

    @Option(help: "Runs per server and scenario (alternating order); medians are reported.")
    var rounds = 3

    @Option(
        help: ArgumentHelp(
            "Run only this scenario (latency, pipelined, bulk, many-conns, idle-memory), or burst-memory (not in the "
                + "matrix)."))
    var scenario: String?

    @Option(help: "Peers for --scenario burst-memory.")
    var burstPeers = 16

    @Option(help: "Threads for each server (sub-reactors for ours, epoll threads for C).")
    var serverThreads = 1

    @Option(help: "Load-driver loop threads.")
    var clientLoops = 1

    @OptionGroup var report: ReportOptions

    func run() throws {
        var specs = Scenario.all(duration: duration) + [Scenario.idleMemory]
        if let scenario {
            specs = (specs + [Scenario.burstMemory(peers: burstPeers)]).filter { $0.name == scenario }
            guard !specs.isEmpty else { throw ValidationError("unknown scenario \(scenario)") }
        }
        print(
            "swift-reactor vs C reference: \(serverThreads) server thread(s) each, load driver \(clientLoops) loop(s), "
                + "\(rounds) alternating runs, medians; \(ServerConfiguration.coreCount) cores shared")
        emit(ResultTable.header())
        var failed = false
        var medians: [(result: LoadResult, server: String)] = []
        for var spec in specs {
            spec.loops = clientLoops
            var ours: [LoadResult] = []
            var reference: [LoadResult] = []
            for round in 0..<rounds {
                for isOurs in round % 2 == 0 ? [false, true] : [true, false] {
                    let server =
                        try isOurs
                        ? ChildServer.swiftReactor(loops: serverThreads)
                        : ChildServer.cReference(threads: serverThreads)
                    defer { server.stop() }
                    let result =
                        try Scenario.measuresMemory(spec.name)
                        ? LoadGenerator.runMemory(spec, against: server)
                        : LoadGenerator(target: server.address).run(spec, probe: ChildProcessProbe(pid: server.pid))
                    if !result.succeeded { failed = true }
                    if isOurs { ours.append(result) } else { reference.append(result) }
                }
            }
            let ourMedian = Self.median(ours)
            let referenceMedian = Self.median(reference)
            emit(ResultTable.row(referenceMedian, label: "\(spec.name) [C]"))
            if let burst = referenceMedian.burst { emit(burst.summaryLine) }
            emit(ResultTable.row(ourMedian, label: "\(spec.name) [swift]"))
            if let burst = ourMedian.burst { emit(burst.summaryLine) }
            emit(Self.ratioLine(ours: ours, reference: reference, name: spec.name))
            medians.append((referenceMedian, "c-reference"))
            medians.append((ourMedian, "swift-reactor"))
        }
        let noRegression = try report.finish(medians, title: "swift-reactor vs C reference: latency by percentile")
        if failed || !noRegression { throw ExitCode.failure }
    }

    /// The run with the median throughput (or median idle cost, or median RSS kept after a burst).
    static func median(_ results: [LoadResult]) -> LoadResult {
        let sorted = results.sorted { key($0) < key($1) }
        return sorted[sorted.count / 2]
    }

    private static func key(_ result: LoadResult) -> Double {
        result.residentBytesPerIdleConnection ?? result.burst.map { Double($0.rssAfterBytes - $0.rssBeforeBytes) }
            ?? result.messagesPerSecond
    }

    private static func medianOf(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func ratioLine(ours: [LoadResult], reference: [LoadResult], name: String) -> String {
        if name == Scenario.idleMemory.name {
            let us = medianOf(ours.compactMap(\.residentBytesPerIdleConnection))
            let them = medianOf(reference.compactMap(\.residentBytesPerIdleConnection))
            return "  => idle connection: swift \(Format.fixed(us, 0)) B, C \(Format.fixed(them, 0)) B"
        }
        if name == Scenario.burstMemoryName {
            func medians(_ results: [LoadResult]) -> String {
                let burst = results.compactMap(\.burst)
                let settled = burst.compactMap(\.settledSeconds)
                let peak = BurstFigures.signed(medianOf(burst.map(\.peakGrowthMiB)))
                let retained = BurstFigures.signed(medianOf(burst.map(\.retainedMiB)))
                let limit = Format.bytes(Double(BurstRunner.retainedLimit))
                return "peak \(peak) MiB, after \(Format.seconds(BurstRunner.settleSeconds)) \(retained) MiB, back "
                    + "within \(limit) in \(settled.count) of \(burst.count) runs"
                    + (settled.isEmpty ? "" : " (median \(Format.seconds(medianOf(settled))))")
            }
            return "  => burst (medians): swift \(medians(ours)); C \(medians(reference))"
        }
        let throughput = medianOf(ours.map(\.messagesPerSecond)) / max(1, medianOf(reference.map(\.messagesPerSecond)))
        let p99 = medianOf(ours.map(\.p99Microseconds)) / max(0.001, medianOf(reference.map(\.p99Microseconds)))
        let cpu =
            medianOf(ours.compactMap { $0.server?.cpuMicrosecondsPerMessage })
            / max(0.000_001, medianOf(reference.compactMap { $0.server?.cpuMicrosecondsPerMessage }))
        let each = zip(ours, reference).map { Format.fixed($0.messagesPerSecond / max(1, $1.messagesPerSecond), 2) }
        return "  => swift/C: msgs/s \(Format.fixed(throughput, 2))x (runs: \(each.joined(separator: " "))), "
            + "p99 \(Format.fixed(p99, 2))x, server cpu/msg \(Format.fixed(cpu, 2))x"
    }
}
