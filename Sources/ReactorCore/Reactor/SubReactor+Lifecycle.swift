import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where connections close: every way a connection leaves ``Connection/Phase/open`` ends in this file. The phases and
/// their legal transitions are in `ConnectionLifecycle.swift`.
///
/// - An abortive close (``close(_:reason:)``) happens at once: a reset or I/O error, a write past the hard cap (at the
///   next flush), an idle peer that is not reading its replies, a drain's deadline.
/// - A graceful close (``beginGracefulClose(_:reason:)``, or ``ConnectionContext/close()`` from a handler) stops
///   taking input, flushes what is queued (bounded by the linger timeout without progress: a peer that stopped
///   reading is closed with ``CloseReason/peerStoppedReading(unsentBytes:closingFor:)``), then sends the FIN and
///   lingers while closing could still destroy replies the peer has not received (``finishGracefulClose(_:)``).
extension SubReactor {
    // MARK: Closing now

    /// Closes `connection` now: returns its buffers to the pool, frees its slot (advancing the generation so stale
    /// events and tasks miss), closes the descriptor (which also removes it from epoll), counts and maybe logs the
    /// reason, and tells the handler. Closing twice is a no-op.
    func close(_ connection: Connection, reason: CloseReason) {
        guard connection.markClosed() else { return }
        if io.stagingOwner == ObjectIdentifier(connection) { io.stagingCount = 0 }
        connection.inbound.reset(pool: io.pool)
        connection.outbound.discard(pool: io.pool)
        closedThisIteration.append(connection)
        connectionTimers.cancel(connection)
        table.remove(connection)
        // Unpublish before the descriptor can be reused by another loop, or its fresh entry could be wiped.
        registry.publishClosed(connection.id)
        // Before the descriptor: the transport may still name it. The flag goes with it, so that no later look at a
        // closed connection can reach for a transport that is gone.
        connection.transport = nil
        connection.flags.remove(.hasTransport)
        Posix.close(connection.fd)
        if connection.flags.contains(.admitted) { releaseAdmission() }
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

    // MARK: Closing gracefully

    /// Begins a graceful close for `reason` from the loop itself (a timeout, a drain, the peer's FIN, input over the
    /// cap), outside any handler call: no more input is taken, and the flush at the end of this iteration sends what
    /// is queued, then the FIN. A no-op if the connection is already closing (the first reason stands).
    func beginGracefulClose(_ connection: Connection, reason: CloseReason) {
        guard connection.beginClosing(reason) else { return }
        io.markDirty(connection)
        io.updateInterest(connection)
    }

    /// Every reply of a closing connection has left our queue: close it, or linger first while closing could still
    /// destroy replies the peer has not received.
    ///
    /// `close()` on a socket with unread input sends a reset instead of a FIN, and so does any input that arrives
    /// after the close; a reset destroys whatever our kernel has not delivered yet (the send queue, up to megabytes
    /// for a slow reader). So unless the peer already sent its FIN, or nothing is unread and the peer has
    /// acknowledged every byte (`FIONREAD` and `SIOCOUTQ` both 0), we send our FIN (`shutdown(SHUT_WR)`), read and
    /// drop input, and close at the peer's FIN or at the linger timeout at the latest (nginx's lingering close). When
    /// only our send queue was pending and the peer sends nothing more, the close comes as soon as the peer has
    /// acknowledged every byte (checked every ``lingerPollInterval``). A peer that never reads is still closed by the
    /// timeout.
    func finishGracefulClose(_ connection: Connection) {
        guard connection.phase == .closing else { return }
        let reason = connection.closeReason
        // Our output ends at the transport's level first (TLS close_notify), so the peer can tell a complete
        // reply stream from a truncated one; on a full socket it waits for writability, bounded like a flush.
        if connection.flags.contains(.hasTransport) && !connection.transport.unsafelyUnwrapped.sendCloseNotify() {
            connection.flags.insert(.transportWantsWrite)
            io.updateInterest(connection)
            boundClosingFlush(connection)
            return
        }
        if connection.flags.contains(.inputClosed) || timeouts.linger == 0
            || (Posix.bytesReadable(connection.fd) == 0 && Posix.bytesUnacknowledged(connection.fd) == 0)
        {
            close(connection, reason: reason)
            return
        }
        Posix.shutdown(connection.fd, how: CInt(SHUT_WR))
        connection.beginLingering()
        if Posix.bytesReadable(connection.fd) > 0 { connection.flags.insert(.lingerSawInput) }
        // No message will be delivered any more: a partial one's chunk goes back now.
        connection.inbound.reset(pool: io.pool)
        connection.phaseDeadline = now &+ timeouts.linger
        scheduleLingerCheck(connection)
        io.updateInterest(connection)
    }

    /// A closing connection still has replies to send: due to be closed if its peer takes none of them for the linger
    /// timeout, so a close never waits on a peer that stopped reading.
    func boundClosingFlush(_ connection: Connection) {
        guard timeouts.linger != 0 else { return }
        let due = connection.lastActivity &+ timeouts.linger
        if connection.timerIndex < 0 || connection.timerDeadline > due {
            connectionTimers.schedule(connection, at: due)
        }
    }

    /// The timer of a closing connection that still has replies to send: closes it with
    /// ``CloseReason/peerStoppedReading(unsentBytes:closingFor:)`` if its peer took none of them for the linger
    /// timeout. Returns when to look again (`.max`: not bounded, or closed).
    func closingFlushTimerFired(_ connection: Connection) -> UInt64 {
        guard timeouts.linger != 0 else { return .max }
        let due = connection.lastActivity &+ timeouts.linger
        if now < due { return due }
        close(
            connection,
            reason: .peerStoppedReading(
                unsentBytes: connection.outbound.pendingBytes, closingFor: connection.closeReason.kind))
        return .max
    }

    // MARK: Lingering

    /// The next look at a lingering connection: at the deadline once the peer sent input (only its FIN or the
    /// timeout ends the linger then), else soon, to see whether our send queue is acknowledged.
    private func scheduleLingerCheck(_ connection: Connection) {
        let next =
            connection.flags.contains(.lingerSawInput)
            ? connection.phaseDeadline : min(connection.phaseDeadline, now &+ Self.lingerPollInterval)
        connectionTimers.schedule(connection, at: next)
    }

    /// How often a lingering connection checks whether the peer has acknowledged our send queue (no event says so).
    static var lingerPollInterval: UInt64 { 10_000_000 }

    /// A lingering connection's timer: close at the deadline, or once the peer acknowledged every byte we sent
    /// (input still arriving is dropped first); otherwise look again after ``lingerPollInterval``.
    func lingerTimerFired(_ connection: Connection) {
        let reason = connection.closeReason
        if now >= connection.phaseDeadline {
            // Replies the peer has not acknowledged by now are lost with the close: say so.
            let unacknowledged = Posix.bytesUnacknowledged(connection.fd)
            close(
                connection,
                reason: unacknowledged > 0
                    ? .peerStoppedReading(unsentBytes: unacknowledged, closingFor: reason.kind) : reason)
            return
        }
        if !connection.flags.contains(.lingerSawInput) && Posix.bytesUnacknowledged(connection.fd) == 0
            && Posix.bytesReadable(connection.fd) == 0
        {
            close(connection, reason: reason)
            return
        }
        scheduleLingerCheck(connection)
    }

    /// Reads and drops a lingering connection's input; its EOF (or an error) completes the close.
    func discardInput(_ connection: Connection) {
        let scratch = io.readBuffer
        var budget = io.limits.maxReadBytesPerWakeup
        while budget > 0 {
            let result: IOResult<Int>
            do {
                result = try Posix.read(connection.fd, into: scratch.baseAddress!, count: scratch.count)
            } catch {
                close(connection, reason: connection.closeReason)
                return
            }
            guard case .processed(let count) = result else { return }
            if count == 0 {
                close(connection, reason: connection.closeReason)
                return
            }
            connection.flags.insert(.lingerSawInput)
            budget -= count
        }
    }
}
