/// A snapshot of a server's or client's counters, summed over its loops.
public struct ReactorStatistics: Sendable, Hashable {
    /// Connections registered with a sub-reactor.
    public var connectionsAccepted = 0
    /// Connections open when the snapshot was taken.
    public var connectionsOpen = 0
    /// Messages decoded and handed to a handler (by ``FrameHandler``'s loop or a ``Decoded`` decoder; a raw
    /// ``StreamHandler`` decodes its own and is not counted here).
    public var framesIn = 0
    /// Length-prefixed frames queued (``ConnectionContext/writeFrame(_:using:)-(RawSpan,_)``, a ``FrameView`` echo);
    /// raw writes are counted only in ``bytesOut``.
    public var framesOut = 0
    /// Bytes read from sockets.
    public var bytesIn = 0
    /// Bytes written to sockets.
    public var bytesOut = 0
    /// Failed `accept4` calls (aborted handshakes, descriptor exhaustion).
    public var acceptErrors = 0
    /// Connections accepted and closed at once because ``ServerConfiguration/maxConnections`` were open.
    public var connectionsRejected = 0
    /// Closed connections by reason.
    public var closed: [CloseReason.Kind: Int] = [:]
    /// Buffer pool occupancy summed over the loops.
    public var pool = PoolStatistics(classes: [])
    /// Times a connection's unsent bytes passed ``ConnectionLimits/writeHighWatermark`` and reading from it paused.
    public var backpressurePauses = 0
    /// Loop iterations (returns from `epoll_wait`), summed over the loops.
    public var loopIterations = 0
    /// Loop iterations on which another thread had woken the loop to run tasks it posted (an accepted connection
    /// handed over, a ``ConnectionHandle`` write, a timer scheduled from elsewhere), summed over the loops.
    public var loopWakeups = 0

    /// Connections closed, all reasons together.
    public var connectionsClosed: Int { closed.values.reduce(0, +) }

    /// Closed connections with reason `kind`.
    public func closed(_ kind: CloseReason.Kind) -> Int { closed[kind, default: 0] }

    mutating func add(_ counters: LoopCounters, open: Int, pool: PoolStatistics) {
        connectionsAccepted += counters.accepted
        connectionsOpen += open
        framesIn += counters.framesIn
        framesOut += counters.framesOut
        bytesIn += counters.bytesIn
        bytesOut += counters.bytesOut
        backpressurePauses += counters.backpressurePauses
        loopIterations += counters.iterations
        loopWakeups += counters.wakeups
        for kind in CloseReason.Kind.allCases where counters.closed[kind.rawValue] > 0 {
            closed[kind, default: 0] += counters.closed[kind.rawValue]
        }
        self.pool.merge(pool)
    }
}
