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
    /// The loop these resources belong to (which owns them).
    unowned let loop: EventLoop
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
    /// Replies written by the connection being read right now go here first and leave with one `send` at the end of
    /// its read batch; only what the socket does not take is copied into the connection's pooled queue. So the
    /// common echo path touches no pool chunk, and a connection that keeps up never holds one.
    let staging: UnsafeMutableRawPointer
    let stagingCapacity: Int
    @exclusivity(unchecked) var stagingCount = 0
    /// The connection whose read batch is running (the only one that may use `staging`).
    @exclusivity(unchecked) var stagingOwner: ObjectIdentifier?

    init(limits: ConnectionLimits, loop: EventLoop) {
        self.loop = loop
        self.limits = limits
        self.pool = SlabPool(largestChunk: max(limits.maxFrameLength, limits.outboundChunkSize))
        self.readBuffer = .allocate(byteCount: limits.readBufferSize, alignment: 64)
        self.vectorCapacity = 1024  // UIO_MAXIOV
        self.vectors = .allocate(capacity: vectorCapacity)
        self.outboundClass = pool.sizeClass(for: limits.outboundChunkSize)
        self.outboundChunkSize = pool.chunkSize(ofClass: outboundClass)
        dirty.reserveCapacity(1024)
        self.stagingCapacity = max(256 * 1024, limits.maxReadBytesPerWakeup)
        self.staging = .allocate(byteCount: stagingCapacity, alignment: 64)
    }

    deinit {
        readBuffer.deallocate()
        staging.deallocate()
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

extension LoopIO {
    /// Queues one frame (length prefix + `payload`) on `connection`, enforcing the hard cap on unsent bytes.
    @inline(__always)
    func appendFrame(payload: UnsafeRawPointer?, count: Int, to connection: Connection) {
        if !connection.flags.isDisjoint(with: .notWritable) { return }
        let staged = ObjectIdentifier(connection) == stagingOwner ? stagingCount : 0
        let total = connection.outbound.pendingBytes + staged + LengthFieldDecoder.headerLength + count
        if total > limits.maxPendingWriteBytes {
            connection.flags.insert(.overflowed)
            connection.pendingCloseReason = .writeBufferOverflow(
                pendingBytes: total, limit: limits.maxPendingWriteBytes)
            markDirty(connection)
            return
        }
        if ObjectIdentifier(connection) == stagingOwner && connection.outbound.isEmpty {
            if stagingCount + LengthFieldDecoder.headerLength + count <= stagingCapacity {
                (staging + stagingCount).storeBytes(of: UInt32(truncatingIfNeeded: count).bigEndian, as: UInt32.self)
                if let payload, count > 0 { (staging + stagingCount + 4).copyMemory(from: payload, byteCount: count) }
                stagingCount += LengthFieldDecoder.headerLength + count
                counters.framesOut += 1
                return
            }
            // Staging is full: move what is staged to the queue first, so bytes stay in order.
            connection.outbound.append(
                staging, count: stagingCount, pool: pool, sizeClass: outboundClass, chunkSize: outboundChunkSize)
            stagingCount = 0
        }
        connection.outbound.appendFrame(
            payload: payload, count: count, pool: pool, sizeClass: outboundClass, chunkSize: outboundChunkSize)
        counters.framesOut += 1
        markDirty(connection)
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
