import Logging
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A sub-reactor: one loop thread that owns a set of connections for their whole lives.
///
/// Each iteration waits on epoll (until the next timer at most), reads every ready connection and hands its
/// unconsumed bytes to the stream handler in place, then flushes every connection that has replies queued with one
/// `writev` each, runs posted tasks, and runs the timers that are due. Descriptors arrive from the main reactor as
/// tasks. All state below is confined to the loop thread; other threads reach the
/// reactor only through ``ReactorLoop/execute(_:)``.
final class SubReactor<Handler: StreamHandler>: @unchecked Sendable {
    enum State {
        case running
        /// Answer what was received, flush, close; a timer force-closes whatever is left at the drain deadline.
        case draining
        case stopped
    }

    let loop: ReactorLoop
    /// This loop's copy of the handler, reached through ``handler``.
    @exclusivity(unchecked) private var handlerSlot: HandlerSlot<Handler>
    /// This loop's copy of the handler (loop thread only).
    var handler: Handler {
        @inline(__always) get { handlerSlot.handler }
        @inline(__always) _modify { yield &handlerSlot.handler }
    }
    let io: LoopIO
    /// The loop's connections (kept in ``LoopIO`` so handles can reach them without the handler type).
    var table: ConnectionTable {
        @inline(__always) get { io.table }
        @inline(__always) _modify { yield &io.table }
    }
    let registry: ConnectionRegistry
    let admission: AdmissionCounter
    /// Server connections handed to this loop and not yet closed (for least-connections balancing): the acceptor
    /// adds one per hand-off, this loop subtracts it with ``admission``'s (``releaseAdmission()``).
    let assigned = AdmissionCounter()
    /// This loop's own listeners in reuse-port mode (none otherwise). Loop thread only, once started.
    @exclusivity(unchecked) var listening = LoopListening()
    @exclusivity(unchecked) var state = State.running
    var closeLog: CloseLog
    /// Connections closed during the current iteration, kept alive until it ends: the table's slots hold the only
    /// other reference, and the hot path uses connections at +0.
    @exclusivity(unchecked) var closedThisIteration: [Connection] = []
    /// The loop's clock, read once per iteration after `epoll_wait` (monotonic nanoseconds; kept in ``LoopIO``).
    var now: UInt64 {
        @inline(__always) get { io.now }
        @inline(__always) set { io.now = newValue }
    }
    /// One entry per connection while idle or read timeouts are on (see `SubReactor+Timeouts`).
    @exclusivity(unchecked) var connectionTimers = TimerHeap<Connection>(retainsElements: false)
    let timeouts: Timeouts
    private var thread: LoopThread?
    private let threadName: String
    /// Gives the buffer pool's unneeded memory back every ``SlabPool/trimInterval`` while the loop runs.
    private var poolTrimTimer: LoopTimer?
    /// Where the loop reports its counters, if anywhere (see `SubReactor+Metrics`).
    let loopMetrics: LoopMetrics?
    /// The reporter ``loopMetrics`` made for this loop, and the timer that calls it (loop thread only).
    var metricsReporter: (any LoopMetricsReporter)?
    var metricsTimer: LoopTimer?
    /// A server's accept counters, on loop 0 only, which reports them with its metrics (set before the loop starts).
    var acceptCounters: AcceptCounters?

    init(
        index: Int, threadName: String, handler: Handler, limits: ConnectionLimits, registry: ConnectionRegistry,
        admission: AdmissionCounter, logger: Logger, loopMetrics: LoopMetrics? = nil,
        transportProvider: (any ConnectionTransportProvider)? = nil
    ) throws(SystemError) {
        self.admission = admission
        self.loopMetrics = loopMetrics
        self.threadName = threadName
        self.loop = try ReactorLoop(index: index)
        self.registry = registry
        self.handlerSlot = HandlerSlot(handler: handler)
        self.io = LoopIO(
            limits: limits, loop: loop, registry: registry, logger: logger, transportProvider: transportProvider)
        self.timeouts = Timeouts(limits: limits)
        self.closeLog = CloseLog(logger: logger)
        io.delegate = self
    }

    /// Starts the loop thread.
    func start() throws(SystemError) {
        thread = try LoopThread(name: threadName) { [self] in run() }
    }

    /// Waits for the loop thread to finish (after ``beginShutdown(drainTimeout:)``).
    func join() {
        if let thread {
            thread.join()
            self.thread = nil
        } else if case .running = state {
            // Never started (a later start step failed): nothing runs on the loop, release its descriptors here.
            state = .stopped
            closeListening()
            loop.closeDescriptors()
        }
        // Tasks posted after the loop's last look at its queue (or to a loop that never ran) would keep this reactor
        // alive through their captures, and an adoption would keep its descriptor open. The loop thread is gone, so
        // running them here is safe: with the state `.stopped` they only close what they carry.
        var late: [TaskQueue.Task] = []
        loop.tasks.takeRemaining(into: &late)
        for task in late { task() }
    }

    /// Gives back the admission of a server connection that closed (or could not be registered).
    @inline(__always)
    func releaseAdmission() {
        admission.open.subtract(1, ordering: .relaxed)
        assigned.open.subtract(1, ordering: .relaxed)
    }

    /// Hands a freshly accepted descriptor to this loop. Called from the main reactor's thread.
    func adopt(_ fd: CInt) {
        if !loop.execute({ [self] in register(fd, connecting: false) }) {
            releaseAdmission()  // the loop is gone: nobody will register it
            Posix.close(fd)
        }
    }

    /// Hands this loop a client socket whose non-blocking connect is in progress. Any thread.
    /// `registered` runs on the loop with the connection's handle once it is registered (nil if it could not be).
    func adoptConnecting(_ fd: CInt, registered: @escaping @Sendable (ConnectionHandle?) -> Void) {
        if !loop.execute({ [self] in registered(register(fd, connecting: true)) }) {
            Posix.close(fd)
            registered(nil)
        }
    }

    /// Runs `body` on the loop with `id`'s context if the connection is still open there (the generation check
    /// makes a task for a closed and reused descriptor a no-op). Any thread.
    func withConnection(_ id: ConnectionID, _ body: @escaping @Sendable (inout ConnectionContext) -> Void) {
        loop.execute { [self] in
            guard let connection = table.lookup(id), connection.phase != .closed else { return }
            var context = ConnectionContext(connection: connection, io: io)
            body(&context)
        }
    }

    /// Asks the loop to stop: answer every frame already received, flush, close every connection (by
    /// `drainTimeout` from now at the latest), exit.
    func beginShutdown(drainTimeout: Duration) {
        let deadline = MonotonicClock.nanoseconds() &+ min(MonotonicClock.nanoseconds(of: drainTimeout), .max / 2)
        loop.execute { [self] in startDraining(deadline: deadline) }
    }

    // MARK: The loop

    private func run() {
        loop.bindToCurrentThread()
        var batch: [TaskQueue.Task] = []
        batch.reserveCapacity(64)
        let poolTrimTimer = LoopTimer(on: loop) { [self] in
            io.pool.trim()
            self.poolTrimTimer?.schedule(after: SlabPool.trimInterval)
        }
        self.poolTrimTimer = poolTrimTimer
        poolTrimTimer.schedule(after: SlabPool.trimInterval)
        defer {  // the timer's action holds the reactor
            poolTrimTimer.cancel()
            self.poolTrimTimer = nil
        }
        startMetrics()
        let poller = loop.poller
        while true {
            let count: Int
            do {
                count = try poller.wait(timeoutMilliseconds: pollTimeout())
            } catch {
                // Only EINVAL/ENOMEM remain here; neither is caused by a peer. Back off instead of spinning.
                closeLog.record(.ioError(error), id: ConnectionID(loop: loop.index, fd: -1, generation: 0))
                usleep(1000)
                continue
            }
            processReadyEvents(count, tasks: &batch)
            if case .draining = state, table.count == 0 {
                state = .stopped
                break
            }
        }
        // Run tasks posted during the drain (adoptions close their descriptor), then release the loop's own fds.
        loop.tasks.takeAll(into: &batch)
        for task in batch { task() }
        closeListening()
        stopMetrics()
        loop.closeDescriptors()
    }

    /// The body of one loop iteration, after `epoll_wait` reported `count` events: read the clock, handle every
    /// event, flush, run the posted tasks if the wakeup fired (then flush again), run the timers that are due.
    /// `batch` is the caller's reusable task array.
    @inline(__always)
    func processReadyEvents(_ count: Int, tasks batch: inout [TaskQueue.Task]) {
        now = MonotonicClock.nanoseconds()
        io.counters.iterations &+= 1
        let poller = loop.poller
        var woken = false
        for index in 0..<count {
            let tag = poller.data(at: index)
            if tag >= ReactorLoop.reservedTagFloor {
                if tag == ReactorLoop.wakeupTag {
                    woken = true
                } else {
                    acceptReady(Int(ReactorLoop.wakeupTag - 1 - tag))
                }
                continue
            }
            // A stale event (the descriptor closed earlier in this batch, maybe reused) finds no connection.
            guard let connection = table.lookupUnretained(tag: tag) else { continue }
            let mask = poller.mask(at: index)
            connection._withUnsafeGuaranteedRef { handleEvent($0, mask: mask) }
        }
        io.flushDirty()
        releaseClosed()
        if woken {
            io.counters.wakeups &+= 1
            loop.tasks.takeAll(into: &batch)
            for task in batch { task() }
            batch.removeAll(keepingCapacity: true)
            io.flushDirty()
            releaseClosed()
        }
        runTimers()
    }

    @inline(__always)
    func handleEvent(_ connection: Connection, mask: UInt32) {
        if !connection.flags.isDisjoint(with: .slowEvents) && slowEvent(connection, mask: mask) { return }
        let reading = connection.interest & Epoll.readable != 0
        if reading && mask & (Epoll.readable | Epoll.readHangUp | Epoll.hangUp | Epoll.error) != 0 {
            if connection.phase == .lingering {
                discardInput(connection)
                return
            }
            readable(connection)
            if connection.phase == .closed { return }
        }
        if mask & (Epoll.writable | Epoll.hangUp | Epoll.error) != 0 {
            if !connection.outbound.isEmpty {
                io.flush(connection)
            } else if mask & (Epoll.hangUp | Epoll.error) != 0 && !reading {
                // Not reading and nothing to write: the only thing left to do with a dead socket is close it.
                close(connection, reason: mask & Epoll.error != 0 ? .peerReset : connection.closeReason)
            }
        }
    }

    /// The events of a connection not yet ready for traffic (a connect or a handshake in progress), or whose
    /// transport's read waits to write: handled here, out of the hot path. Returns true when the event is done with.
    @inline(never)
    private func slowEvent(_ connection: Connection, mask: UInt32) -> Bool {
        if connection.flags.contains(.connecting) {
            finishConnecting(connection)
            return true
        }
        if connection.flags.contains(.handshaking) {
            continueHandshake(connection)
            return true
        }
        if mask & (Epoll.writable | Epoll.hangUp | Epoll.error) != 0 {
            connection.flags.remove(.transportWantsWrite)
            io.updateInterest(connection)
            if connection.phase == .closing {
                // Replies first (a read's own handshake write held them back), then the rest of the close_notify
                // and the FIN: `settle` goes on to the close once the queue is empty.
                if connection.outbound.isEmpty {
                    finishGracefulClose(connection)
                } else {
                    io.flush(connection)
                }
                return true
            }
            // The transport's read needed to write (TLS): read again now that it can.
            readable(connection)
            return connection.phase == .closed
        }
        return false
    }

    // MARK: Registration

    @discardableResult
    func register(_ fd: CInt, connecting: Bool) -> ConnectionHandle? {
        guard case .running = state else {
            if !connecting { releaseAdmission() }
            Posix.close(fd)
            return nil
        }
        let id = ConnectionID(loop: loop.index, fd: fd, generation: table.nextGeneration(for: fd))
        let connection = StatefulConnection<Handler.ConnectionState>(id: id)
        // A connecting socket reports writable once the handshake finished (or failed).
        let interest = connecting ? Epoll.writable : Epoll.readable | Epoll.readHangUp
        do {
            try loop.poller.add(fd, events: interest, data: id.tag)
        } catch {
            closeLog.record(.ioError(error), id: id)
            io.counters.closed[CloseReason.Kind.ioError.rawValue] += 1
            if !connecting { releaseAdmission() }
            Posix.close(fd)
            return nil
        }
        connection.interest = interest
        if !connecting { connection.flags.insert(.admitted) }
        table.insert(connection)
        registry.publishOpen(id)
        // For a connecting socket the idle timeout also bounds the handshake.
        startTimeouts(connection)
        if connecting {
            connection.flags.insert(.connecting)
            return ConnectionHandle(id: id, io: io)
        }
        if io.transportProvider != nil {
            io.counters.accepted += 1
            startHandshake(connection, role: .server)
            return ConnectionHandle(id: id, io: io)
        }
        io.counters.accepted += 1
        opened(connection)
        return ConnectionHandle(id: id, io: io)
    }

    /// A connection is ready for traffic (connected, accepted, its handshake done): tell the handler.
    func opened(_ connection: Connection) {
        var context = ConnectionContext(connection: connection, io: io)
        stateful(connection).state = handler.onOpen(connection: &context)
    }

    /// `connection` with the handler's state (every connection of this loop is one).
    @inline(__always)
    func stateful(_ connection: Connection) -> StatefulConnection<Handler.ConnectionState> {
        unsafeDowncast(connection, to: StatefulConnection<Handler.ConnectionState>.self)
    }

    /// The outcome of a non-blocking connect arrived.
    private func finishConnecting(_ connection: Connection) {
        connection.flags.remove(.connecting)
        do {
            let pending = try Posix.pendingError(connection.fd)
            if pending != 0 {
                let error = SystemError(syscall: "connect", errno: Errno(rawValue: pending))
                close(connection, reason: .connectFailed(error))
                return
            }
        } catch {
            close(connection, reason: .connectFailed(error))
            return
        }
        io.updateInterest(connection)
        if connection.phase == .closed { return }
        io.counters.accepted += 1
        if io.transportProvider != nil {
            startHandshake(connection, role: .client)
            return
        }
        opened(connection)
        if !connection.outbound.isEmpty || connection.phase == .closing { io.markDirty(connection) }
    }

    /// Graceful drain: every frame a peer finished sending before now is answered (as far as backpressure allows:
    /// not past a connection's high watermark), every reply is flushed, then each connection closes with
    /// ``CloseReason/shutdown``. A timer closes whatever is left at `deadline`.
    private func startDraining(deadline: UInt64) {
        guard case .running = state else { return }
        state = .draining
        closeListening()
        let forceClose = LoopTimer(on: loop) { [self] in
            for connection in table.all { close(connection, reason: .shutdown) }
        }
        loop.schedule(forceClose, at: deadline)
        for connection in table.all {
            if !connection.flags.isDisjoint(with: .notReadyForTraffic) {
                close(connection, reason: .shutdown)
                continue
            }
            answerReceivedFrames(connection)
            if connection.phase == .closed { continue }
            beginGracefulClose(connection, reason: .shutdown)
            io.markDirty(connection)  // also when it was closing already: its flush may be waiting for this iteration
        }
    }

    /// Reads and answers the bytes the kernel had already received for `connection` when the drain began (read
    /// budget aside, exactly what the next wakeups would have read). A frame still incomplete after them is dropped.
    /// Backpressure holds: nothing is read from a connection paused at its high watermark (its peer is not reading
    /// the replies queued already), and reading stops as soon as the replies reach it.
    private func answerReceivedFrames(_ connection: Connection) {
        var remaining = Posix.bytesReadable(connection.fd)
        while remaining > 0 && connection.phase == .open && connection.flags.isDisjoint(with: .notReadingWhileOpen) {
            let before = io.counters.bytesIn
            readable(connection)
            let read = io.counters.bytesIn - before
            if read == 0 { break }
            remaining -= read
        }
    }
}

/// A handler stored with one extra byte. A handler without stored properties has size zero, and a zero-sized stored
/// property shares its address with the next one: ThreadSanitizer then reports the loop's `inout` access to the
/// handler and another thread's read of that neighbour (the loop thread in `join()`) as a race, although they touch
/// different properties. The byte gives the handler an address of its own.
struct HandlerSlot<Handler> {
    var handler: Handler
    private let addressable: UInt8 = 0

    init(handler: Handler) {
        self.handler = handler
    }
}

extension SubReactor: WritePathDelegate {
    /// Tells the handler (the write path already published the change for handles).
    func writabilityChanged(_ connection: Connection, isWritable: Bool) {
        let box = stateful(connection)
        guard box.state != nil else { return }
        var context = ConnectionContext(connection: connection, io: io)
        handler.onWritabilityChanged(isWritable, state: &box.state!, connection: &context)
    }
}
