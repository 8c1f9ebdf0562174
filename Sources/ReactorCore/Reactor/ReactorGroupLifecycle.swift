/// The one lifecycle of a ``ReactorGroup`` that a ``Server`` or a ``Client`` runs (idle, running, stopping, stopped),
/// with the lookups both offer on a running group.
///
/// `Front` is what runs in front of the loops and is stopped before them: a server's `Acceptor`; `Void` for a
/// client. The facades keep what only they have (binding and accepting, connecting) and delegate the rest here, so
/// both stop, count and look up connections the same way.
final class ReactorGroupLifecycle<Handler: StreamHandler, Front: Sendable>: Sendable {
    private enum State {
        case idle
        case running(group: ReactorGroup<Handler>, front: Front)
        case stopping
        case stopped(ReactorStatistics)
    }

    /// "Server" or "Client", to name the caller in precondition failures.
    private let name: String
    private let state = Lock<State>(.idle)
    private let stopFront: @Sendable (Front) -> Void
    let addFrontCounters: @Sendable (Front, inout ReactorStatistics) -> Void

    /// A lifecycle that has not started. `stopFront` runs in ``stop(drainTimeout:)`` before the loops drain (so
    /// nothing new arrives while they do); `addFrontCounters` adds the front's own counters to every snapshot.
    init(
        name: String, stopFront: @escaping @Sendable (Front) -> Void = { _ in },
        addFrontCounters: @escaping @Sendable (Front, inout ReactorStatistics) -> Void = { _, _ in }
    ) {
        self.name = name
        self.stopFront = stopFront
        self.addFrontCounters = addFrontCounters
    }

    /// Runs `launch` under the lock and keeps what it started; a second start is a programming error. Under the lock
    /// so that a concurrent ``stop(drainTimeout:)`` sees either nothing started or everything.
    func start(_ launch: () throws -> (group: ReactorGroup<Handler>, front: Front)) throws {
        // Not `rethrows`: Swift 6.3 miscompiles a `rethrows` method whose argument throws inside `Lock.withLock` (the
        // failing path of `Server.start()` crashed in `bindingABusyPortThrowsAndLeaksNothing`), and both callers throw.
        try state.withLock { state in
            guard case .idle = state else { preconditionFailure("\(name).start() called twice") }
            let (group, front) = try launch()
            state = .running(group: group, front: front)
        }
    }

    /// The running group and its front; nil before start and from the moment stop begins.
    var running: (group: ReactorGroup<Handler>, front: Front)? {
        state.withLock { state in
            if case .running(let group, let front) = state { return (group, front) }
            return nil
        }
    }

    /// False until ``start(_:)`` succeeds, true from then on (also while stopping and after stop).
    var hasStarted: Bool {
        state.withLock { state in
            if case .idle = state { return false }
            return true
        }
    }

    /// Stops the front, drains and joins the loops and keeps the final statistics. Returns false at once, doing
    /// nothing, unless this call found the group running: before start, or when another call is stopping or has
    /// stopped it. Not from one of the group's own loops (it would join itself).
    func stop(drainTimeout: Duration) -> Bool {
        let running: (ReactorGroup<Handler>, Front)? = state.withLock { state in
            guard case .running(let group, let front) = state else { return nil }
            state = .stopping
            return (group, front)
        }
        guard let (group, front) = running else { return false }
        precondition(!group.isCalledFromALoop, "\(name).stop() called on one of its own loops")
        stopFront(front)
        var statistics = group.shutdown(drainTimeout: drainTimeout)
        addFrontCounters(front, &statistics)
        state.withLock { $0 = .stopped(statistics) }
        return true
    }

    /// Counters summed over the loops, each taken on its own thread while running (so not from a loop thread); the
    /// final figures after stop; zeros before start and while stopping.
    func statistics() -> ReactorStatistics {
        let current: (ReactorGroup<Handler>, Front)?
        let final: ReactorStatistics?
        (current, final) = state.withLock { state in
            switch state {
            case .running(let group, let front): return ((group, front), nil)
            case .stopped(let statistics): return (nil, statistics)
            case .idle, .stopping: return (nil, nil)
            }
        }
        if let final { return final }
        guard let (group, front) = current else { return ReactorStatistics() }
        var statistics = group.statistics()
        addFrontCounters(front, &statistics)
        return statistics
    }

    /// A handle on `id`; nil unless running or if `id` names no loop of the group.
    func handle(for id: ConnectionID) -> ConnectionHandle? {
        running?.group.handle(for: id)
    }

    /// True while `id` names an open connection; reads the registry, never waits for a loop.
    func isOpen(_ id: ConnectionID) -> Bool {
        guard let group = running?.group else { return false }
        return group.registry.isOpen(id) ?? true
    }

    /// Queues one frame with `payload` on `id`, on its loop, if it is still open then.
    func write(_ payload: [UInt8], to id: ConnectionID) {
        running?.group.withConnection(id) { $0.writeFrame(payload) }
    }

    /// Closes `id` after its queued replies, on its loop, if it is still open then.
    func close(_ id: ConnectionID) {
        running?.group.withConnection(id) { $0.close() }
    }
}
