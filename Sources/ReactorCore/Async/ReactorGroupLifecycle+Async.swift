extension ReactorGroupLifecycle {
    /// ``statistics()`` without blocking the caller's thread: while running, the loops answer through their task
    /// queues (see ``ReactorGroup/statistics(timeout:)``); otherwise the answer needs no loop.
    func statistics(timeout: Duration) async -> ReactorStatistics {
        // Looked at before `running`: once started, a group that is not running is stopping or stopped and never
        // runs again, so the synchronous answer below asks no loop (the final figures, or zeros while stopping).
        let started = hasStarted
        guard let (group, front) = running else { return started ? statistics() : ReactorStatistics() }
        var statistics = await group.statistics(timeout: timeout)
        addFrontCounters(front, &statistics)
        return statistics
    }
}
