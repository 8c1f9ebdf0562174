import Synchronization

extension SubReactor {
    /// Closes `connection` now: returns its buffers to the pool, frees its slot (advancing the generation so stale
    /// events and tasks miss), closes the descriptor (which also removes it from epoll), counts and maybe logs the
    /// reason, and tells the handler. Closing twice is a no-op.
    func close(_ connection: Connection, reason: CloseReason) {
        if connection.flags.contains(.closed) { return }
        connection.flags.insert(.closed)
        if io.stagingOwner == ObjectIdentifier(connection) { io.stagingCount = 0 }
        connection.inbound.reset(pool: io.pool)
        connection.outbound.discard(pool: io.pool)
        closedThisIteration.append(connection)
        connectionTimers.cancel(connection)
        table.remove(connection)
        // Unpublish before the descriptor can be reused by another loop, or its fresh entry could be wiped.
        registry.publishClosed(connection.id)
        Posix.close(connection.fd)
        if connection.flags.contains(.admitted) { admission.open.subtract(1, ordering: .relaxed) }
        io.counters.closed[reason.kind.rawValue] += 1
        closeLog.record(reason, id: connection.id)
        let box = stateful(connection)
        let state = box.state
        box.state = nil
        handler.onClose(connection.id, state: state, reason: reason)
    }

    /// Drops the references to connections closed during this iteration (see `closedThisIteration`); a no-op, not
    /// even a call into the array, in the common iteration that closed nothing.
    @inline(__always)
    func releaseClosed() {
        if !closedThisIteration.isEmpty { closedThisIteration.removeAll(keepingCapacity: true) }
    }
}
