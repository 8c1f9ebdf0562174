/// The default scenario matrix, and the long-running soak outside it.
enum Scenario {
    /// The soak's name (`--scenario soak`); not part of the default matrix.
    static let soakName = "soak"

    /// 10,000 connections that each echo one frame and then sit idle; measures server RSS per connection.
    static let idleMemory = LoadSpec(
        name: "idle-memory", connections: 10_000, size: 64, pipeline: 1, duration: 0, warmup: 0)

    /// Every named scenario at the given measured duration (warmup is a fixed fraction).
    static func all(duration: Double) -> [LoadSpec] {
        let warmup = min(0.5, duration / 4)
        return [
            LoadSpec(name: "latency", connections: 64, size: 64, pipeline: 1, duration: duration, warmup: warmup),
            LoadSpec(name: "pipelined", connections: 64, size: 64, pipeline: 32, duration: duration, warmup: warmup),
            LoadSpec(name: "bulk", connections: 8, size: 64 * 1024, pipeline: 1, duration: duration, warmup: warmup),
            LoadSpec(
                name: "many-conns", connections: 1000, size: 128, pipeline: 1, duration: duration, warmup: warmup),
        ]
    }

    /// The soak: `connections` connections for `duration` seconds with the standard ``SoakPlan`` (mixed payloads up
    /// to 1 MiB, depths 1-4, connections retiring and being replaced throughout).
    static func soak(duration: Double, connections: Int, loops: Int = 1) -> LoadSpec {
        let plan = SoakPlan.standard()
        return LoadSpec(
            name: soakName, connections: connections, size: Int(plan.meanSize.rounded()), pipeline: plan.maximumDepth,
            duration: duration, warmup: soakWarmup(duration: duration), loops: loops, soak: plan)
    }

    /// The soak's warm-up, after which the server's RSS must stay flat: a tenth of the run, but at least 30 s (or a
    /// quarter of a run shorter than two minutes).
    static func soakWarmup(duration: Double) -> Double {
        max(duration / 10, min(30, duration / 4))
    }
}
