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

@Suite struct SlabPoolTrimTests {
    /// Chunks of the 4 KiB class in a slab.
    static let perSlab = SlabPool.slabSize / 4096

    @Test func memoryTakenInABurstIsUnmappedTwoQuietIntervalsLater() {
        let pool = SlabPool(largestChunk: 1 << 20)
        let large = pool.sizeClass(for: 1 << 20)
        let small = (0..<(3 * Self.perSlab)).map { _ in pool.get(sizeClass: 0) }
        let big = (0..<3).map { _ in pool.get(sizeClass: large) }
        for chunk in small { pool.put(chunk, sizeClass: 0) }
        for chunk in big { pool.put(chunk, sizeClass: large) }
        #expect(pool.statistics.bytesReserved == 3 * SlabPool.slabSize + 3 << 20)

        pool.trim()  // the burst was in this interval
        #expect(pool.statistics.bytesReserved == 3 * SlabPool.slabSize + 3 << 20)
        pool.trim()  // ... and in the one before this
        #expect(pool.statistics.bytesReserved == 3 * SlabPool.slabSize + 3 << 20)
        pool.trim()
        #expect(pool.statistics.bytesReserved == 0)
        #expect(pool.statistics.classes[0].slabs == 0)
        #expect(pool.statistics.bytesReturned == 3 * SlabPool.slabSize + 3 << 20)

        // The pool works as before afterwards.
        let again = pool.get(sizeClass: 0)
        #expect(pool.statistics.classes[0].slabs == 1)
        pool.put(again, sizeClass: 0)
    }

    @Test func aSteadyLoadKeepsWhatItUsesAcrossTrims() {
        let pool = SlabPool(largestChunk: 1 << 20)
        let large = pool.sizeClass(for: 256 << 10)
        for _ in 0..<10 {
            let small = (0..<(Self.perSlab + 10)).map { _ in pool.get(sizeClass: 0) }
            let big = (0..<2).map { _ in pool.get(sizeClass: large) }
            for chunk in small { pool.put(chunk, sizeClass: 0) }
            for chunk in big { pool.put(chunk, sizeClass: large) }
            pool.trim()
        }
        #expect(pool.statistics.classes[0].slabs == 2)
        #expect(pool.statistics.classes[large].chunksFree == 2)
        #expect(pool.statistics.bytesReturned == 0)
    }

    @Test func onlySlabsWithEveryChunkFreeAreUnmapped() {
        let pool = SlabPool(largestChunk: 1 << 20)
        let chunks = (0..<(3 * Self.perSlab)).map { _ in pool.get(sizeClass: 0) }
        let pinned = chunks[Self.perSlab + 7]  // one chunk of the second slab stays in use
        for chunk in chunks where chunk != pinned { pool.put(chunk, sizeClass: 0) }
        for _ in 0..<3 { pool.trim() }
        let statistics = pool.statistics.classes[0]
        #expect(statistics.slabs == 1)
        #expect(statistics.chunksInUse == 1)
        #expect(statistics.chunksFree == Self.perSlab - 1)
        // The free list still hands out distinct chunks of the slab that stayed, and only those.
        let slab = UInt(bitPattern: pinned) & ~UInt(SlabPool.slabSize - 1)
        let rest = (0..<(Self.perSlab - 1)).map { _ in pool.get(sizeClass: 0) }
        #expect(Set(rest).count == rest.count)
        #expect(rest.allSatisfy { UInt(bitPattern: $0) & ~UInt(SlabPool.slabSize - 1) == slab })
        #expect(!rest.contains(pinned))
        #expect(pool.statistics.classes[0].slabs == 1)
        for chunk in rest + [pinned] { pool.put(chunk, sizeClass: 0) }
        for _ in 0..<3 { pool.trim() }
        #expect(pool.statistics.bytesReserved == 0)
    }

    @Test func slabsAreAlignedToTheirSize() {
        let pool = SlabPool(largestChunk: 1 << 20)
        let chunks = (0..<(2 * SlabPool.slabSize / (64 << 10))).map { _ in pool.get(sizeClass: 4) }
        let bases = Set(chunks.map { UInt(bitPattern: $0) & ~UInt(SlabPool.slabSize - 1) })
        #expect(bases.count == 2)
        for chunk in chunks { pool.put(chunk, sizeClass: 4) }
    }
}
