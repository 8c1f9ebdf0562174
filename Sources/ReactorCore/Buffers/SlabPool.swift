/// A per-loop pool of fixed-size chunks carved from large slabs, so steady-state I/O never calls malloc.
///
/// Size classes are powers of two from ``minimumChunkSize`` up to the class that holds the largest frame.
/// Classes up to ``slabCarvedLimit`` are carved from ``slabSize`` slabs; larger classes are allocated one chunk at a
/// time. Freed chunks go on an intrusive free list (the first 8 bytes of a free chunk point to the next one), so
/// getting and returning a chunk is a pointer pop/push. Memory is bounded by the peak in use: carved slabs are kept
/// for reuse, and each large class keeps at most ``maximumCachedLargeChunks`` free chunks or
/// ``maximumCachedLargeBytes`` of them, whichever is more (so a loop echoing 64 KiB messages, whose chunks fall in the
/// 128 KiB class, does not free and reallocate one per message).
///
/// Not thread-safe: a pool belongs to exactly one loop thread.
@_spi(Benchmarks) public final class SlabPool {
    /// The smallest chunk, in bytes.
    static let minimumChunkSize = 4096
    /// Classes up to this size are carved from slabs.
    static let slabCarvedLimit = 64 * 1024
    /// Bytes per slab.
    static let slabSize = 1 << 20
    /// Free chunks kept per large class; more are returned to the system.
    static let maximumCachedLargeChunks = 4
    /// Free bytes kept per large class when that is more than ``maximumCachedLargeChunks`` chunks.
    static let maximumCachedLargeBytes = 4 << 20

    /// Per-class bookkeeping.
    struct SizeClass {
        let chunkSize: Int
        var freeList: UnsafeMutableRawPointer?
        var freeCount = 0
        var inUse = 0
        var slabs = 0
        var allocatedChunks = 0
        /// Free chunks kept (large classes only).
        var cacheLimit: Int {
            max(SlabPool.maximumCachedLargeChunks, SlabPool.maximumCachedLargeBytes / chunkSize)
        }
    }

    // Invariant: `classCount` initialised entries, allocated in init, freed in deinit. A raw buffer rather than an
    // Array so get/put pay neither a uniqueness check nor a runtime exclusivity check (measured: 59 ns -> 4 ns).
    private let classes: UnsafeMutablePointer<SizeClass>
    private let classCount: Int
    private var slabs: [UnsafeMutableRawPointer] = []

    /// Creates a pool whose largest class holds `largestChunk` bytes.
    @_spi(Benchmarks) public init(largestChunk: Int) {
        var classes: [SizeClass] = []
        var size = Self.minimumChunkSize
        while true {
            classes.append(SizeClass(chunkSize: size))
            if size >= largestChunk { break }
            size <<= 1
        }
        self.classCount = classes.count
        self.classes = .allocate(capacity: classes.count)
        self.classes.initialize(from: classes, count: classes.count)
    }

    deinit {
        for index in 0..<classCount where classes[index].chunkSize > Self.slabCarvedLimit {
            var next = classes[index].freeList
            while let chunk = next {
                next = chunk.load(as: UnsafeMutableRawPointer?.self)
                chunk.deallocate()
            }
        }
        for slab in slabs { slab.deallocate() }
        classes.deinitialize(count: classCount)
        classes.deallocate()
    }

    /// Bytes per chunk of the largest class.
    @_spi(Benchmarks) public var largestChunkSize: Int { classes[classCount - 1].chunkSize }

    /// The index of the smallest class holding `byteCount` bytes.
    @inline(__always)
    @_spi(Benchmarks) public func sizeClass(for byteCount: Int) -> Int {
        if byteCount <= Self.minimumChunkSize { return 0 }
        // ceil(log2(byteCount)) - log2(minimum)
        let bits = Int.bitWidth - (byteCount - 1).leadingZeroBitCount
        let index = bits - Self.minimumChunkSize.trailingZeroBitCount
        precondition(index < classCount, "chunk of \(byteCount) bytes exceeds the pool's largest class")
        return index
    }

    /// The size in bytes of chunks in class `index`.
    @inline(__always)
    @_spi(Benchmarks) public func chunkSize(ofClass index: Int) -> Int { classes[index].chunkSize }

    /// Takes a chunk of class `index` (see ``sizeClass(for:)``).
    @inline(__always)
    @_spi(Benchmarks) public func get(sizeClass index: Int) -> UnsafeMutableRawPointer {
        if let chunk = classes[index].freeList {
            classes[index].freeList = chunk.load(as: UnsafeMutableRawPointer?.self)
            classes[index].freeCount -= 1
            classes[index].inUse += 1
            return chunk
        }
        return refill(sizeClass: index)
    }

    /// Returns a chunk taken from class `index`.
    @inline(__always)
    @_spi(Benchmarks) public func put(_ chunk: UnsafeMutableRawPointer, sizeClass index: Int) {
        classes[index].inUse -= 1
        if classes[index].chunkSize > Self.slabCarvedLimit && classes[index].freeCount >= classes[index].cacheLimit {
            chunk.deallocate()
            classes[index].allocatedChunks -= 1
            return
        }
        chunk.storeBytes(of: classes[index].freeList, as: UnsafeMutableRawPointer?.self)
        classes[index].freeList = chunk
        classes[index].freeCount += 1
    }

    private func refill(sizeClass index: Int) -> UnsafeMutableRawPointer {
        let size = classes[index].chunkSize
        classes[index].inUse += 1
        classes[index].allocatedChunks += 1
        if size > Self.slabCarvedLimit {
            return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        }
        // Carve a new slab: hand out the first chunk, thread the rest onto the free list.
        let slab = UnsafeMutableRawPointer.allocate(byteCount: Self.slabSize, alignment: 4096)
        slabs.append(slab)
        classes[index].slabs += 1
        let count = Self.slabSize / size
        for offset in stride(from: (count - 1) * size, to: 0, by: -size) {
            let chunk = slab + offset
            chunk.storeBytes(of: classes[index].freeList, as: UnsafeMutableRawPointer?.self)
            classes[index].freeList = chunk
        }
        classes[index].freeCount += count - 1
        classes[index].allocatedChunks += count - 1
        return slab
    }

    /// A snapshot of the pool's occupancy.
    @_spi(Benchmarks) public var statistics: PoolStatistics {
        PoolStatistics(
            classes: (0..<classCount).map { classes[$0] }.map {
                PoolStatistics.SizeClass(
                    chunkSize: $0.chunkSize, chunksInUse: $0.inUse, chunksFree: $0.freeCount, slabs: $0.slabs)
            })
    }
}
