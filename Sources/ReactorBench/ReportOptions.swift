import ArgumentParser

/// `--json`, `--plot`, `--baseline` and `--tolerance`, shared by `run`, `load` and `compare`.
struct ReportOptions: ParsableArguments {
    @Option(name: .customLong("json"), help: "Write the results as JSON to this file.")
    var jsonPath: String?

    @Option(
        name: .customLong("plot"),
        help: "Write a latency percentile chart (SVG) to this file (for the soak: server RSS over time).")
    var plotPath: String?

    @Option(
        name: .customLong("baseline"),
        help: "Compare with an earlier --json file; exit non-zero on a regression.")
    var baselinePath: String?

    @Option(help: "Allowed relative throughput drop / p99 rise against --baseline (0.15 = 15%).")
    var tolerance = 0.15

    /// Writes the requested files and applies the baseline gate; returns false on a regression.
    func finish(
        _ results: [(result: LoadResult, server: String)], title: String, soak: SoakReport? = nil
    ) throws -> Bool {
        let scenarios = results.map { JSONReport.Scenario($0.result, server: $0.server) }
        // Read the baseline before writing: `--json X --baseline X` must compare with the old X, not the new one.
        let baseline = try baselinePath.map { try JSONReport.read(from: $0) }
        if let jsonPath {
            try JSONReport(scenarios: scenarios, soak: soak).write(to: jsonPath)
            emit("wrote \(jsonPath)")
        }
        if let plotPath, let soak {
            try RSSPlot.write(soak, title: title, to: plotPath)
            emit("wrote \(plotPath)")
        } else if let plotPath {
            let series = results.filter { !$0.result.latencyDistribution.isEmpty }.map {
                LatencyPlot.Series(
                    name: "\($0.result.spec.name) (\($0.server)): \($0.result.spec.connections) conns, "
                        + "\(Format.bytes(Double($0.result.spec.size))), depth \($0.result.spec.pipeline)",
                    points: $0.result.latencyDistribution)
            }
            try LatencyPlot.write(series, title: title, to: plotPath)
            emit("wrote \(plotPath)")
        }
        guard let baselinePath, let baseline else { return true }
        let check = BaselineCheck(baseline: baseline, tolerance: tolerance)
        let findings = check.compare(scenarios)
        emit("against baseline \(baselinePath) (tolerance \(Format.fixed(tolerance * 100, 0))%):")
        for finding in findings { emit("  " + finding.line) }
        let regressions = findings.filter(\.isRegression).count
        emit(regressions == 0 ? "no regression" : "\(regressions) regression(s)")
        return regressions == 0
    }
}
