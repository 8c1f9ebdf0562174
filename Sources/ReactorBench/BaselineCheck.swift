/// The regression gate behind `--baseline FILE.json`: compares this run with an earlier one, scenario by scenario.
///
/// A regression is any increase in allocations per message (beyond 0.001, one allocation per thousand messages,
/// the resolution of a short run), a throughput drop or p99 rise beyond `tolerance`, more bytes per idle
/// connection beyond `tolerance`, a burst's memory not given back in time when it was in the baseline, or any errors.
struct BaselineCheck {
    let baseline: JSONReport
    /// Allowed relative change, e.g. 0.15 for 15%.
    let tolerance: Double

    struct Finding {
        var line: String
        var isRegression: Bool
    }

    func compare(_ current: [JSONReport.Scenario]) -> [Finding] {
        var findings: [Finding] = []
        for now in current {
            guard let then = baseline.scenarios.first(where: { $0.name == now.name && $0.server == now.server })
            else {
                findings.append(Finding(line: "\(now.name): not in the baseline, skipped", isRegression: false))
                continue
            }
            if now.errors > 0 {
                findings.append(Finding(line: "\(now.name): \(now.errors) errors", isRegression: true))
            }
            if let idleNow = now.rssBytesPerIdleConnection, let idleThen = then.rssBytesPerIdleConnection {
                findings.append(relative(now.name, "bytes/idle conn", idleThen, idleNow, higherIsWorse: true))
                continue
            }
            if let burstNow = now.burst {
                findings.append(burst(now.name, then: then.burst, now: burstNow))
                continue
            }
            if let allocationsNow = now.allocationsPerMessage, let allocationsThen = then.allocationsPerMessage {
                let worse = allocationsNow > allocationsThen + 0.001
                findings.append(
                    Finding(
                        line: "\(now.name): allocs/msg \(Format.fixed(allocationsThen, 3)) -> "
                            + "\(Format.fixed(allocationsNow, 3))\(worse ? "  REGRESSION" : "")",
                        isRegression: worse))
            }
            findings.append(relative(now.name, "msgs/s", then.msgsPerSecond, now.msgsPerSecond, higherIsWorse: false))
            findings.append(relative(now.name, "p99", then.p99Microseconds, now.p99Microseconds, higherIsWorse: true))
        }
        return findings
    }

    /// RSS kept after a burst is noisy near zero, so only its verdict gates: back within the limit, or not.
    private func burst(_ name: String, then: BurstFigures?, now: BurstFigures) -> Finding {
        let worse = now.settledSeconds == nil && then?.settledSeconds != nil
        let before = then.map { "\(BurstFigures.signed($0.retainedMiB)) MiB, \($0.settledText) -> " } ?? ""
        return Finding(
            line: "\(name): RSS after the burst \(before)\(BurstFigures.signed(now.retainedMiB)) MiB, "
                + "\(now.settledText)\(worse ? "  REGRESSION" : "")",
            isRegression: worse)
    }

    private func relative(
        _ name: String, _ metric: String, _ then: Double, _ now: Double, higherIsWorse: Bool
    )
        -> Finding
    {
        let change = then > 0 ? (now - then) / then : 0
        let worse = higherIsWorse ? change > tolerance : change < -tolerance
        let sign = change >= 0 ? "+" : ""
        return Finding(
            line: "\(name): \(metric) \(Format.fixed(then, 1)) -> \(Format.fixed(now, 1)) "
                + "(\(sign)\(Format.fixed(change * 100, 1))%)\(worse ? "  REGRESSION" : "")",
            isRegression: worse)
    }
}
