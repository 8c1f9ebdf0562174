internal import CEpoll

/// A per-loop pool of fixed-size chunks carved from large slabs, so steady-state I/O never calls malloc, and which
/// gives memory back to the system once a burst is over.
///
/// Size classes are powers of two from ``minimumChunkSize`` up to the class that holds the largest frame.
/// Classes up to ``slabCarvedLimit`` are carved from ``slabSize`` slabs; larger classes are mapped one chunk at a
/// time. Freed chunks go on an intrusive free list (the first 8 bytes of a free chunk point to the next one), so
/// getting and returning a chunk is a pointer pop/push. Each large class keeps at most
/// ``maximumCachedLargeChunks`` free chunks or ``maximumCachedLargeBytes`` of them, whichever is more (so a loop
/// echoing 64 KiB messages, whose chunks fall in the 128 KiB class, does not unmap and map one per message).
///
/// **Giving memory back.** Slabs and large chunks are mapped directly (`mmap`, see `CEpoll_pages_map`), not taken
/// from malloc, whose freed memory glibc may keep. The loop calls ``trim()`` every ``trimInterval``: each class
/// keeps free only as many chunks as it had in use at its peak over the last two intervals, beyond what it has in
/// use now, and unmaps the rest: whole slabs whose every chunk is free, and large chunks one by one. So memory
/// taken in a burst goes back two to three intervals after the burst, while a loop under steady load (whose peak
/// repeats every interval) keeps what it uses and maps nothing. A slab with one chunk still in use stays mapped.
/// The hot path pays one compare per ``get(sizeClass:)`` (the peak).
///
/// Not thread-safe: a pool belongs to exactly one loop thread.
@_spi(Benchmarks) public final class SlabPool {
    /// The smallest chunk, in bytes.
    static let minimumChunkSize = 4096
    /// Classes up to this size are carved from slabs.
    static let slabCarvedLimit = 64 * 1024
    /// Bytes per slab; slabs are aligned to their size, so a chunk's slab is its address rounded down.
    static let slabSize = 1 << 20
    /// Free chunks kept per large class; more are returned to the system.
    static let maximumCachedLargeChunks = 4
    /// Free bytes kept per large class when that is more than ``maximumCachedLargeChunks`` chunks.
    static let maximumCachedLargeBytes = 4 << 20
    /// How often the owning loop calls ``trim()``.
    static let trimInterval = Duration.seconds(1)

    /// Per-class bookkeeping.
    struct SizeClass {
        let chunkSize: Int
        var freeList: UnsafeMutableRawPointer?
        var freeCount = 0
        var inUse = 0
        /// The most chunks in use at once since the last trim.
        var peakInUse = 0
        /// ``peakInUse`` of the interval before that.
        var previousPeak = 0
        /// Base addresses of the slabs carved for this class, ascending (carved classes only).
        var slabs: [UnsafeMutableRawPointer] = []
        /// ``freeCount`` after the last trim that found no slab to unmap: the next search waits until it changes.
        var fruitlessFreeCount = -1

        /// Free chunks kept (large classes only).
        var cacheLimit: Int {
            max(SlabPool.maximumCachedLargeChunks, SlabPool.maximumCachedLargeBytes / chunkSize)
        }
        var isCarved: Bool { chunkSize <= SlabPool.slabCarvedLimit }
    }

    // Invariant: `classCount` initialised entries, allocated in init, freed in deinit. A raw buffer rather than an
    // Array so get/put pay neither a uniqueness check nor a runtime exclusivity check (measured: 59 ns -> 4 ns).
    private let classes: UnsafeMutablePointer<SizeClass>
    private let classCount: Int
    /// Bytes unmapped by ``trim()`` and by large classes over their cache, since the pool was made.
    private var bytesReturned = 0

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
        for index in 0..<classCount {
            if classes[index].isCarved {
                for slab in classes[index].slabs { CEpoll_pages_unmap(slab, Self.slabSize) }
            } else {
                var next = classes[index].freeList
                while let chunk = next {
                    next = chunk.load(as: UnsafeMutableRawPointer?.self)
                    CEpoll_pages_unmap(chunk, classes[index].chunkSize)
                }
            }
        }
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
            if classes[index].inUse > classes[index].peakInUse { classes[index].peakInUse = classes[index].inUse }
            return chunk
        }
        return refill(sizeClass: index)
    }

    /// Returns a chunk taken from class `index`.
    @inline(__always)
    @_spi(Benchmarks) public func put(_ chunk: UnsafeMutableRawPointer, sizeClass index: Int) {
        classes[index].inUse -= 1
        if !classes[index].isCarved && classes[index].freeCount >= classes[index].cacheLimit {
            CEpoll_pages_unmap(chunk, classes[index].chunkSize)
            bytesReturned += classes[index].chunkSize
            return
        }
        chunk.storeBytes(of: classes[index].freeList, as: UnsafeMutableRawPointer?.self)
        classes[index].freeList = chunk
        classes[index].freeCount += 1
    }

    private func refill(sizeClass index: Int) -> UnsafeMutableRawPointer {
        let size = classes[index].chunkSize
        classes[index].inUse += 1
        if classes[index].inUse > classes[index].peakInUse { classes[index].peakInUse = classes[index].inUse }
        if !classes[index].isCarved { return Self.map(size, alignment: 64) }
        // Carve a new slab: hand out the first chunk, thread the rest onto the free list.
        let slab = Self.map(Self.slabSize, alignment: Self.slabSize)
        let position = classes[index].slabs.firstIndex { $0 > slab } ?? classes[index].slabs.endIndex
        classes[index].slabs.insert(slab, at: position)
        let count = Self.slabSize / size
        for offset in stride(from: (count - 1) * size, to: 0, by: -size) {
            let chunk = slab + offset
            chunk.storeBytes(of: classes[index].freeList, as: UnsafeMutableRawPointer?.self)
            classes[index].freeList = chunk
        }
        classes[index].freeCount += count - 1
        return slab
    }

    private static func map(_ byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        guard let pages = CEpoll_pages_map(byteCount, alignment) else {
            fatalError("out of memory: cannot map \(byteCount) bytes for the buffer pool")
        }
        return pages
    }

    // MARK: Giving memory back

    /// Unmaps the free memory the last two trim intervals did not need (see the type's documentation). Called by the
    /// owning loop every ``trimInterval``; allocates nothing unless it finds a slab class with a whole slab's worth
    /// of chunks to spare.
    @_spi(Benchmarks) public func trim() {
        for index in 0..<classCount {
            let needed = max(classes[index].peakInUse, classes[index].previousPeak)
            classes[index].previousPeak = classes[index].peakInUse
            classes[index].peakInUse = classes[index].inUse
            let spare = classes[index].freeCount - max(0, needed - classes[index].inUse)
            if spare <= 0 { continue }
            if classes[index].isCarved {
                unmapFreeSlabs(ofClass: index, atMost: spare / (Self.slabSize / classes[index].chunkSize))
            } else {
                for _ in 0..<spare {
                    let chunk = classes[index].freeList.unsafelyUnwrapped
                    classes[index].freeList = chunk.load(as: UnsafeMutableRawPointer?.self)
                    classes[index].freeCount -= 1
                    CEpoll_pages_unmap(chunk, classes[index].chunkSize)
                    bytesReturned += classes[index].chunkSize
                }
            }
        }
    }

    /// Unmaps up to `limit` slabs of class `index` whose every chunk is on the free list, and takes their chunks off
    /// it (the others keep their order, most recently freed first).
    private func unmapFreeSlabs(ofClass index: Int, atMost limit: Int) {
        guard limit > 0, classes[index].freeCount != classes[index].fruitlessFreeCount else { return }
        let slabs = classes[index].slabs
        let perSlab = Self.slabSize / classes[index].chunkSize
        // Which slab each free chunk belongs to: slabs are aligned to their size.
        func slabIndex(of chunk: UnsafeMutableRawPointer) -> Int {
            let base = UnsafeMutableRawPointer(bitPattern: UInt(bitPattern: chunk) & ~UInt(Self.slabSize - 1))
            var low = 0
            var high = slabs.count
            while low < high {
                let middle = (low + high) / 2
                if slabs[middle] < base.unsafelyUnwrapped { low = middle + 1 } else { high = middle }
            }
            return low
        }
        var freeInSlab = [Int](repeating: 0, count: slabs.count)
        var next = classes[index].freeList
        while let chunk = next {
            freeInSlab[slabIndex(of: chunk)] += 1
            next = chunk.load(as: UnsafeMutableRawPointer?.self)
        }
        var unmapping = [Bool](repeating: false, count: slabs.count)
        var chosen = 0
        for slab in slabs.indices where chosen < limit && freeInSlab[slab] == perSlab {
            unmapping[slab] = true
            chosen += 1
        }
        guard chosen > 0 else {
            classes[index].fruitlessFreeCount = classes[index].freeCount
            return
        }
        // Rebuild the free list without the chunks of the slabs going away.
        var head: UnsafeMutableRawPointer?
        var tail: UnsafeMutableRawPointer?
        next = classes[index].freeList
        while let chunk = next {
            next = chunk.load(as: UnsafeMutableRawPointer?.self)
            if unmapping[slabIndex(of: chunk)] { continue }
            if let last = tail { last.storeBytes(of: chunk, as: UnsafeMutableRawPointer?.self) } else { head = chunk }
            tail = chunk
        }
        tail?.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        classes[index].freeList = head
        classes[index].freeCount -= chosen * perSlab
        classes[index].fruitlessFreeCount = -1
        var kept: [UnsafeMutableRawPointer] = []
        for slab in slabs.indices {
            if unmapping[slab] {
                CEpoll_pages_unmap(slabs[slab], Self.slabSize)
                bytesReturned += Self.slabSize
            } else {
                kept.append(slabs[slab])
            }
        }
        classes[index].slabs = kept
    }

    /// ``PoolStatistics/bytesInUse`` and ``PoolStatistics/bytesReserved`` without building the per-class array
    /// (allocates nothing: the loop's metrics timer reads it).
    var occupancy: (inUse: Int, reserved: Int) {
        var inUse = 0
        var reserved = 0
        for index in 0..<classCount {
            inUse += classes[index].chunkSize * classes[index].inUse
            reserved += classes[index].chunkSize * (classes[index].inUse + classes[index].freeCount)
        }
        return (inUse, reserved)
    }

    /// A snapshot of the pool's occupancy.
    @_spi(Benchmarks) public var statistics: PoolStatistics {
        PoolStatistics(
            classes: (0..<classCount).map { classes[$0] }.map {
                PoolStatistics.SizeClass(
                    chunkSize: $0.chunkSize, chunksInUse: $0.inUse, chunksFree: $0.freeCount, slabs: $0.slabs.count)
            },
            bytesReturned: bytesReturned)
    }
}
