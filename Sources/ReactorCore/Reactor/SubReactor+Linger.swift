#if canImport(Glibc)
    import Glibc
#endif

extension SubReactor {
    /// Every reply of a connection that is closing gracefully is out: close it, or linger first if the peer sent
    /// input we will never read.
    ///
    /// `close()` on a socket with unread input sends a reset instead of a FIN, and a peer that receives the reset
    /// may lose the replies still in its receive buffer. So when input is waiting, we send our FIN
    /// (`shutdown(SHUT_WR)`), read and drop input until the peer's FIN, and close then, or after the linger timeout
    /// at the latest (the lingering close nginx does for the same reason). Input that arrives only after the close
    /// can still draw a reset; the window is one round trip.
    func finishGracefulClose(_ connection: Connection) {
        if connection.flags.contains(.lingering) { return }
        let reason = connection.pendingCloseReason
        if connection.flags.contains(.inputClosed) || timeouts.linger == 0 || Posix.bytesReadable(connection.fd) == 0 {
            close(connection, reason: reason)
            return
        }
        Posix.shutdown(connection.fd, how: CInt(SHUT_WR))
        connection.flags.insert(.lingering)
        // No frame will be delivered any more: a partial one's chunk goes back now.
        connection.inbound.reset(pool: io.pool)
        connectionTimers.schedule(connection, at: now &+ timeouts.linger)
        updateInterest(connection)
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
            budget -= count
        }
    }
}
