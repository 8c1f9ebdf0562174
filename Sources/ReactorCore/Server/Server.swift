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
public final class Server<Handler: FrameHandler>: Sendable {
    /// The configuration the server was created with.
    public let configuration: ServerConfiguration
    private let handler: Handler
    private let lifecycle = Mutex<Lifecycle>(.idle)
    private let closed = DispatchGroup()

    private enum Lifecycle: @unchecked Sendable {
        case idle
        case running(acceptor: Acceptor, reactors: [SubReactor<Handler>])
        case stopping
        case stopped(ServerStatistics)
    }

    /// Creates a server; nothing is bound until ``start()``.
    public init(configuration: ServerConfiguration, handler: Handler) {
        var configuration = configuration
        configuration.limits = configuration.limits.validated()
        precondition(configuration.subReactors >= 1, "a server needs at least one sub-reactor")
        self.configuration = configuration
        self.handler = handler
    }

    /// Binds, listens and starts the reactor threads. Throws if the address cannot be bound.
    public func start() throws {
        try lifecycle.withLock { state in
            guard case .idle = state else { preconditionFailure("Server.start() called twice") }
            let address = try SocketAddress(host: configuration.host, port: configuration.port)
            var reactors: [SubReactor<Handler>] = []
            do {
                for index in 0..<configuration.subReactors {
                    reactors.append(
                        try SubReactor(
                            index: index, handler: handler, limits: configuration.limits,
                            logger: configuration.logger))
                }
                let acceptor = try Acceptor(
                    address: address, backlog: configuration.backlog,
                    handOff: reactors.map { reactor in { reactor.adopt($0) } }, logger: configuration.logger)
                for reactor in reactors { try reactor.start() }
                try acceptor.start()
                closed.enter()
                state = .running(acceptor: acceptor, reactors: reactors)
            } catch {
                for reactor in reactors {
                    reactor.beginShutdown(drainTimeout: .zero)
                    reactor.join()
                }
                throw error
            }
        }
        configuration.logger.info(
            "server started", metadata: ["address": "\(localAddress!)", "sub-reactors": "\(configuration.subReactors)"])
    }

    /// The bound address (with the real port when the configuration asked for 0); nil unless running.
    public var localAddress: SocketAddress? {
        lifecycle.withLock { state in
            if case .running(let acceptor, _) = state { return acceptor.localAddress }
            return nil
        }
    }

    /// Stops gracefully: stops accepting, flushes every queued reply (up to the drain timeout), closes every
    /// connection and joins every thread. When it returns no descriptor or thread of the server is left.
    /// Safe to call more than once and from any thread except the server's own loop threads.
    public func stop() {
        let running: (Acceptor, [SubReactor<Handler>])? = lifecycle.withLock { state in
            guard case .running(let acceptor, let reactors) = state else { return nil }
            state = .stopping
            return (acceptor, reactors)
        }
        guard let (acceptor, reactors) = running else {
            waitUntilClosed()
            return
        }
        precondition(!reactors.contains { $0.loop.inEventLoop }, "Server.stop() called on one of its own loops")
        acceptor.stop()
        for reactor in reactors { reactor.beginShutdown(drainTimeout: configuration.drainTimeout) }
        var statistics = ServerStatistics()
        for reactor in reactors {
            reactor.join()
            // The thread is gone: reading its state from here is safe now.
            statistics.add(reactor.io.counters, open: reactor.table.count, pool: reactor.io.pool.statistics)
        }
        statistics.acceptErrors = acceptor.acceptErrors.load(ordering: .relaxed)
        lifecycle.withLock { $0 = .stopped(statistics) }
        configuration.logger.info("server stopped")
        closed.leave()
    }

    /// Blocks until the server has stopped (returns at once if it never started).
    public func waitUntilClosed() {
        closed.wait()
    }

    /// A snapshot of the counters. While running, each loop takes its own snapshot on its thread (so this blocks
    /// briefly, and must not be called from a loop thread); after ``stop()`` it returns the final figures.
    public func statistics() -> ServerStatistics {
        let state: (Acceptor, [SubReactor<Handler>])?
        let final: ServerStatistics? = lifecycle.withLock { current in
            if case .stopped(let statistics) = current { return statistics }
            return nil
        }
        if let final { return final }
        state = lifecycle.withLock { current in
            if case .running(let acceptor, let reactors) = current { return (acceptor, reactors) }
            return nil
        }
        guard let (acceptor, reactors) = state else { return ServerStatistics() }
        var statistics = ServerStatistics()
        for reactor in reactors {
            if let snapshot = reactor.snapshot() {
                statistics.add(snapshot.counters, open: snapshot.open, pool: snapshot.pool)
            }
        }
        statistics.acceptErrors = acceptor.acceptErrors.load(ordering: .relaxed)
        return statistics
    }
}

extension Server where Handler == ReplyHandler {
    /// The seed's style: a closure that turns each request payload into a reply payload.
    ///
    /// Convenient, but it allocates the reply array per message; implement ``FrameHandler`` for the zero-copy path.
    public convenience init(configuration: ServerConfiguration, reply: @escaping @Sendable (FrameView) -> [UInt8]) {
        self.init(configuration: configuration, handler: ReplyHandler(reply))
    }
}
