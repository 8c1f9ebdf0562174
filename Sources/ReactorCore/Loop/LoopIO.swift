import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The per-loop I/O resources every connection on the loop shares: the buffer pool, the read scratch buffer, the
/// staging buffer, the iovec scratch array, the list of connections to flush, the connection table, the clock, the
/// limits and the counters. What the loop does with them to write is in `WritePath.swift`.
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
    let loop: ReactorLoop
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
    /// The loop's clock, read once per iteration after `epoll_wait` (monotonic nanoseconds).
    @exclusivity(unchecked) var now: UInt64 = MonotonicClock.nanoseconds()
    /// The sub-reactor these resources belong to, for the write path's rare calls that reach the handler (see
    /// `WritePath.swift`). Set once by the sub-reactor, which owns this object and outlives every use.
    unowned(unsafe) var delegate: (any WritePathDelegate)?

    /// Which connections are open (shared by every loop of a server or client), for ``ConnectionHandle``s.
    let registry: ConnectionRegistry
    /// The server's or client's logger, which each connection's ``ConnectionContext/logger`` extends.
    let logger: Logger
    /// Makes each new connection's ``ConnectionTransport`` (TLS), or nil for plain connections.
    let transportProvider: (any ConnectionTransportProvider)?
    /// The provider's handshake timeout in nanoseconds; 0 when off.
    let handshakeTimeout: UInt64
    /// ``transportRetrySpan`` bytes where a flush coalesces runs of the queue shorter than that (see
    /// `WritePath.swift`); allocated only with a transport provider.
    let transportBounce: UnsafeMutableRawPointer?
    /// The most plaintext a TLS write that could not finish may need offered again: one record, 2^14 bytes (RFC 8446
    /// §5.1), since the shim offers OpenSSL one record per call (part of it may have been sent within the failed
    /// call, unreported, the rest not).
    static let transportRetrySpan = 16_384
    /// How the last transport read that stopped early ended (see `SubReactor+ReadPath.swift`): one slot per loop,
    /// since one connection reads at a time, so the hot path carries a `Bool` instead of the status.
    var transportReadStatus = TransportProgress.Status.completed

    init(
        limits: ConnectionLimits, loop: ReactorLoop, registry: ConnectionRegistry, logger: Logger,
        transportProvider: (any ConnectionTransportProvider)? = nil
    ) {
        self.transportProvider = transportProvider
        self.transportBounce =
            transportProvider == nil ? nil : .allocate(byteCount: Self.transportRetrySpan, alignment: 64)
        self.handshakeTimeout =
            transportProvider?.handshakeTimeout.map { max(1, MonotonicClock.nanoseconds(of: $0)) } ?? 0
        self.loop = loop
        self.logger = logger
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
        precondition(counters.closed.count == CloseReason.Kind.allCases.count, "one close counter per reason")
    }

    deinit {
        readBuffer.deallocate()
        staging.deallocate()
        vectors.deallocate()
        transportBounce?.deallocate()
    }

    /// Takes the status ``transportReadStatus`` holds, leaving `.completed` (so no close reason stays alive there).
    func takeTransportReadStatus() -> TransportProgress.Status {
        let status = transportReadStatus
        transportReadStatus = .completed
        return status
    }

    /// Queues `connection` for the flush at the end of this loop iteration (once).
    @inline(__always)
    func markDirty(_ connection: Connection) {
        if !connection.flags.contains(.dirty) {
            connection.flags.insert(.dirty)
            dirty.append(connection.id.tag)
        }
    }

    /// Registers exactly the events the connection needs now: input while it wants it (open and not paused or past
    /// the peer's FIN, or lingering), output while bytes are queued (and the handshake is done) or the transport
    /// waits to write.
    @inline(__always)
    func updateInterest(_ connection: Connection) {
        var wanted: UInt32 = 0
        if connection.wantsInput { wanted |= Epoll.readable | Epoll.readHangUp }
        if (!connection.outbound.isEmpty && !connection.flags.contains(.handshaking))
            || connection.flags.contains(.transportWantsWrite)
        {
            wanted |= Epoll.writable
        }
        if wanted == connection.interest { return }
        do {
            try loop.poller.modify(connection.fd, events: wanted, data: connection.id.tag)
            connection.interest = wanted
        } catch {
            delegate.unsafelyUnwrapped.close(connection, reason: .ioError(error))
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
    /// Bytes written back by reference from the chunk they were received into (no copy).
    var bytesHandedOff = 0
    /// Closes by ``CloseReason/Kind/rawValue`` (one slot per kind: `LoopIO.init` checks the count). Inline, no heap
    /// storage: a copy taken for a snapshot shares nothing with the loop's own counters, so the loop never copies on
    /// write after handing one out.
    var closed = InlineArray<22, Int>(repeating: 0)
    /// Times a connection's unsent bytes passed the high watermark and its reading was paused.
    var backpressurePauses = 0
    /// Loop iterations: returns from `epoll_wait`.
    var iterations = 0
    /// Iterations on which the task queue's eventfd had fired (another thread posted a task).
    var wakeups = 0
}
