#if canImport(Glibc)
    import Glibc
#endif

/// The per-loop I/O resources every connection on the loop shares: the buffer pool, the read scratch buffer, the
/// iovec scratch array, the list of connections to flush, the limits and the counters.
///
/// Allocated once when the loop starts and reused for its whole life, so the hot path never allocates.
/// Touched only on the owning loop's thread. It is `@unchecked Sendable` so that a ``ConnectionHandle`` can carry it
/// to other threads: a handle touches it only on the owning loop (it checks `inEventLoop` or posts a task) and reads
/// only the thread-safe `loop` and `registry` elsewhere.
///
/// Hot stored properties here, in ``Connection`` and in ``SubReactor`` are `@exclusivity(unchecked)`: they are touched
/// only by the loop thread and never through overlapping accesses (the loopback tests ran with the checks on), and the
/// dynamic check was a third of the cost of a pool get/put (measured in Benchmarks/).
final class LoopIO: @unchecked Sendable {
    /// The loop these resources belong to (which owns them).
    let loop: EventLoop
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
    /// The loop's connections by descriptor (here rather than in the generic sub-reactor so that a
    /// ``ConnectionHandle`` can find a connection's context on its loop without knowing the handler type).
    @exclusivity(unchecked) var table = ConnectionTable()
    /// Replies written by the connection being read right now go here first and leave with one `send` at the end of
    /// its read batch; only what the socket does not take is copied into the connection's pooled queue. So the
    /// common echo path touches no pool chunk, and a connection that keeps up never holds one.
    let staging: UnsafeMutableRawPointer
    let stagingCapacity: Int
    @exclusivity(unchecked) var stagingCount = 0
    /// The connection whose read batch is running (the only one that may use `staging`).
    @exclusivity(unchecked) var stagingOwner: ObjectIdentifier?

    /// Which connections are open (shared by every loop of a server or client), for ``ConnectionHandle``s.
    let registry: ConnectionRegistry

    init(limits: ConnectionLimits, loop: EventLoop, registry: ConnectionRegistry) {
        self.loop = loop
        self.registry = registry
        self.limits = limits
        self.pool = SlabPool(
            largestChunk: max(limits.maxBufferedInput + InboundBuffer.reserved, limits.outboundChunkSize))
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
    /// Whether `byteCount` more unsent bytes are allowed on `connection`: false when it no longer takes writes, or
    /// (moving it to the aborting phase, to be closed at the next flush) when they would pass the hard cap.
    @inline(__always)
    func admits(_ byteCount: Int, on connection: Connection) -> Bool {
        if !connection.acceptsWrites { return false }
        let staged = ObjectIdentifier(connection) == stagingOwner ? stagingCount : 0
        let total = connection.outbound.pendingBytes + staged + byteCount
        if total > limits.maxPendingWriteBytes {
            connection.beginAborting(.writeBufferOverflow(pendingBytes: total, limit: limits.maxPendingWriteBytes))
            markDirty(connection)
            return false
        }
        return true
    }

    /// Where `connection` may write `byteCount` bytes contiguously in the staging buffer right now, if anywhere: only
    /// the connection whose read batch is running, only while nothing of it is queued (so bytes stay in order).
    @inline(__always)
    func stagingSpace(_ byteCount: Int, for connection: Connection) -> UnsafeMutableRawPointer? {
        guard ObjectIdentifier(connection) == stagingOwner, connection.outbound.isEmpty else { return nil }
        if stagingCount + byteCount <= stagingCapacity { return staging + stagingCount }
        // Staging is full: what is staged moves to the queue first, and everything after it follows there.
        spillStaging(to: connection)
        return nil
    }

    /// Moves the staged bytes of `connection` (the staging owner) to its queue.
    func spillStaging(to connection: Connection) {
        guard stagingCount > 0 else { return }
        connection.outbound.append(
            staging, count: stagingCount, pool: pool, sizeClass: outboundClass, chunkSize: outboundChunkSize)
        stagingCount = 0
        markDirty(connection)
    }

    /// Queues `byteCount` raw bytes from `source` on `connection` (staged when possible, else queued), enforcing
    /// the hard cap on unsent bytes. The one copy every write ends in.
    @inline(__always)
    func write(_ source: UnsafeRawPointer?, count byteCount: Int, to connection: Connection) {
        guard byteCount > 0, let source, admits(byteCount, on: connection) else { return }
        if byteCount >= Self.handOffThreshold && writeByReference(source, count: byteCount, to: connection) { return }
        append(source, count: byteCount, to: connection)
    }

    /// The copy without the admission check (the caller did it).
    @inline(__always)
    private func append(_ source: UnsafeRawPointer, count byteCount: Int, to connection: Connection) {
        if let destination = stagingSpace(byteCount, for: connection) {
            destination.copyMemory(from: source, byteCount: byteCount)
            stagingCount += byteCount
            return
        }
        connection.outbound.append(
            source, count: byteCount, pool: pool, sizeClass: outboundClass, chunkSize: outboundChunkSize)
        markDirty(connection)
    }

    /// Queues one length-prefixed frame: `prepender`'s header for `count` bytes, then the bytes at `payload`.
    @inline(__always)
    func writeFrame(
        _ payload: UnsafeRawPointer?, count: Int, prepender: LengthFieldEncoder, to connection: Connection
    ) {
        let headerLength = prepender.lengthFieldLength
        guard admits(headerLength + count, on: connection) else { return }
        counters.framesOut += 1
        if let destination = stagingSpace(headerLength + count, for: connection) {
            prepender.storeHeader(payloadCount: count, at: destination)
            if let payload, count > 0 { (destination + headerLength).copyMemory(from: payload, byteCount: count) }
            stagingCount += headerLength + count
            return
        }
        var header: UInt64 = 0
        withUnsafeMutableBytes(of: &header) { header in
            prepender.storeHeader(payloadCount: count, at: header.baseAddress!)
            append(header.baseAddress!, count: headerLength, to: connection)
        }
        if let payload, count > 0 { append(payload, count: count, to: connection) }
    }

    /// Bytes from which a write of bytes that sit in the connection's own inbound chunk (a large received message
    /// written back) hands the chunk to the outbound queue instead of copying it.
    static let handOffThreshold = 16 * 1024

    /// Queues `count` bytes at `source` by reference if they lie in `connection`'s inbound chunk and are large
    /// enough: the chunk joins the outbound queue (after whatever is staged or queued, so bytes stay in order) and
    /// goes back to the pool once written. Returns false when the bytes must be copied instead.
    @inline(__always)
    func writeByReference(_ source: UnsafeRawPointer, count: Int, to connection: Connection) -> Bool {
        guard count >= Self.handOffThreshold, connection.inbound.canHandOff(source, count: count) else { return false }
        if ObjectIdentifier(connection) == stagingOwner { spillStaging(to: connection) }
        let (chunk, sizeClass) = connection.inbound.handOff()
        let from = UnsafeRawPointer(chunk).distance(to: source)
        connection.outbound.appendReference(chunk, sizeClass: sizeClass, from: from, to: from + count)
        counters.bytesHandedOff &+= count
        markDirty(connection)
        return true
    }

    /// ``writeFrame(_:count:prepender:to:)`` for the standard 4-byte big-endian header: the echo's path, with the
    /// header's layout known at compile time.
    @inline(__always)
    func writeStandardFrame(_ payload: UnsafeRawPointer?, count: Int, to connection: Connection) {
        guard admits(4 + count, on: connection) else { return }
        counters.framesOut += 1
        if count >= Self.handOffThreshold, let payload, writeLargeStandardFrame(payload, count: count, to: connection) {
            return
        }
        if let destination = stagingSpace(4 + count, for: connection) {
            destination.storeBytes(of: UInt32(truncatingIfNeeded: count).bigEndian, as: UInt32.self)
            if let payload, count > 0 { (destination + 4).copyMemory(from: payload, byteCount: count) }
            stagingCount += 4 + count
            return
        }
        var header = UInt32(truncatingIfNeeded: count).bigEndian
        withUnsafeBytes(of: &header) { append($0.baseAddress!, count: 4, to: connection) }
        if let payload, count > 0 { append(payload, count: count, to: connection) }
    }

    /// The slow half of ``writeStandardFrame(_:count:to:)`` for a payload that may go by reference.
    @inline(never)
    func writeLargeStandardFrame(_ payload: UnsafeRawPointer, count: Int, to connection: Connection) -> Bool {
        guard connection.inbound.canHandOff(payload, count: count) else { return false }
        var header = UInt32(truncatingIfNeeded: count).bigEndian
        if ObjectIdentifier(connection) == stagingOwner { spillStaging(to: connection) }
        withUnsafeBytes(of: &header) {
            connection.outbound.append(
                $0.baseAddress!, count: 4, pool: pool, sizeClass: outboundClass, chunkSize: outboundChunkSize)
        }
        return writeByReference(payload, count: count, to: connection)
    }

    /// Lets `body` format up to `capacity` bytes straight into the outbound bytes and queues the count it returns:
    /// in the staging buffer when the connection owns it, else in a pooled chunk that is then appended to the queue.
    @inline(__always)
    func write<Failure: Error>(
        reserving capacity: Int, to connection: Connection,
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Int
    ) throws(Failure) {
        guard admits(capacity, on: connection) else { return }
        if let destination = stagingSpace(capacity, for: connection) {
            let written = try body(UnsafeMutableRawBufferPointer(start: destination, count: capacity))
            precondition(
                written >= 0 && written <= capacity, "wrote \(written) bytes into a \(capacity)-byte reservation")
            stagingCount += written
            return
        }
        // A bounce buffer: a pooled chunk, or for a reservation larger than the pool's largest class (rare: a
        // multi-megabyte reply), a one-off allocation.
        let pooled = capacity <= pool.largestChunkSize
        let sizeClass = pooled ? pool.sizeClass(for: max(capacity, 1)) : -1
        let bounce = pooled ? pool.get(sizeClass: sizeClass) : .allocate(byteCount: capacity, alignment: 16)
        defer { if pooled { pool.put(bounce, sizeClass: sizeClass) } else { bounce.deallocate() } }
        let written = try body(UnsafeMutableRawBufferPointer(start: bounce, count: capacity))
        precondition(written >= 0 && written <= capacity, "wrote \(written) bytes into a \(capacity)-byte reservation")
        if written > 0 { append(bounce, count: written, to: connection) }
    }
}

/// Plain counters a loop keeps for itself; published through ``ReactorStatistics`` snapshots taken on the loop.
struct LoopCounters {
    var accepted = 0
    var framesIn = 0
    var framesOut = 0
    var bytesIn = 0
    var bytesOut = 0
    /// Bytes written back by reference from the chunk they were received into (no copy).
    var bytesHandedOff = 0
    var closed = [Int](repeating: 0, count: CloseReason.Kind.allCases.count)
}
