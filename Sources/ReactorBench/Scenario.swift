/// The default scenario matrix, and the scenarios outside it: the long-running soak, and the burst.
enum Scenario {
    /// The soak's name (`--scenario soak`); not part of the default matrix.
    static let soakName = "soak"

    /// The burst's name (`--scenario burst-memory`); not part of the default matrix (it takes about 14 s whatever
    /// `--duration` says, as long as the whole matrix).
    static let burstMemoryName = "burst-memory"

    /// 10,000 connections that each echo one frame and then sit idle; measures server RSS per connection.
    static let idleMemory = LoadSpec(
        name: "idle-memory", connections: 10_000, size: 64, pipeline: 1, duration: 0, warmup: 0)

    /// `peers` peers each write up to 12 MiB of 16 KiB frames for at most 3 s without reading, then reset; measures
    /// the server RSS the burst takes and how much of it is still held 10 s later (see ``BurstRunner``).
    static func burstMemory(peers: Int = 16) -> LoadSpec {
        LoadSpec(
            name: burstMemoryName, connections: peers, size: BurstRunner.frameBytes - 4, pipeline: 1, duration: 3,
            warmup: 0)
    }

    /// Whether the scenario named `name` measures the server's memory: it then runs against a server in a child
    /// process (``LoadGenerator/runMemory(_:against:)``), whose RSS is the server's alone.
    static func measuresMemory(_ name: String) -> Bool {
        name == idleMemory.name || name == burstMemoryName
    }

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
