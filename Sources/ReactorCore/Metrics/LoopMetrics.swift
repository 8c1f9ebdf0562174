/// Periodic reports of every loop's counters to a metrics backend: the hook ``ServerConfiguration/loopMetrics``
/// takes.
///
/// Each loop counts for itself in plain integers it alone touches (no atomics, no locks, no allocation per message:
/// the same counters ``Server/statistics()`` sums). Every ``interval`` a ``LoopTimer`` on the loop reads them into a
/// ``LoopMetricsSnapshot`` and hands it to the loop's own ``LoopMetricsReporter``, on the loop's thread; the loop
/// reports once more when it stops, after its last connection closed, so the last report equals the server's final
/// statistics. The `ReactorMetrics` library turns this into swift-metrics counters and gauges
/// (`LoopMetrics.swiftMetrics(...)`); anything else can implement ``LoopMetricsReporter`` itself.
public struct LoopMetrics: Sendable {
    /// How often each loop reports. Default 1 s. A report costs a few dozen additions and the reporter's calls.
    /// Intervals under a millisecond report on (nearly) every iteration of a busy loop (the allocation benchmarks
    /// use 100 us); zero would keep the loop from ever sleeping in `epoll_wait`.
    public var interval: Duration
    /// Makes the reporter of the loop with the given index (0-based). Called once per loop, on that loop's thread,
    /// when it starts; the reporter is then used only on that thread, for the loop's whole life.
    public var makeReporter: @Sendable (_ loop: Int) -> any LoopMetricsReporter

    /// Reports every `interval` to the reporters `makeReporter` makes, one per loop.
    public init(
        interval: Duration = .seconds(1), makeReporter: @escaping @Sendable (_ loop: Int) -> any LoopMetricsReporter
    ) {
        self.interval = interval
        self.makeReporter = makeReporter
    }
}

/// Receives one loop's figures on that loop's thread (see ``LoopMetrics``).
///
/// A reporter belongs to one loop and is called only on its thread, so it can keep the previous snapshot in plain
/// stored properties to report deltas. ``report(_:)`` runs on the event loop: it must not block, and should not
/// allocate (it runs every interval, between two batches of I/O).
public protocol LoopMetricsReporter: AnyObject {
    /// Called every ``LoopMetrics/interval``, and once more when the loop stops.
    func report(_ snapshot: LoopMetricsSnapshot)
}

/// One loop's figures at one moment, taken on the loop's thread.
///
/// Counts (`connectionsOpened`, ``closed(_:)``, bytes, messages, pauses, iterations, wake-ups, and the acceptor's
/// `connectionsRejected` and `acceptErrors`) are cumulative since the loop started: a reporter subtracts the previous
/// snapshot for deltas. `connectionsOpen` and the pool figures are levels at the moment of the snapshot. A plain value
/// with no heap storage: taking and copying one allocates nothing.
public struct LoopMetricsSnapshot: Sendable {
    /// The loop's index among its group's loops (0-based); the value of a `loop` dimension.
    public var loop: Int
    /// Connections opened on this loop (``ReactorStatistics/connectionsAccepted``'s share).
    public var connectionsOpened = 0
    /// Connections open on this loop now (``ReactorStatistics/connectionsOpen``'s share).
    public var connectionsOpen = 0
    /// Bytes read from this loop's sockets.
    public var bytesIn = 0
    /// Bytes written to this loop's sockets.
    public var bytesOut = 0
    /// Messages decoded and handed to a handler (``ReactorStatistics/framesIn``).
    public var messagesIn = 0
    /// Length-prefixed frames queued (``ReactorStatistics/framesOut``).
    public var messagesOut = 0
    /// Times a connection's unsent bytes passed the high watermark and reading paused
    /// (``ReactorStatistics/backpressurePauses``).
    public var backpressurePauses = 0
    /// Loop iterations: returns from `epoll_wait` (``ReactorStatistics/loopIterations``).
    public var iterations = 0
    /// Iterations on which another thread had woken the loop to run tasks it posted
    /// (``ReactorStatistics/loopWakeups``).
    public var wakeups = 0
    /// Bytes of the loop's buffer pool in chunks handed out now (``PoolStatistics/bytesInUse``).
    public var poolBytesInUse = 0
    /// Bytes the loop's buffer pool holds now, in use or free (``PoolStatistics/bytesReserved``).
    public var poolBytesReserved = 0
    /// Connections the server accepted and closed at once because ``ServerConfiguration/maxConnections`` were open
    /// (``ReactorStatistics/connectionsRejected``; counted by the acceptor, or by every loop in reuse-port mode).
    /// Server-wide, so only loop 0 of a server carries it; 0 on the other loops and for a client.
    public var connectionsRejected = 0
    /// The server's failed `accept4` calls (``ReactorStatistics/acceptErrors``). Loop 0 only, like
    /// ``connectionsRejected``.
    public var acceptErrors = 0
    /// Closes by ``CloseReason/Kind/rawValue``.
    var closedByKind = InlineArray<22, Int>(repeating: 0)

    /// All zeros for loop `loop`: what a reporter subtracts before its first report.
    public init(loop: Int) {
        self.loop = loop
    }

    /// Connections of this loop closed with reason `kind`.
    public func closed(_ kind: CloseReason.Kind) -> Int { closedByKind[kind.rawValue] }

    /// Connections of this loop closed, every reason together.
    public var connectionsClosed: Int {
        var total = 0
        for index in closedByKind.indices { total += closedByKind[index] }
        return total
    }
}
