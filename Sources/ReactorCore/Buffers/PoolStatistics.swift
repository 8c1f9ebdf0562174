/// How much memory a loop's buffer pool holds, by size class.
public struct PoolStatistics: Sendable, Hashable {
    /// One size class.
    public struct SizeClass: Sendable, Hashable {
        /// Bytes per chunk.
        public var chunkSize: Int
        /// Chunks handed out and not yet returned.
        public var chunksInUse: Int
        /// Chunks on the free list.
        public var chunksFree: Int
        /// Slabs carved for this class (zero for classes allocated chunk by chunk).
        public var slabs: Int
    }

    /// Every class, smallest first.
    public var classes: [SizeClass]
    /// Bytes the pool has given back to the system since it was made (slabs and large chunks it unmapped once they
    /// were no longer needed).
    public var bytesReturned = 0

    /// Bytes in chunks currently handed out.
    public var bytesInUse: Int { classes.reduce(0) { $0 + $1.chunkSize * $1.chunksInUse } }
    /// Bytes held by the pool, in use or free.
    public var bytesReserved: Int {
        classes.reduce(0) { $0 + $1.chunkSize * ($1.chunksInUse + $1.chunksFree) }
    }

    /// Adds another loop's figures class by class.
    mutating func merge(_ other: PoolStatistics) {
        bytesReturned += other.bytesReturned
        if classes.isEmpty {
            classes = other.classes
            return
        }
        for index in classes.indices where index < other.classes.count {
            classes[index].chunksInUse += other.classes[index].chunksInUse
            classes[index].chunksFree += other.classes[index].chunksFree
            classes[index].slabs += other.classes[index].slabs
        }
    }
}
