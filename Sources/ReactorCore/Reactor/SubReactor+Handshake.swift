/// Where a connection with a ``ConnectionTransport`` (TLS) gets one and completes its handshake before the handler
/// hears of it. The transport's part of reading and writing afterwards is in `SubReactor+ReadPath.swift` and
/// `WritePath.swift`; its close_notify in `SubReactor+Lifecycle.swift`.
///
/// ```
///   accepted / connected ──▶ handshaking ── handshake completes ──▶ open (handler's onOpen, then a first read:
///                               │                                        records may already be decrypted)
///                               └── failure, EOF, handshake timeout ──▶ closed (the handler never heard of it)
/// ```
extension SubReactor {
    /// Gives `connection` its transport and takes the first handshake step (a client's ClientHello goes out now; a
    /// server's peer may have sent its hello already).
    func startHandshake(_ connection: Connection, role: TransportRole) {
        guard let provider = io.transportProvider else { return }
        switch provider.makeTransport(descriptor: connection.fd, role: role) {
        case .ready(let transport):
            connection.transport = transport
            connection.flags.insert(.hasTransport)
        case .refused(let reason):
            close(connection, reason: reason)
            return
        }
        connection.flags.insert(.handshaking)
        if io.handshakeTimeout != 0 {
            connection.phaseDeadline = now &+ io.handshakeTimeout
            if connection.timerIndex < 0 || connection.timerDeadline > connection.phaseDeadline {
                connectionTimers.schedule(connection, at: connection.phaseDeadline)
            }
        }
        continueHandshake(connection)
    }

    /// One handshake step, on any event of a handshaking connection.
    func continueHandshake(_ connection: Connection) {
        guard let transport = connection.transport else { return }
        connection.lastActivity = now
        let status = transport.handshake().status
        switch status {
        case .completed:
            connection.flags.remove([.handshaking, .transportWantsWrite])
            io.updateInterest(connection)
            if connection.phase == .closed { return }
            opened(connection)
            if connection.phase == .closed { return }
            // Records that came with the handshake's last flight are decrypted already: the socket will not report
            // them again.
            if connection.isTakingInput { readable(connection) }
            if connection.phase == .closed { return }
            if !connection.outbound.isEmpty || connection.phase != .open { io.markDirty(connection) }
        case .wantsRead:
            if connection.flags.contains(.transportWantsWrite) {
                connection.flags.remove(.transportWantsWrite)
                io.updateInterest(connection)
            }
        case .wantsWrite:
            if !connection.flags.contains(.transportWantsWrite) {
                connection.flags.insert(.transportWantsWrite)
                io.updateInterest(connection)
            }
        case .inputEnded:
            close(connection, reason: .peerClosed)
        case .failed(let reason):
            close(connection, reason: reason)
        }
    }
}
