import Dispatch
import Logging
import Synchronization

/// A TCP server: one main reactor that accepts, N sub-reactors that own the connections.
///
/// ```swift
/// struct Echo: FrameHandler {
///     func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
///         connection.write(frame)
///     }
/// }
/// let server = Server(configuration: .init(host: "0.0.0.0", port: 8080), handler: Echo())
/// try server.start()
/// server.waitUntilClosed()
/// ```
///
/// The handler is a generic parameter, so calls into it are static and specialised. Each sub-reactor gets its own
/// copy of it.
public final class Server<Handler: StreamHandler>: Sendable {
    /// The configuration the server was created with.
    public let configuration: ServerConfiguration
    private let handler: Handler
    // The acceptor stops before the loops drain, so no connection arrives while they do; its counters belong in
    // every snapshot, the final one included.
    let lifecycle = ReactorGroupLifecycle<Handler, Acceptor>(
        name: "Server", stopFront: { $0.stop() },
        addFrontCounters: { acceptor, statistics in
            statistics.acceptErrors = acceptor.counters.errors.load(ordering: .relaxed)
            statistics.connectionsRejected = acceptor.counters.rejected.load(ordering: .relaxed)
        })
    private let closed = DispatchGroup()
    /// What ``waitUntilClosed()-2oa88`` and ``run()`` await: fired by ``stop()-8wftw`` once everything is joined.
    let closedSignal = ClosedSignal()

    /// Creates a server; nothing is bound until ``start()``.
    public init(configuration: ServerConfiguration, handler: Handler) {
        var configuration = configuration
        configuration.limits = configuration.limits.validated()
        precondition(configuration.subReactors >= 1, "a server needs at least one sub-reactor")
        precondition(
            !configuration.reusePort || configuration.listenAddresses.allSatisfy { $0.unixPath == nil },
            "reuse-port mode listens on TCP addresses only")
        self.configuration = configuration
        self.handler = handler
    }

    /// Binds, listens and starts the reactor threads. Throws if the address cannot be bound.
    public func start() throws {
        try lifecycle.start {
            let addresses =
                configuration.listenAddresses.isEmpty
                ? [try ReactorSocketAddress(host: configuration.host, port: configuration.port)]
                : configuration.listenAddresses
            let group = try ReactorGroup(
                count: configuration.subReactors, threadName: "reactor", handler: handler, limits: configuration.limits,
                logger: configuration.logger, loopMetrics: configuration.loopMetrics,
                transportProvider: configuration.transport)
            let acceptor: Acceptor
            do {
                if configuration.reusePort {
                    acceptor = try Self.listenOnEveryLoop(addresses, group: group, configuration: configuration)
                } else {
                    acceptor = try Acceptor(
                        addresses: addresses, backlog: configuration.backlog,
                        maxConnections: configuration.maxConnections, admission: group.admission,
                        handOff: group.reactors.map { reactor in { reactor.adopt($0) } },
                        assigned: group.reactors.map(\.assigned), balancing: configuration.balancing,
                        logger: configuration.logger)
                }
            } catch {
                _ = group.shutdown(drainTimeout: .zero)
                throw error
            }
            group.reactors[0].acceptCounters = acceptor.counters  // loop 0 reports them (before its thread starts)
            try group.start()
            do {
                try acceptor.start()
            } catch {
                acceptor.stop()
                _ = group.shutdown(drainTimeout: .zero)
                throw error
            }
            closed.enter()
            return (group, acceptor)
        }
        configuration.logger.info(
            "server started",
            metadata: [
                "reactor.listen.addresses": "\(localAddresses.map(\.description).joined(separator: ", "))",
                "reactor.sub_reactors": "\(configuration.subReactors)",
            ])
    }

    /// Reuse-port mode: `SO_REUSEPORT` listeners for every loop, handed to the loops before they start.
    private static func listenOnEveryLoop(
        _ addresses: [ReactorSocketAddress], group: ReactorGroup<Handler>, configuration: ServerConfiguration
    ) throws -> Acceptor {
        let acceptor = try Acceptor(
            reusePortOn: addresses, loops: group.reactors.count, backlog: configuration.backlog,
            admission: group.admission,
            closeLoopListeners: group.reactors.map { reactor in
                { _ = reactor.loop.execute { reactor.closeListening() } }
            },
            logger: configuration.logger)
        for (index, reactor) in group.reactors.enumerated() {
            do {
                try reactor.listen(
                    on: acceptor.loopDescriptors[index], maxConnections: configuration.maxConnections,
                    counters: acceptor.counters)
            } catch {
                // Not started yet: each loop's listeners are closed here (the ones not handed over too).
                for reactor in group.reactors { reactor.closeListening() }
                for descriptors in acceptor.loopDescriptors[(index + 1)...] {
                    for fd in descriptors { Posix.close(fd) }
                }
                acceptor.stop()
                throw error
            }
        }
        return acceptor
    }

    /// The bound address (with the real port when the configuration asked for 0); nil unless running. With
    /// several ``ServerConfiguration/listenAddresses``, the first; ``localAddresses`` has them all.
    public var localAddress: ReactorSocketAddress? {
        lifecycle.running?.front.localAddress
    }

    /// Every bound address, in the order of ``ServerConfiguration/listenAddresses``; empty unless running.
    public var localAddresses: [ReactorSocketAddress] {
        lifecycle.running?.front.listeners.map(\.localAddress) ?? []
    }

    /// Stops gracefully: stops accepting, answers every frame the peers had finished sending, flushes every reply,
    /// closes every connection (whatever is left at the drain timeout is closed anyway) and joins every thread. When it returns no descriptor or thread of the server is left.
    /// Safe to call more than once and from any thread except the server's own loop threads.
    ///
    /// Blocks the calling thread for the whole drain (up to ``ServerConfiguration/drainTimeout``) and the joins: for
    /// synchronous callers. From `async` code use ``stop()-8pt9t`` (or ``run()``), which suspends the task instead of
    /// holding a thread of the cooperative pool.
    public func stop() {
        guard lifecycle.stop(drainTimeout: configuration.drainTimeout) else {
            // Never started (returns at once), or another call is stopping it: return when that one has finished.
            waitUntilClosed()
            return
        }
        configuration.logger.info("server stopped")
        closed.leave()
        closedSignal.fire()
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

    /// Blocks until the server has stopped (returns at once if it never started). From `async` code use
    /// ``waitUntilClosed()-2oa88``, which suspends the task instead.
    public func waitUntilClosed() {
        closed.wait()
    }

    /// A snapshot of the counters. While running, each loop takes its own snapshot on its thread (so this blocks
    /// briefly, and must not be called from a loop thread); after ``stop()-8wftw`` it returns the final figures.
    /// Waits up to a second per loop, one loop after another; from `async` code use ``statistics()-7olld``, which
    /// asks every loop at once and suspends the task instead.
    public func statistics() -> ReactorStatistics {
        lifecycle.statistics()
    }
}

extension Server where Handler == ReplyHandler {
    /// A server made of a closure that turns each request payload into a reply payload (see ``ReplyHandler``).
    ///
    /// Convenient, but it allocates the reply array per message; implement ``FrameHandler`` for the zero-copy path.
    public convenience init(configuration: ServerConfiguration, reply: @escaping @Sendable (FrameView) -> [UInt8]) {
        self.init(configuration: configuration, handler: ReplyHandler(reply))
    }
}
