import Benchmark

/// The configuration every benchmark uses; `scalingFactor` is the number of operations one measured iteration (one
/// sample) performs.
///
/// Every benchmark measures wall clock and throughput (for humans) and the malloc count (for CI). Only
/// `mallocCountTotal` gates CI: `thresholds check` compares the p90 of the raw count per sample with `Thresholds/`
/// with zero tolerance, so one more malloc per batch of `scalingFactor` operations fails. Time metrics get no
/// tolerance entries at all (`.none`), so they can never fail a threshold check however noisy the machine is.
/// Each benchmark runs for about 1 s (`maxDuration`) after 3 warm-up iterations, which absorb one-time allocations
/// such as a pool's first slab.
func configuration(scalingFactor: BenchmarkScalingFactor) -> Benchmark.Configuration {
    let thresholds: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 0]),
        .wallClock: .none,
        .throughput: .none,
    ]
    return Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: scalingFactor,
        maxDuration: .seconds(1),
        maxIterations: 10_000,
        thresholds: thresholds
    )
}

let benchmarks: @Sendable () -> Void = {
    registerFrameDecodeBenchmarks()
    registerSlabPoolBenchmarks()
    registerConnectionTableBenchmarks()
    registerEchoBenchmarks()
    registerRESPBenchmarks()
    registerRedisCommandBenchmarks()
    registerHTTP1Benchmarks()
    registerTLSBenchmarks()
}
