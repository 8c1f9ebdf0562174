import Logging
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Accept counters, shared by whoever accepts: the acceptor thread, or every loop in reuse-port mode. Written once
/// per failed or refused accept, never per message.
final class AcceptCounters: Sendable {
    /// `accept4` failures (`EMFILE`, `ECONNABORTED`, ...).
    let errors = Atomic<Int>(0)
    /// Connections accepted and closed at once because `maxConnections` were already open.
    let rejected = Atomic<Int>(0)
}

/// A loop's own listening sockets, in reuse-port mode (``ServerConfiguration/reusePort``): one `SO_REUSEPORT` socket
/// per address per loop, so that the kernel spreads new connections over the loops and each loop accepts its own,
/// with no acceptor thread in between (as nginx's `reuseport`, gnet and Netty's epoll transport do).
struct LoopListening {
    /// The listening descriptors; listener `i` has the epoll tag ``ReactorLoop/listenerTag(_:)``.
    var descriptors: [CInt] = []
    var maxConnections = Int.max
    var counters = AcceptCounters()
    /// While out of descriptors: the listeners are out of epoll until this timer puts them back.
    var pause: LoopTimer?
}

extension ReactorLoop {
    /// The lowest epoll tag reserved for the loop's own descriptors: the wakeup eventfd and the listeners. No
    /// connection's tag reaches it (a connection's low 32 bits are its descriptor, never above `Int32.max`).
    static let reservedTagFloor: UInt64 = .max - 256

    /// The epoll tag of listener `index` (below 255).
    static func listenerTag(_ index: Int) -> UInt64 { wakeupTag - 1 - UInt64(index) }
}

extension SubReactor {
    /// Takes the listening descriptors `descriptors` (bound and listening, non-blocking) and accepts on them from
    /// now on. Before the loop starts, or on the loop.
    func listen(on descriptors: [CInt], maxConnections: Int, counters: AcceptCounters) throws(SystemError) {
        precondition(descriptors.count < 255, "too many listeners for one loop")
        // Owned from here on, registered or not: closeListening() closes them all.
        listening = LoopListening(descriptors: descriptors, maxConnections: maxConnections, counters: counters)
        for (index, fd) in descriptors.enumerated() {
            try loop.poller.add(fd, events: Epoll.readable, data: ReactorLoop.listenerTag(index))
        }
    }

    /// Accepts every connection waiting on listener `index` and registers it here. On the loop.
    func acceptReady(_ index: Int) {
        guard case .running = state, listening.pause == nil, index < listening.descriptors.count else { return }
        let listener = listening.descriptors[index]
        while true {
            let fd: CInt
            do {
                guard case .processed(let accepted) = try Posix.accept(listener) else { return }
                fd = accepted
            } catch {
                listening.counters.errors.add(1, ordering: .relaxed)
                // A failure of that one connection: keep going. Anything else (out of descriptors or memory, a
                // broken listener) would fail again at once: pause instead of spinning the thread.
                guard Posix.acceptFailureIsPerConnection(error.errno.rawValue) else {
                    pauseListening(error)
                    return
                }
                continue
            }
            do {
                try Posix.setNoDelay(fd)
            } catch {
                Posix.close(fd)  // the peer is probably gone already
                continue
            }
            if admission.open.load(ordering: .relaxed) >= listening.maxConnections {
                Posix.close(fd)
                listening.counters.rejected.add(1, ordering: .relaxed)
                continue
            }
            admission.open.add(1, ordering: .relaxed)
            assigned.open.add(1, ordering: .relaxed)
            register(fd, connecting: false)
        }
    }

    /// Out of descriptors or memory: the listeners leave epoll (a level-triggered listener would report ready
    /// forever) for ``Acceptor/exhaustionPauseNanoseconds``; connections already open are served meanwhile.
    private func pauseListening(_ error: SystemError) {
        for fd in listening.descriptors { try? loop.poller.remove(fd) }
        closeLog.record(.ioError(error), id: ConnectionID(loop: loop.index, fd: -1, generation: 0))
        let pause = LoopTimer(on: loop) { [self] in
            listening.pause = nil
            guard case .running = state else { return }
            for (index, fd) in listening.descriptors.enumerated() {
                try? loop.poller.add(fd, events: Epoll.readable, data: ReactorLoop.listenerTag(index))
            }
        }
        listening.pause = pause
        pause.schedule(after: .nanoseconds(Int64(Acceptor.exhaustionPauseNanoseconds)))
    }

    /// Stops accepting: the listeners are closed (the kernel resets connections still in their backlogs). On the
    /// loop, or after it has stopped.
    func closeListening() {
        listening.pause?.cancel()
        listening.pause = nil
        for fd in listening.descriptors {
            try? loop.poller.remove(fd)
            Posix.close(fd)
        }
        listening.descriptors = []
    }
}
