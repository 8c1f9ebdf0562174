import Testing

@_spi(Benchmarks) @testable import ReactorCore

@Suite struct SlabPoolTests {
    @Test func sizeClassesArePowersOfTwoFromFourKiB() {
        let pool = SlabPool(largestChunk: 1 << 20)
        #expect(pool.sizeClass(for: 0) == 0)
        #expect(pool.sizeClass(for: 4096) == 0)
        #expect(pool.sizeClass(for: 4097) == 1)
        #expect(pool.chunkSize(ofClass: pool.sizeClass(for: 1 << 20)) == 1 << 20)
        #expect(pool.statistics.classes.count == 9)
    }

    @Test func returnedChunksAreReusedWithoutNewSlabs() {
        let pool = SlabPool(largestChunk: 1 << 20)
        let first = pool.get(sizeClass: 2)
        pool.put(first, sizeClass: 2)
        let again = pool.get(sizeClass: 2)
        #expect(again == first)
        pool.put(again, sizeClass: 2)
        for _ in 0..<1000 {
            let chunk = pool.get(sizeClass: 2)
            pool.put(chunk, sizeClass: 2)
        }
        let statistics = pool.statistics.classes[2]
        #expect(statistics.slabs == 1)
        #expect(statistics.chunksInUse == 0)
        #expect(statistics.chunksFree == SlabPool.slabSize / (16 * 1024))
    }

    @Test func smallClassesAreCarvedFromSlabs() {
        let pool = SlabPool(largestChunk: 1 << 20)
        let perSlab = SlabPool.slabSize / 4096
        let chunks = (0..<(perSlab + 1)).map { _ in pool.get(sizeClass: 0) }
        #expect(Set(chunks).count == chunks.count)
        #expect(pool.statistics.classes[0].slabs == 2)
        #expect(pool.statistics.classes[0].chunksInUse == perSlab + 1)
        for chunk in chunks { pool.put(chunk, sizeClass: 0) }
        #expect(pool.statistics.bytesInUse == 0)
    }

    @Test func largeClassesKeepOnlyAFewFreeChunks() {
        let pool = SlabPool(largestChunk: 1 << 20)
        let large = pool.sizeClass(for: 1 << 20)
        let chunks = (0..<10).map { _ in pool.get(sizeClass: large) }
        for chunk in chunks { pool.put(chunk, sizeClass: large) }
        #expect(pool.statistics.classes[large].chunksFree == SlabPool.maximumCachedLargeChunks)
        #expect(pool.statistics.classes[large].chunksInUse == 0)
    }
}
