#if canImport(Glibc)
    import Glibc
#endif

extension SubReactor {
    /// Every reply of a connection that is closing gracefully has left our queue: close it, or linger first while
    /// closing could still destroy replies the peer has not received.
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
        if connection.flags.contains(.lingering) { return }
        let reason = connection.pendingCloseReason
        if connection.flags.contains(.inputClosed) || timeouts.linger == 0
            || (Posix.bytesReadable(connection.fd) == 0 && Posix.bytesUnacknowledged(connection.fd) == 0)
        {
            close(connection, reason: reason)
            return
        }
        Posix.shutdown(connection.fd, how: CInt(SHUT_WR))
        connection.flags.insert(.lingering)
        if Posix.bytesReadable(connection.fd) > 0 { connection.flags.insert(.lingerSawInput) }
        // No frame will be delivered any more: a partial one's chunk goes back now.
        connection.inbound.reset(pool: io.pool)
        connection.lingerDeadline = now &+ timeouts.linger
        scheduleLingerCheck(connection)
        updateInterest(connection)
    }

    /// The next look at a lingering connection: at the deadline once the peer sent input (only its FIN or the
    /// timeout ends the linger then), else soon, to see whether our send queue is acknowledged.
    private func scheduleLingerCheck(_ connection: Connection) {
        let next =
            connection.flags.contains(.lingerSawInput)
            ? connection.lingerDeadline : min(connection.lingerDeadline, now &+ Self.lingerPollInterval)
        connectionTimers.schedule(connection, at: next)
    }

    /// How often a lingering connection checks whether the peer has acknowledged our send queue (no event says so).
    static var lingerPollInterval: UInt64 { 10_000_000 }

    /// A lingering connection's timer: close at the deadline, or once the peer acknowledged every byte we sent
    /// (input still arriving is dropped first); otherwise look again after ``lingerPollInterval``.
    func lingerTimerFired(_ connection: Connection) {
        let reason = connection.pendingCloseReason
        if now >= connection.lingerDeadline {
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
                close(connection, reason: connection.pendingCloseReason)
                return
            }
            guard case .processed(let count) = result else { return }
            if count == 0 {
                close(connection, reason: connection.pendingCloseReason)
                return
            }
            connection.flags.insert(.lingerSawInput)
            budget -= count
        }
    }
}
