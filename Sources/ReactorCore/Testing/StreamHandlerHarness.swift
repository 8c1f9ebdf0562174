import Logging
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Drives any ``StreamHandler`` through a sub-reactor's real connection path on the calling thread, without its loop
/// thread: for fuzzing a protocol handler (reactor-redis's command path, say) the way a server runs it.
///
/// The harness owns a ``SubReactor`` that is never started and plays both the peer and the loop thread. Each
/// connection is one end of a `socketpair(AF_UNIX, SOCK_STREAM)`, handed to the reactor the way the acceptor hands
/// over an accepted socket; the harness keeps the other end. ``runLoopIteration()`` does what one turn of the loop
/// does: a non-blocking `epoll_wait`, each event through the reactor's own event dispatch (read → handler → staged
/// replies → flush), the flush of every dirty connection, posted tasks, then the timers that are due.
///
/// The reactor runs the handler wrapped in an observer that forwards every callback unchanged and records, for the
/// current connection, its id, why it closed and whether ``StreamHandler/onClose(_:state:reason:)`` got the state
/// ``StreamHandler/onOpen(connection:)`` made for it. The harness also checks the connection's lifecycle after every
/// loop turn (``phaseViolation``).
///
/// With a ``ConnectionTransportProvider`` (TLS), each connection gets its transport as a server's accepted one does:
/// registering it starts the handshake, and the handler's ``StreamHandler/onOpen(connection:)`` runs only once the
/// handshake completes (``handlerOpened``); a connection whose handshake fails closes without the handler hearing
/// of it, and ``closeReason`` still tells why.
///
/// One harness serves any number of connections, one at a time: ``connect(serverSendBuffer:peerSendBuffer:)``, then
/// ``send(_:)``, ``runLoopIteration()`` and ``drainReplies(into:)`` in any order, then ``disconnect()``. The
/// handler is the reactor's one copy for its whole life (``handler`` reaches it between connections). Not
/// thread-safe; deinitializing closes the connection and releases the reactor's descriptors.
@_spi(Fuzzing) public final class StreamHandlerHarness<Handler: StreamHandler> {
    /// The limits the reactor enforces (validated).
    @_spi(Fuzzing) public let limits: ConnectionLimits
    let reactor: SubReactor<Observed>
    private var peer: CInt = -1
    private var tasks: [TaskQueue.Task] = []
    /// The current connection's phase when the harness last looked (see ``phaseViolation``).
    private var lastPhase: Connection.Phase?
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// A reactor running `handler` with `limits` (its registry tracks the first 4,096 descriptors); no connection
    /// yet. With `transportProvider` (a TLS server context), every connection runs through a transport it makes, as
    /// a ``Server`` with ``ServerConfiguration/transport`` set runs its accepted connections.
    @_spi(Fuzzing) public init(
        handler: Handler, limits: ConnectionLimits, transportProvider: (any ConnectionTransportProvider)? = nil
    ) throws(SystemError) {
        self.limits = limits.validated()
        reactor = try SubReactor(
            index: 0, threadName: "fuzz", handler: Observed(handler: handler), limits: self.limits,
            registry: ConnectionRegistry(capacity: 4096), admission: AdmissionCounter(),
            logger: Logger(label: "StreamHandlerHarness", factory: { _ in SwiftLogNoOpLogHandler() }),
            transportProvider: transportProvider)
    }

    deinit {
        disconnect()
        reactor.join()  // never started: releases the loop's epoll and eventfd descriptors
        readBuffer.deallocate()
    }

    /// The reactor's copy of the handler (the one every connection's callbacks run on).
    @_spi(Fuzzing) public var handler: Handler {
        get { reactor.handler.handler }
        set { reactor.handler.handler = newValue }
    }

    // MARK: Connections

    /// Opens a connection: a fresh socket pair, one end handed to the reactor (through its task queue, as the
    /// acceptor does) and registered by running the posted task here, which calls the handler's
    /// ``StreamHandler/onOpen(connection:)`` (with a transport provider: takes the handshake's first step instead;
    /// `onOpen` runs once the handshake completes).
    ///
    /// - Parameters:
    ///   - serverSendBuffer: `SO_SNDBUF` of the reactor's end (replies); small ones force partial writes.
    ///   - peerSendBuffer: `SO_SNDBUF` of the peer's end (requests).
    @_spi(Fuzzing) public func connect(serverSendBuffer: Int? = nil, peerSendBuffer: Int? = nil) throws(SystemError) {
        precondition(peer < 0, "StreamHandlerHarness.connect() while a connection is open")
        lastPhase = nil
        phaseViolation = nil
        var pair: (CInt, CInt) = (-1, -1)
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        _ = try withUnsafeMutableBytes(of: &pair) { pointer throws(SystemError) in
            try syscallValue("socketpair") {
                socketpair(AF_UNIX, type, 0, pointer.baseAddress!.assumingMemoryBound(to: CInt.self))
            }
        }
        let (server, client) = pair
        peer = client
        do {
            if let size = serverSendBuffer {
                try Posix.setOption(server, level: SOL_SOCKET, name: SO_SNDBUF, value: CInt(size), label: "setsockopt")
            }
            if let size = peerSendBuffer {
                try Posix.setOption(client, level: SOL_SOCKET, name: SO_SNDBUF, value: CInt(size), label: "setsockopt")
            }
        } catch {
            Posix.close(server)
            disconnect()
            throw error
        }
        // The id the connection is registered under: the current connection from now on, before the handler (with a
        // transport, only after the handshake) hears of it.
        let generation = reactor.table.nextGeneration(for: server)
        reactor.handler.forget(next: ConnectionID(loop: reactor.loop.index, fd: server, generation: generation))
        reactor.admission.open.add(1, ordering: .relaxed)  // the acceptor counts a connection before handing it off
        reactor.adopt(server)
        runTasks()
    }

    /// Closes the peer's end. A connection the reactor still has open is closed first, as a shutdown would.
    @_spi(Fuzzing) public func disconnect() {
        if let id = reactor.handler.currentID, let connection = reactor.table.lookup(id) {
            reactor.close(connection, reason: .shutdown)
            reactor.closedThisIteration.removeAll(keepingCapacity: true)
        }
        if peer >= 0 {
            Posix.close(peer)
            peer = -1
        }
    }

    /// Writes as much of `bytes` as the peer's socket takes without blocking; returns how many, or nil when the
    /// reactor's end is gone (`EPIPE`/`ECONNRESET`).
    @_spi(Fuzzing) public func send(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        do {
            guard case .processed(let count) = try Posix.send(peer, base, count: bytes.count) else { return 0 }
            return count
        } catch {
            if error.errno.rawValue == EPIPE || error.errno.rawValue == ECONNRESET { return nil }
            preconditionFailure("StreamHandlerHarness: peer send failed: \(error)")
        }
    }

    /// Shuts the peer's write side: after the bytes already sent, the reactor reads end-of-stream.
    @_spi(Fuzzing) public func shutdownPeerOutput() {
        Posix.shutdown(peer, how: CInt(SHUT_WR))
    }

    /// Reads every reply the peer has received so far onto `replies`; returns false once the reactor's end has
    /// closed (end of stream, or `ECONNRESET` after the last byte) and nothing more can come.
    @_spi(Fuzzing) public func drainReplies(into replies: inout [UInt8]) -> Bool {
        while true {
            let result: IOResult<Int>
            do {
                result = try Posix.read(peer, into: readBuffer.baseAddress!, count: readBuffer.count)
            } catch {
                if error.errno.rawValue == ECONNRESET { return false }  // closed with unread requests
                preconditionFailure("StreamHandlerHarness: peer read failed: \(error)")
            }
            guard case .processed(let count) = result else { return true }
            if count == 0 { return false }
            replies.append(contentsOf: UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        }
    }

    /// Sends `bytes` as one piece of the peer's stream: writes what the peer's socket takes, runs one loop turn after
    /// each write and, when the socket is full, reads the replies so far onto `replies` (the reactor stops reading
    /// while the peer does not take its replies) and turns the loop again; until every byte is written, the
    /// reactor's end is gone, or the connection has closed (looked at after every turn). Returns the bytes written.
    /// Traps after 1,000,000 turns without writing them all.
    @_spi(Fuzzing) public func sendPiece(
        _ bytes: UnsafeRawBufferPointer, collectingReplies replies: inout [UInt8]
    ) -> Int {
        var sent = 0
        var turns = 0
        while sent < bytes.count {
            guard let written = send(UnsafeRawBufferPointer(rebasing: bytes[sent...])) else { break }
            sent += written
            runLoopIteration()
            if written == 0 {
                _ = drainReplies(into: &replies)
                runLoopIteration()
            }
            if !isConnectionOpen { break }
            turns += 1
            precondition(
                turns < 1_000_000, "StreamHandlerHarness: no progress sending (\(sent) of \(bytes.count) bytes)")
        }
        return sent
    }

    /// Ends the peer's stream and waits for the reactor to close the connection: shuts the peer's write side, runs
    /// the loop and reads every reply onto `replies` until the reactor's end closes, then runs the loop until the
    /// connection is gone (a graceful close that found unread input lingers: it has sent its FIN, the end of stream
    /// the peer just saw, and closes once it has read and dropped the rest up to the peer's FIN, already on its way).
    /// Returns whether the connection closed (false: still open after 1,000 more turns); traps if the reactor's end
    /// does not close within 1,000,000 turns.
    @_spi(Fuzzing) public func endPeerStream(collectingReplies replies: inout [UInt8]) -> Bool {
        shutdownPeerOutput()
        var turns = 0
        while true {
            runLoopIteration()
            if !drainReplies(into: &replies) { break }
            turns += 1
            precondition(turns < 1_000_000, "StreamHandlerHarness: the connection never closed")
        }
        var lingering = 0
        while isConnectionOpen && lingering < 1000 {
            runLoopIteration()
            lingering += 1
        }
        return !isConnectionOpen
    }

    // MARK: The loop

    /// One turn of the loop on the calling thread: waits for nothing (timeout 0), hands every ready connection to
    /// the reactor's event dispatch, flushes the dirty connections, runs posted tasks, then the timers that are due.
    /// Returns the number of events.
    @_spi(Fuzzing) @discardableResult public func runLoopIteration() -> Int {
        let count: Int
        do {
            count = try reactor.loop.poller.wait(timeoutMilliseconds: 0)
        } catch {
            preconditionFailure("StreamHandlerHarness: epoll_wait failed: \(error)")
        }
        reactor.processReadyEvents(count, tasks: &tasks)
        notePhase()
        return count
    }

    /// Checks the current connection's phase against the one seen last: it only moves forward along the lifecycle
    /// (`ConnectionLifecycle.swift`), and each phase holds what it promises.
    private func notePhase() {
        guard phaseViolation == nil, let id = reactor.handler.currentID else { return }
        let connection = reactor.table.lookup(id)
        let phase = connection?.phase ?? .closed
        if let last = lastPhase, last != phase, !last.canReach(phase) {
            phaseViolation = "the phase went back from \(last) to \(phase)"
        } else if let connection, phase == .lingering, !connection.outbound.isEmpty || connection.inbound.count > 0 {
            phaseViolation =
                "lingering with \(connection.outbound.pendingBytes) bytes queued, \(connection.inbound.count) kept"
        } else if let connection, phase == .closing || phase == .aborting,
            connection.interest & Epoll.readable != 0
        {
            phaseViolation = "\(phase) but still reading"
        }
        lastPhase = phase
    }

    /// Runs the tasks posted to the loop, then flushes, as the loop does after a wakeup.
    private func runTasks() {
        reactor.loop.tasks.takeAll(into: &tasks)
        for task in tasks { task() }
        tasks.removeAll(keepingCapacity: true)
        reactor.io.flushDirty()
        reactor.closedThisIteration.removeAll(keepingCapacity: true)
        notePhase()
    }

    // MARK: What happened

    /// True while the reactor has the current connection open (with a transport: handshaking, or open).
    @_spi(Fuzzing) public var isConnectionOpen: Bool {
        guard let id = reactor.handler.currentID else { return false }
        return reactor.table.lookup(id) != nil
    }

    /// Whether the handler's ``StreamHandler/onOpen(connection:)`` ran for the current connection: at once for a
    /// plain connection, once its handshake completed with a transport (never, if the handshake failed).
    @_spi(Fuzzing) public var handlerOpened: Bool { reactor.handler.opened }

    /// The first breach of the connection lifecycle the harness saw on the current connection, or nil: a phase that
    /// went back, a lingering connection still holding bytes, a closing one still reading.
    @_spi(Fuzzing) public private(set) var phaseViolation: String?

    /// Why the current connection closed, or nil while it is open (or never opened).
    @_spi(Fuzzing) public var closeReason: CloseReason? { reactor.handler.closeReason }

    /// Whether ``StreamHandler/onClose(_:state:reason:)`` got the state ``StreamHandler/onOpen(connection:)`` made
    /// for the current connection, or none if `onOpen` never ran (a failed handshake); false while it is open.
    @_spi(Fuzzing) public var closeGotConnectionState: Bool {
        guard let id = reactor.handler.currentID, reactor.handler.closeReason != nil else { return false }
        return reactor.handler.closedStateID == (reactor.handler.opened ? id : nil)
    }

    /// Bytes of the reactor's buffer pool handed out and not returned (0 once every connection is closed).
    @_spi(Fuzzing) public var poolBytesInUse: Int { reactor.io.pool.statistics.bytesInUse }

    /// Connections in the reactor's table.
    @_spi(Fuzzing) public var openConnections: Int { reactor.table.count }

    /// Server connections counted against `maxConnections` and not yet released.
    @_spi(Fuzzing) public var admittedConnections: Int { reactor.admission.open.load(ordering: .relaxed) }
}

extension StreamHandlerHarness {
    /// The handler as the reactor runs it: every callback forwarded to `handler` unchanged, the current connection's
    /// id, close reason and closing state recorded on the way.
    struct Observed: StreamHandler {
        /// The handler's state for a connection, with the connection's id (to tell that `onClose` got this one).
        struct State {
            let id: ConnectionID
            var state: Handler.ConnectionState
        }

        var handler: Handler
        /// The current connection (the last one registered).
        private(set) var currentID: ConnectionID?
        /// Whether `onOpen` ran for the current connection.
        private(set) var opened = false
        /// Why the current connection closed.
        private(set) var closeReason: CloseReason?
        /// The id in the state `onClose` got for the current connection (nil: none, or not closed yet).
        private(set) var closedStateID: ConnectionID?

        init(handler: Handler) {
            self.handler = handler
        }

        /// Ready for a new connection, to be registered as `next`.
        mutating func forget(next: ConnectionID) {
            currentID = next
            opened = false
            closeReason = nil
            closedStateID = nil
        }

        mutating func onOpen(connection: inout ConnectionContext) -> State {
            if connection.id == currentID { opened = true }
            return State(id: connection.id, state: handler.onOpen(connection: &connection))
        }

        mutating func onRead(_ input: inout InboundBytes, state: inout State, connection: inout ConnectionContext) {
            handler.onRead(&input, state: &state.state, connection: &connection)
        }

        mutating func onInputEnded(
            _ input: inout InboundBytes, state: inout State, connection: inout ConnectionContext
        ) {
            handler.onInputEnded(&input, state: &state.state, connection: &connection)
        }

        mutating func onWritabilityChanged(
            _ isWritable: Bool, state: inout State, connection: inout ConnectionContext
        ) {
            handler.onWritabilityChanged(isWritable, state: &state.state, connection: &connection)
        }

        mutating func onClose(_ id: ConnectionID, state: State?, reason: CloseReason) {
            if id == currentID {
                closeReason = reason
                closedStateID = state?.id
            }
            handler.onClose(id, state: state?.state, reason: reason)
        }
    }
}
