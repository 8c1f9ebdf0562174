import Dispatch
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Outgoing connections on the same loops, buffers and handler model as ``Server``.
///
/// ```swift
/// let client = Client(configuration: .init(loops: 1), handler: MyHandler())
/// try client.start()
/// try client.connect(to: ReactorSocketAddress(host: "127.0.0.1", port: 8080))
/// // MyHandler.onOpen starts writing; onFrame gets the replies.
/// client.stop()
/// ```
///
/// ``connect(to:from:)`` returns as soon as the non-blocking connect has started: the handler's ``StreamHandler/onOpen(connection:)``
/// runs on the owning loop when it completes, or ``StreamHandler/onClose(_:state:reason:)`` with
/// ``CloseReason/connectFailed(_:)`` when it fails.
public final class Client<Handler: StreamHandler>: Sendable {
    /// The configuration the client was created with.
    public let configuration: ClientConfiguration
    private let handler: Handler
    private let lifecycle = ReactorGroupLifecycle<Handler, Void>(name: "Client")

    /// Creates a client; no thread runs until ``start()``.
    public init(configuration: ClientConfiguration, handler: Handler) {
        var configuration = configuration
        configuration.limits = configuration.limits.validated()
        precondition(configuration.loops >= 1, "a client needs at least one loop")
        self.configuration = configuration
        self.handler = handler
    }

    /// Starts the loop threads.
    public func start() throws {
        try lifecycle.start {
            let group = try ReactorGroup(
                count: configuration.loops, threadName: "client", handler: handler, limits: configuration.limits,
                logger: configuration.logger, transportProvider: configuration.transport)
            try group.start()
            return (group, ())
        }
    }

    /// Starts connecting to `address` on the next loop (round-robin), optionally from a local `source` address
    /// (for example 127.0.0.2 to get a fresh range of ephemeral ports for many connections), and returns the new
    /// connection's handle.
    ///
    /// Returns once the connection is registered with its loop (microseconds: it waits for the loop to run one
    /// task, not for the handshake). The handler's `onOpen` runs when the handshake completes, or `onClose` with
    /// ``CloseReason/connectFailed(_:)`` when it fails. Throws when no socket could be created, the connect failed
    /// at once, or the client is stopping. Not on one of the client's own loops (it would wait for itself).
    @discardableResult
    public func connect(
        to address: ReactorSocketAddress, from source: ReactorSocketAddress? = nil
    ) throws -> ConnectionHandle {
        guard let group = lifecycle.running?.group else {
            // Before start() it is a programming error; while stopping or after stop() it is a race with stop().
            precondition(lifecycle.hasStarted, "Client.connect(to:) before start()")
            throw SystemError(syscall: "connect", errno: Errno(rawValue: ECANCELED))
        }
        let fd = try Posix.socket(domain: address.family)
        do {
            try Posix.setNoDelay(fd)
            if let source { try Posix.bind(fd, to: source) }
            _ = try Posix.connect(fd, to: address)
        } catch {
            Posix.close(fd)
            throw error
        }
        precondition(!group.isCalledFromALoop, "Client.connect(to:) called on one of the client's own loops")
        let registered = Lock<ConnectionHandle?>(nil)
        let done = DispatchSemaphore(value: 0)
        group.next().adoptConnecting(fd) { handle in
            registered.withLock { $0 = handle }
            done.signal()
        }
        done.wait()
        guard let handle = registered.withLock({ $0 }) else {
            throw SystemError(syscall: "connect", errno: Errno(rawValue: ECANCELED))
        }
        return handle
    }

    /// Flushes what is queued (up to the drain timeout), closes every connection and joins every thread.
    /// Safe to call more than once; not from the client's own loops.
    public func stop() {
        _ = lifecycle.stop(drainTimeout: configuration.drainTimeout)
    }

    /// A ``ConnectionHandle`` on `id`, to write to or close it from any thread, or (on its loop, for example in a
    /// ``LoopTimer`` action) to get its ``ConnectionContext`` at once with ``ConnectionHandle/withContext(_:)``.
    /// Nil unless running or if `id` names no loop of this group; a handle on a closed connection reports it.
    public func handle(for id: ConnectionID) -> ConnectionHandle? {
        lifecycle.handle(for: id)
    }

    /// True while `id` names an open connection. Lock-free: reads the connection registry, never waits for a loop.
    public func isOpen(_ id: ConnectionID) -> Bool {
        lifecycle.isOpen(id)
    }

    /// Queues one frame with `payload` on `id` from any thread; dropped if the connection has closed by the time
    /// its loop runs the task. Copies `payload` and posts a task, so this is for occasional pushes, not the hot
    /// path (inside a handler, write to the ``ConnectionContext`` instead).
    public func write(_ payload: [UInt8], to id: ConnectionID) {
        lifecycle.write(payload, to: id)
    }

    /// Closes `id` after its queued replies are written, from any thread; a no-op if it already closed.
    public func close(_ id: ConnectionID) {
        lifecycle.close(id)
    }

    /// Counters summed over the loops (taken on each loop while running; final after ``stop()``).
    public func statistics() -> ReactorStatistics {
        lifecycle.statistics()
    }
}
