#if canImport(Glibc)
    import Glibc
#endif

/// The per-loop I/O resources every connection on the loop shares: the buffer pool, the read scratch buffer, the
/// iovec scratch array, the list of connections to flush, the limits and the counters.
///
/// Allocated once when the loop starts and reused for its whole life, so the hot path never allocates.
/// Touched only on the owning loop's thread.
///
/// Hot stored properties here, in ``Connection`` and in ``SubReactor`` are `@exclusivity(unchecked)`: they are touched
/// only by the loop thread and never through overlapping accesses (the loopback tests ran with the checks on), and the
/// dynamic check was a third of the cost of a pool get/put (measured in Benchmarks/).
final class LoopIO {
    let pool: SlabPool
    let readBuffer: UnsafeMutableRawBufferPointer
    let vectors: UnsafeMutablePointer<iovec>
    let vectorCapacity: Int
    /// Tags of connections with bytes queued since the last flush, in the order they became dirty.
    @exclusivity(unchecked) var dirty: [UInt64] = []
    let limits: ConnectionLimits
    /// Outbound chunks all come from one size class.
    let outboundClass: Int
    let outboundChunkSize: Int
    @exclusivity(unchecked) var counters = LoopCounters()

    init(limits: ConnectionLimits) {
        self.limits = limits
        self.pool = SlabPool(largestChunk: max(limits.maxFrameLength, limits.outboundChunkSize))
        self.readBuffer = .allocate(byteCount: limits.readBufferSize, alignment: 64)
        self.vectorCapacity = 1024  // UIO_MAXIOV
        self.vectors = .allocate(capacity: vectorCapacity)
        self.outboundClass = pool.sizeClass(for: limits.outboundChunkSize)
        self.outboundChunkSize = pool.chunkSize(ofClass: outboundClass)
        dirty.reserveCapacity(1024)
    }

    deinit {
        readBuffer.deallocate()
        vectors.deallocate()
    }

    /// Queues `connection` for the flush at the end of this loop iteration (once).
    @inline(__always)
    func markDirty(_ connection: Connection) {
        if !connection.flags.contains(.dirty) {
            connection.flags.insert(.dirty)
            dirty.append(connection.id.tag)
        }
    }
}

/// Plain counters a loop keeps for itself; published through ``ReactorStatistics`` snapshots taken on the loop.
struct LoopCounters {
    var accepted = 0
    var framesIn = 0
    var framesOut = 0
    var bytesIn = 0
    var bytesOut = 0
    var closed = [Int](repeating: 0, count: CloseReason.Kind.allCases.count)
}
