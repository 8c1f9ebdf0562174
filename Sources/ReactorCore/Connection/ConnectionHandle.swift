/// A `Sendable` reference to one connection, usable from any thread for its whole life and after (calls on a closed
/// connection do nothing and say so).
///
/// Take one from ``ConnectionContext/handle`` inside a callback, or from ``Client/connect(to:from:)``. It is the
/// owning loop plus a generation-checked ``ConnectionID``, so it never reaches a later connection that reused the
/// descriptor. Calls from another thread post a task to the owning loop (they copy the bytes; they are for pushes,
/// not the hot path); calls on the loop itself (a ``LoopTimer`` action) run at once.
///
/// Ordering: writes issued through handles from one thread go out in the order issued (the loop runs posted tasks
/// first in, first out), after whatever the connection had queued when the task runs.
///
/// Results: called on the owning loop, each write says whether its bytes were queued. Called elsewhere, it says
/// whether the connection was open (and its loop running) when called; the connection can still close, or start
/// closing, before its loop runs the posted task: the bytes are then dropped, and `whenQueued` (if given) is
/// called with `false`, so nothing is dropped silently.
public struct ConnectionHandle: Sendable, Hashable, CustomStringConvertible {
    /// The connection's identity.
    public let id: ConnectionID
    private let io: LoopIO

    init(id: ConnectionID, io: LoopIO) {
        self.id = id
        self.io = io
    }

    /// The loop that owns the connection.
    public var eventLoop: ReactorLoop { io.loop }

    /// True while the connection is open. Lock-free, never waits for the loop (an atomic load).
    public var isOpen: Bool { io.registry.isOpen(id) ?? true }

    /// True while the connection is open and its unsent bytes have not crossed the high watermark since they last
    /// fell to the low one (the same as ``ConnectionContext/isWritable``, published by the loop). Lock-free.
    public var isWritable: Bool { io.registry.isWritable(id) ?? true }

    /// Queues `bytes` as they are. Returns false (and does nothing) if the connection is closed.
    /// `whenQueued`, if given, runs on the owning loop with whether the bytes were queued: false if by then the
    /// connection had closed or was closing (after a `close()`, the peer's FIN, a decoding error or a drain: the
    /// FIN follows what was queued before, nothing after), or if the bytes would have passed the hard cap.
    public func write(_ bytes: some Collection<UInt8>, whenQueued: (@Sendable (Bool) -> Void)? = nil) -> Bool {
        let copy = Array(bytes)
        return run(whenQueued) { context in
            guard context.acceptsWrites else { return false }
            context.write(copy)
            return context.acceptsWrites
        }
    }

    /// Queues one length-prefixed frame with `payload` (see ``ConnectionContext/writeFrame(_:using:)-(RawSpan,_)``).
    /// Returns false (and does nothing) if the connection is closed or `payload` does not fit `prepender`'s length
    /// field; `whenQueued` as for ``write(_:whenQueued:)``.
    public func writeFrame(
        _ payload: some Collection<UInt8>, using prepender: LengthFieldEncoder = .standard,
        whenQueued: (@Sendable (Bool) -> Void)? = nil
    ) -> Bool {
        let copy = Array(payload)
        guard prepender.canEncode(payloadCount: copy.count) else { return false }
        return run(whenQueued) { context in
            guard context.acceptsWrites else { return false }
            context.writeFrame(copy, using: prepender)
            return context.acceptsWrites
        }
    }

    /// Closes the connection after its queued bytes are written (as ``ConnectionContext/close()``). Returns false
    /// if it was already closed.
    @discardableResult
    public func close() -> Bool {
        run(nil) { context in
            context.close()
            return true
        }
    }

    /// Runs `body` with the connection's context at once, on the owning loop's thread (for example in a
    /// ``LoopTimer`` action): no task, no copy. Returns nil if the connection has closed. What `body` writes is
    /// flushed at the end of the current loop iteration. Must be called on the owning loop.
    public func withContext<Result>(_ body: (inout ConnectionContext) throws -> Result) rethrows -> Result? {
        let io = io
        precondition(io.loop.inEventLoop, "ConnectionHandle.withContext called off the connection's loop")
        guard let connection = io.table.lookup(id), connection.phase != .closed else { return nil }
        var context = ConnectionContext(connection: connection, io: io)
        return try body(&context)
    }

    /// Runs `body` with the context on the owning loop (now if already there, else through a task). Returns false
    /// if the connection is known to be closed (or its loop stopped), else what `body` returned when run here, or
    /// true when posted.
    private func run(
        _ whenQueued: (@Sendable (Bool) -> Void)?, _ body: @escaping @Sendable (inout ConnectionContext) -> Bool
    ) -> Bool {
        guard io.registry.isOpen(id) != false else { return false }
        if io.loop.inEventLoop {
            let done = withContext(body) ?? false
            whenQueued?(done)
            return done
        }
        let handle = self
        return io.loop.execute {
            let done = handle.withContext(body) ?? false
            whenQueued?(done)
        }
    }

    public var description: String { "handle(\(id))" }

    public static func == (lhs: ConnectionHandle, rhs: ConnectionHandle) -> Bool {
        lhs.id == rhs.id && lhs.io === rhs.io
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(ObjectIdentifier(io))
    }
}
