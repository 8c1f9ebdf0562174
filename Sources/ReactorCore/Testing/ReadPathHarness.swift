import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Drives a sub-reactor's real connection path on the calling thread, without its loop thread: for fuzzing.
///
/// The harness owns a ``SubReactor`` that is never started and plays both the peer and the loop thread. Each
/// connection is one end of a `socketpair(AF_UNIX, SOCK_STREAM)`, handed to the reactor the way the acceptor hands
/// over an accepted socket; the harness keeps the other end. ``runLoopIteration()`` does what one turn of the loop
/// does: a non-blocking `epoll_wait`, each event through the reactor's own event dispatch (read → decode → handler →
/// staged replies → flush), then the flush of every dirty connection. The handler echoes every frame (one or more
/// times), records what it was handed and how the connection closed, and can close the connection itself after a given
/// number of frames.
///
/// One harness serves any number of connections, one at a time:
/// ``connect(closeAfterFrames:serverSendBuffer:peerSendBuffer:)``, then ``send(_:)``, ``runLoopIteration()`` and
/// ``drainReplies(into:)`` in any order, then ``disconnect()``. Not thread-safe.
@_spi(Fuzzing) public final class ReadPathHarness {
    /// The limits the reactor enforces (validated).
    @_spi(Fuzzing) public let limits: ConnectionLimits
    private let reactor: SubReactor<Recorder>
    private var peer: CInt = -1
    private var tasks: [TaskQueue.Task] = []
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// A reactor with `limits` (its registry tracks the first 4,096 descriptors); no connection yet.
    @_spi(Fuzzing) public init(limits: ConnectionLimits) throws(SystemError) {
        self.limits = limits.validated()
        reactor = try SubReactor(
            index: 0, threadName: "fuzz", handler: Recorder(), limits: self.limits,
            registry: ConnectionRegistry(capacity: 4096), admission: AdmissionCounter(),
            logger: Logger(label: "ReadPathHarness", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    deinit {
        disconnect()
        reactor.join()  // never started: releases the loop's epoll and eventfd descriptors
        readBuffer.deallocate()
    }

    // MARK: Connections

    /// Opens a connection: a fresh socket pair, one end handed to the reactor (through its task queue, as the
    /// acceptor does) and registered by running the posted task here.
    ///
    /// - Parameters:
    ///   - repliesPerFrame: how many copies of each frame the handler writes back (more than one makes replies
    ///     outgrow requests, so queues, watermarks and the unsent-bytes cap are reached with small inputs).
    ///   - closeAfterFrames: when above 0, the handler calls ``ConnectionContext/close()`` after that many frames.
    ///   - serverSendBuffer: `SO_SNDBUF` of the reactor's end (replies); small ones force partial writes.
    ///   - peerSendBuffer: `SO_SNDBUF` of the peer's end (requests).
    @_spi(Fuzzing) public func connect(
        repliesPerFrame: Int = 1, closeAfterFrames: Int = 0, serverSendBuffer: Int? = nil, peerSendBuffer: Int? = nil
    ) throws(SystemError) {
        precondition(peer < 0, "ReadPathHarness.connect() while a connection is open")
        reactor.handler.reset(repliesPerFrame: repliesPerFrame, closeAfterFrames: closeAfterFrames)
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
        reactor.admission.open.add(1, ordering: .relaxed)  // the acceptor counts a connection before handing it off
        reactor.adopt(server)
        runTasks()
    }

    /// Closes the peer's end. A connection the reactor still has open is closed first, as a shutdown would.
    @_spi(Fuzzing) public func disconnect() {
        if let id = reactor.handler.openedID, let connection = reactor.table.lookup(id) {
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
            preconditionFailure("ReadPathHarness: peer send failed: \(error)")
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
                preconditionFailure("ReadPathHarness: peer read failed: \(error)")
            }
            guard case .processed(let count) = result else { return true }
            if count == 0 { return false }
            replies.append(contentsOf: UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        }
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
            preconditionFailure("ReadPathHarness: epoll_wait failed: \(error)")
        }
        reactor.processReadyEvents(count, tasks: &tasks)
        return count
    }

    /// Runs the tasks posted to the loop, then flushes, as the loop does after a wakeup.
    private func runTasks() {
        reactor.loop.tasks.takeAll(into: &tasks)
        for task in tasks { task() }
        tasks.removeAll(keepingCapacity: true)
        reactor.flushDirty()
        reactor.closedThisIteration.removeAll(keepingCapacity: true)
    }

    // MARK: What happened

    /// True while the reactor has the current connection open.
    @_spi(Fuzzing) public var isConnectionOpen: Bool {
        guard let id = reactor.handler.openedID else { return false }
        return reactor.table.lookup(id) != nil
    }

    /// Why the current connection closed, or nil while it is open (or never opened).
    @_spi(Fuzzing) public var closeReason: CloseReason? { reactor.handler.closeReason }

    /// How many frames the handler was handed on the current connection.
    @_spi(Fuzzing) public var receivedFrameCount: Int { reactor.handler.frames }

    /// Every frame the handler was handed on the current connection, re-encoded (4-byte big-endian length, payload)
    /// and concatenated (once each, whatever `repliesPerFrame`): for an intact stream, exactly the bytes the peer sent
    /// for those frames.
    @_spi(Fuzzing) public var receivedFrames: [UInt8] { reactor.handler.received }

    /// Bytes of the reactor's buffer pool handed out and not returned (0 once every connection is closed).
    @_spi(Fuzzing) public var poolBytesInUse: Int { reactor.io.pool.statistics.bytesInUse }

    /// Connections in the reactor's table.
    @_spi(Fuzzing) public var openConnections: Int { reactor.table.count }

    /// Server connections counted against `maxConnections` and not yet released.
    @_spi(Fuzzing) public var admittedConnections: Int { reactor.admission.open.load(ordering: .relaxed) }
}

extension ReadPathHarness {
    /// The harness's handler: echoes every frame (the bench's echo server, `repliesPerFrame` times), records it, and
    /// records the close.
    struct Recorder: FrameHandler {
        var repliesPerFrame = 1
        var closeAfterFrames = 0
        var frames = 0
        var received: [UInt8] = []
        var openedID: ConnectionID?
        var closeReason: CloseReason?

        /// Ready for a new connection; keeps the recording buffer's capacity.
        mutating func reset(repliesPerFrame: Int, closeAfterFrames: Int) {
            self.repliesPerFrame = repliesPerFrame
            self.closeAfterFrames = closeAfterFrames
            frames = 0
            received.removeAll(keepingCapacity: true)
            openedID = nil
            closeReason = nil
        }

        mutating func onOpen(connection: inout ConnectionContext) {
            openedID = connection.id
        }

        mutating func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
            frames += 1
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: frame.count).bigEndian) { received.append(contentsOf: $0) }
            frame.withUnsafeBytes { received.append(contentsOf: $0) }
            for _ in 0..<repliesPerFrame { connection.write(frame) }
            if frames == closeAfterFrames { connection.close() }
        }

        mutating func onClose(_ id: ConnectionID, reason: CloseReason) {
            if id == openedID { closeReason = reason }
        }
    }
}
