import Logging
import Synchronization

/// A set of sub-reactors started and stopped together; the connection-owning half of both ``Server`` and
/// ``Client``.
final class ReactorGroup<Handler: StreamHandler>: @unchecked Sendable {
    let reactors: [SubReactor<Handler>]
    let registry = ConnectionRegistry()
    let admission = AdmissionCounter()
    private let nextIndex = Atomic<Int>(0)

    /// Creates `count` loops (each with its own copy of `handler`); nothing runs until ``start()``.
    /// Loop threads are named `\(threadName)-\(index)` ("reactor-0" for a server, "client-0" for a client). Each loop
    /// reports its counters to `loopMetrics` if given.
    init(
        count: Int, threadName: String, handler: Handler, limits: ConnectionLimits, logger: Logger,
        loopMetrics: LoopMetrics? = nil, transportProvider: (any ConnectionTransportProvider)? = nil
    ) throws(SystemError) {
        var reactors: [SubReactor<Handler>] = []
        do {
            for index in 0..<count {
                reactors.append(
                    try SubReactor(
                        index: index, threadName: "\(threadName)-\(index)", handler: handler, limits: limits,
                        registry: registry, admission: admission, logger: logger, loopMetrics: loopMetrics,
                        transportProvider: transportProvider))
            }
        } catch {
            for reactor in reactors { reactor.join() }
            throw error
        }
        self.reactors = reactors
    }

    /// Starts every loop thread; on failure stops the ones already started.
    func start() throws(SystemError) {
        do {
            for reactor in reactors { try reactor.start() }
        } catch {
            _ = shutdown(drainTimeout: .zero)
            throw error
        }
    }

    /// The next loop in round-robin order (relaxed: fairness needs no ordering).
    func next() -> SubReactor<Handler> {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return reactors[index % reactors.count]
    }

    /// Runs `body` with `id`'s context on its loop, if it is still open then. Any thread.
    func withConnection(_ id: ConnectionID, _ body: @escaping @Sendable (inout ConnectionContext) -> Void) {
        guard reactors.indices.contains(id.loop), registry.isOpen(id) != false else { return }
        reactors[id.loop].withConnection(id, body)
    }

    /// A handle on `id` (which may have closed: the handle then reports it), or nil if `id` names no loop of this group.
    func handle(for id: ConnectionID) -> ConnectionHandle? {
        guard reactors.indices.contains(id.loop) else { return nil }
        return ConnectionHandle(id: id, io: reactors[id.loop].io)
    }

    /// True when called on one of the group's loop threads.
    var isCalledFromALoop: Bool { reactors.contains { $0.loop.inEventLoop } }

    /// Drains and closes every connection, joins every thread and returns the final counters.
    func shutdown(drainTimeout: Duration) -> ReactorStatistics {
        precondition(!isCalledFromALoop, "a reactor group cannot be stopped from one of its own loops")
        for reactor in reactors { reactor.beginShutdown(drainTimeout: drainTimeout) }
        var statistics = ReactorStatistics()
        for reactor in reactors {
            reactor.join()
            // The thread is gone: reading its state from here is safe now.
            statistics.add(reactor.io.counters, open: reactor.table.count, pool: reactor.io.pool.statistics)
        }
        return statistics
    }

    /// Counters summed over the loops, each taken on its own thread.
    func statistics() -> ReactorStatistics {
        var statistics = ReactorStatistics()
        for reactor in reactors {
            if let snapshot = reactor.snapshot() {
                statistics.add(snapshot.counters, open: snapshot.open, pool: snapshot.pool)
            }
        }
        return statistics
    }
}
