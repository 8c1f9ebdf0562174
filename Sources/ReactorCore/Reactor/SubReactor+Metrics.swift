import Synchronization

extension SubReactor {
    /// This loop's figures now (loop thread only; allocates nothing).
    func metricsSnapshot() -> LoopMetricsSnapshot {
        let counters = io.counters
        var snapshot = LoopMetricsSnapshot(loop: loop.index)
        snapshot.connectionsOpened = counters.accepted
        snapshot.connectionsOpen = table.count
        snapshot.bytesIn = counters.bytesIn
        snapshot.bytesOut = counters.bytesOut
        snapshot.messagesIn = counters.framesIn
        snapshot.messagesOut = counters.framesOut
        snapshot.backpressurePauses = counters.backpressurePauses
        snapshot.iterations = counters.iterations
        snapshot.wakeups = counters.wakeups
        snapshot.closedByKind = counters.closed
        let occupancy = io.pool.occupancy
        snapshot.poolBytesInUse = occupancy.inUse
        snapshot.poolBytesReserved = occupancy.reserved
        if let acceptCounters {
            // The accept counters are server-wide (the acceptor's, or every loop's in reuse-port mode): loop 0
            // reports them, with two relaxed loads per interval.
            snapshot.connectionsRejected = acceptCounters.rejected.load(ordering: .relaxed)
            snapshot.acceptErrors = acceptCounters.errors.load(ordering: .relaxed)
        }
        return snapshot
    }

    /// Makes this loop's reporter and schedules its first report (loop thread, when the loop starts).
    func startMetrics() {
        guard let loopMetrics else { return }
        metricsReporter = loopMetrics.makeReporter(loop.index)
        let interval = loopMetrics.interval
        let timer = LoopTimer(on: loop) { [self] in
            metricsReporter?.report(metricsSnapshot())
            metricsTimer?.schedule(after: interval)
        }
        metricsTimer = timer
        timer.schedule(after: interval)
    }

    /// Cancels the timer and reports the final figures (loop thread, after the loop's last iteration).
    func stopMetrics() {
        guard let reporter = metricsReporter else { return }
        metricsTimer?.cancel()
        metricsTimer = nil  // its action holds the reactor
        reporter.report(metricsSnapshot())
        metricsReporter = nil
    }
}
