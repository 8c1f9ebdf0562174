/// The default scenario matrix.
enum Scenario {
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
}
