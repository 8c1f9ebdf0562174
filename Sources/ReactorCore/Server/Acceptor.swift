import Logging
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The main reactor: owns the listening sockets (one per configured address: TCP over IPv4 or IPv6, or a
/// Unix-domain stream socket), accepts until `EAGAIN`, turns Nagle off on TCP connections and hands each descriptor
/// to a sub-reactor, round-robin or to the one with the fewest connections (``ServerConfiguration/Balancing``).
///
/// When accept fails with `EMFILE`/`ENFILE` the listeners are taken out of epoll for a short pause (a level-triggered
/// listener would otherwise report ready forever and spin the thread), existing connections keep being served,
/// and accepting resumes on its own. A Unix-domain socket's file is removed when the acceptor stops.
final class Acceptor: @unchecked Sendable {
    /// One listening socket; its epoll tag is its index in ``listeners``.
    struct Listener {
        let fd: CInt
        let localAddress: ReactorSocketAddress
        /// TCP (Nagle is turned off on its connections); false for a Unix-domain socket.
        let isTCP: Bool
    }

    private let loop: ReactorLoop
    let listeners: [Listener]
    /// The first listener's address.
    var localAddress: ReactorSocketAddress { listeners[0].localAddress }
    private let handOff: [(CInt) -> Void]
    /// Connections handed to each loop and not yet closed (the loop subtracts its own).
    private let assigned: [AdmissionCounter]
    private let balancing: ServerConfiguration.Balancing
    private let admission: AdmissionCounter
    private let maxConnections: Int
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private var thread: LoopThread?
    private var next = 0
    private var pausedUntil: UInt64 = 0
    private var exhaustionLogged = false
    /// `acceptErrors` when the current exhaustion episode began.
    private var exhaustionStartErrors = 0
    /// Failed and refused accepts, here or (reuse-port mode) on the loops.
    let counters = AcceptCounters()
    /// Reuse-port mode: the listeners of each loop (the acceptor runs no thread, and each loop accepts on its own;
    /// ``listeners`` are loop 0's). Empty otherwise.
    let loopDescriptors: [[CInt]]
    /// Reuse-port mode: asks loop `i` to close its listeners (posted to the loop).
    private let closeLoopListeners: [() -> Void]

    static let exhaustionPauseNanoseconds: UInt64 = 100_000_000

    /// Binds and listens on every address of `addresses` (at least one); nothing is accepted until ``start()``.
    /// `handOff[i]` gives a descriptor to loop `i`, whose count of open connections is `assigned[i]`. A Unix-domain
    /// path whose file is a socket nobody listens on (left by a process that did not stop cleanly) is removed
    /// first; anything else there makes the bind fail (`EADDRINUSE`).
    init(
        addresses: [ReactorSocketAddress], backlog: Int, maxConnections: Int, admission: AdmissionCounter,
        handOff: [(CInt) -> Void], assigned: [AdmissionCounter], balancing: ServerConfiguration.Balancing,
        logger: Logger
    ) throws(SystemError) {
        precondition(!addresses.isEmpty && handOff.count == assigned.count, "an acceptor needs addresses and loops")
        self.admission = admission
        self.maxConnections = maxConnections
        self.loop = try ReactorLoop(index: -1)
        self.handOff = handOff
        self.assigned = assigned
        self.balancing = balancing
        self.logger = logger
        self.loopDescriptors = []
        self.closeLoopListeners = []
        var listeners: [Listener] = []
        do {
            for address in addresses {
                listeners.append(try Self.listen(on: address, backlog: backlog))
                try loop.poller.add(
                    listeners[listeners.count - 1].fd, events: Epoll.readable, data: UInt64(listeners.count - 1))
            }
        } catch {
            Self.close(listeners)
            loop.closeDescriptors()
            throw error
        }
        self.listeners = listeners
    }

    /// Reuse-port mode: binds `loops` sockets with `SO_REUSEPORT` on every address of `addresses` (TCP only; a port
    /// of 0 is picked by the first and reused by the others) and hands them to the loops, which accept on their own;
    /// the acceptor runs no thread and only closes them (through `closeLoopListeners[i]`, on loop `i`) when it stops.
    init(
        reusePortOn addresses: [ReactorSocketAddress], loops: Int, backlog: Int, admission: AdmissionCounter,
        closeLoopListeners: [() -> Void], logger: Logger
    ) throws(SystemError) {
        precondition(!addresses.isEmpty && closeLoopListeners.count == loops, "reuse-port needs addresses and loops")
        self.admission = admission
        self.maxConnections = .max
        self.loop = try ReactorLoop(index: -1)
        self.handOff = []
        self.assigned = []
        self.balancing = .roundRobin
        self.logger = logger
        self.closeLoopListeners = closeLoopListeners
        var perLoop = [[Listener]](repeating: [], count: loops)
        do {
            for address in addresses {
                var bound = address
                for index in 0..<loops {
                    let listener = try Self.listen(on: bound, backlog: backlog, reusePort: true)
                    perLoop[index].append(listener)
                    bound = listener.localAddress  // the port the first one got
                }
            }
        } catch {
            for listeners in perLoop { Self.close(listeners) }
            loop.closeDescriptors()
            throw error
        }
        self.listeners = perLoop[0]
        self.loopDescriptors = perLoop.map { $0.map(\.fd) }
    }

    private static func listen(
        on address: ReactorSocketAddress, backlog: Int, reusePort: Bool = false
    ) throws(SystemError) -> Listener {
        var fd: CInt = -1
        do {
            fd = try Posix.socket(domain: address.family)
            if address.unixPath != nil {
                Posix.removeStaleSocket(at: address)
            } else {
                try Posix.setOption(
                    fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, label: "setsockopt(SO_REUSEADDR)")
                if reusePort {
                    try Posix.setOption(
                        fd, level: SOL_SOCKET, name: SO_REUSEPORT, value: 1, label: "setsockopt(SO_REUSEPORT)")
                }
            }
            try Posix.bind(fd, to: address)
            try Posix.listen(fd, backlog: CInt(clamping: backlog))
            let local = address.unixPath != nil ? address : try Posix.localAddress(fd)
            return Listener(fd: fd, localAddress: local, isTCP: address.unixPath == nil)
        } catch {
            if fd >= 0 { Posix.close(fd) }
            throw error
        }
    }

    /// Closes the listeners and removes the files of the Unix-domain ones.
    private static func close(_ listeners: [Listener]) {
        for listener in listeners {
            Posix.close(listener.fd)
            if let path = listener.localAddress.unixPath { unlink(path) }
        }
    }

    /// Starts the accept thread (none in reuse-port mode: the loops accept).
    func start() throws(SystemError) {
        guard loopDescriptors.isEmpty else { return }
        thread = try LoopThread(name: "reactor-accept") { [self] in run() }
    }

    /// Stops accepting: closes the listeners (in reuse-port mode, asks each loop to close its own) and joins the
    /// thread.
    func stop() {
        guard loopDescriptors.isEmpty else {
            if !stopping.exchange(true, ordering: .acquiringAndReleasing) {
                for close in closeLoopListeners { close() }
                for listener in listeners where listener.localAddress.unixPath != nil {
                    unlink(listener.localAddress.unixPath!)
                }
                loop.closeDescriptors()
            }
            return
        }
        stopping.store(true, ordering: .releasing)
        loop.tasks.wake()
        thread?.join()
        thread = nil
    }

    private func run() {
        loop.bindToCurrentThread()
        let poller = loop.poller
        var batch: [TaskQueue.Task] = []
        while !stopping.load(ordering: .acquiring) {
            let timeout: CInt = pausedUntil == 0 ? -1 : MonotonicClock.millisecondsUntil(pausedUntil)
            let count: Int
            do {
                count = try poller.wait(timeoutMilliseconds: timeout)
            } catch {
                // Only EINVAL/ENOMEM remain here, neither caused by a peer: back off instead of spinning.
                usleep(1000)
                continue
            }
            if pausedUntil != 0 && MonotonicClock.nanoseconds() >= pausedUntil { resumeAccepting() }
            for index in 0..<count {
                if poller.data(at: index) == ReactorLoop.wakeupTag {
                    loop.tasks.takeAll(into: &batch)
                    batch.removeAll(keepingCapacity: true)
                } else if pausedUntil == 0 {
                    acceptAll(listeners[Int(poller.data(at: index))])
                }
            }
        }
        Self.close(listeners)
        loop.closeDescriptors()
    }

    private func acceptAll(_ listener: Listener) {
        while true {
            let fd: CInt
            do {
                guard case .processed(let accepted) = try Posix.accept(listener.fd) else {
                    // EAGAIN: the kernel had a descriptor for us and nothing waits, so any shortage is over. (A
                    // successful accept alone does not say so: at the limit, every freed descriptor allows one.)
                    endExhaustionEpisode()
                    return
                }
                fd = accepted
            } catch {
                counters.errors.add(1, ordering: .relaxed)
                // A failure of that one connection: keep going. Anything else (out of descriptors or memory, a
                // broken listener) would fail again at once: pause instead of spinning the thread.
                guard Posix.acceptFailureIsPerConnection(error.errno.rawValue) else {
                    pauseAccepting(error)
                    return
                }
                continue
            }
            do {
                if listener.isTCP { try Posix.setNoDelay(fd) }
            } catch {
                // The peer is probably gone already (ECONNRESET/EINVAL): drop this one, keep accepting.
                Posix.close(fd)
                continue
            }
            if admission.open.load(ordering: .relaxed) >= maxConnections {
                // Over the limit: accepted and closed at once (the peer sees an orderly close), counted.
                Posix.close(fd)
                counters.rejected.add(1, ordering: .relaxed)
                continue
            }
            admission.open.add(1, ordering: .relaxed)
            let target = nextLoop()
            assigned[target].open.add(1, ordering: .relaxed)
            handOff[target](fd)
        }
    }

    /// The loop the next connection goes to.
    @inline(__always)
    private func nextLoop() -> Int {
        switch balancing {
        case .roundRobin:
            let target = next
            next = next + 1 == handOff.count ? 0 : next + 1
            return target
        case .leastConnections:
            // The fewest open connections; ties go round-robin from the last choice, so an idle server spreads new
            // connections over every loop.
            var best = -1
            var fewest = Int.max
            for offset in 0..<assigned.count {
                let index = (next + offset) % assigned.count
                let open = assigned[index].open.load(ordering: .relaxed)
                if open < fewest {
                    fewest = open
                    best = index
                }
            }
            next = best + 1 == handOff.count ? 0 : best + 1
            return best
        }
    }

    private func pauseAccepting(_ error: SystemError) {
        do {
            for listener in listeners { try loop.poller.remove(listener.fd) }
        } catch {
            // The listener stays registered (and ready): waiting in epoll would spin for the whole pause, so wait
            // here instead. Nothing else runs on this thread; a stop request is seen right after.
            usleep(useconds_t(Self.exhaustionPauseNanoseconds / 1000))
            return
        }
        pausedUntil = MonotonicClock.nanoseconds() + Self.exhaustionPauseNanoseconds
        if !exhaustionLogged {
            // Once per episode: it ends when an accept finds descriptors to spare (and says so).
            exhaustionLogged = true
            exhaustionStartErrors = counters.errors.load(ordering: .relaxed)
            logger.warning(
                "accept paused (out of descriptors or memory, or a listener failing); existing connections are still served",
                metadata: ["reactor.error": "\(error)"])
        }
    }

    private func resumeAccepting() {
        pausedUntil = 0
        do {
            for (index, listener) in listeners.enumerated() {
                do {
                    try loop.poller.add(listener.fd, events: Epoll.readable, data: UInt64(index))
                } catch  where error.errno.rawValue == EEXIST {
                    continue  // still registered: a pause whose removals failed part way
                }
            }
        } catch {
            pausedUntil = MonotonicClock.nanoseconds() + Self.exhaustionPauseNanoseconds
        }
    }

    /// Accepting found descriptors to spare: if it had been short of them, that episode is over.
    @inline(__always)
    private func endExhaustionEpisode() {
        guard exhaustionLogged else { return }
        exhaustionLogged = false
        let failed = counters.errors.load(ordering: .relaxed) - exhaustionStartErrors
        logger.notice("accept resumed", metadata: ["reactor.accept.failed_while_paused": "\(failed)"])
    }
}
