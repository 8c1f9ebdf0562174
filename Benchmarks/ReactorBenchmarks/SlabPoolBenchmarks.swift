import Benchmark
@_spi(Benchmarks) import ReactorCore

func registerSlabPoolBenchmarks() {
    // The loop's pool as LoopIO creates it with the default limits (largest class: the 1 MiB frame limit).
    let pool = SlabPool(largestChunk: 1 << 20)
    // Class 0 (4 KiB: partial frames up to 4 KiB) and the outbound class (16 KiB chunks every reply is queued in).
    let classes: [(name: String, sizeClass: Int)] = [
        ("SlabPool.get-put-4KiB", pool.sizeClass(for: 1)),
        ("SlabPool.get-put-16KiB-outbound", pool.sizeClass(for: 16 * 1024)),
    ]
    for (name, sizeClass) in classes {
        // One iteration: take one chunk and give it back (a free-list pop and push). The first get carves a slab
        // (one malloc) during warm-up; after that the pool never calls malloc.
        Benchmark(name, configuration: configuration(scalingFactor: .mega)) { benchmark in
            for _ in benchmark.scaledIterations {
                let chunk = pool.get(sizeClass: sizeClass)
                blackHole(chunk)
                pool.put(chunk, sizeClass: sizeClass)
            }
        }
    }
}
