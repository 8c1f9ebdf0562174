import Logging
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The main reactor: owns the listening socket, accepts until `EAGAIN`, turns Nagle off and hands each
/// descriptor to a sub-reactor, round-robin.
///
/// When accept fails with `EMFILE`/`ENFILE` the listener is taken out of epoll for a short pause (a level-triggered
/// listener would otherwise report ready forever and spin the thread), existing connections keep being served,
/// and accepting resumes on its own.
final class Acceptor: @unchecked Sendable {
    private let loop: ReactorLoop
    let listener: CInt
    let localAddress: ReactorSocketAddress
    private let handOff: [(CInt) -> Void]
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
    /// Failed `accept4` calls (counted in the admission counter, where the loops' metrics read them too).
    var acceptErrors: Int { admission.acceptErrors.load(ordering: .relaxed) }
    /// Connections accepted and closed at once because `maxConnections` were already open (counted likewise).
    var rejectedCount: Int { admission.rejected.load(ordering: .relaxed) }

    static let listenerTag: UInt64 = 0
    static let exhaustionPauseNanoseconds: UInt64 = 100_000_000

    /// Binds and listens on `address`; nothing is accepted until ``start()``.
    init(
        address: ReactorSocketAddress, backlog: Int, maxConnections: Int, admission: AdmissionCounter,
        handOff: [(CInt) -> Void], logger: Logger
    ) throws(SystemError) {
        self.admission = admission
        self.maxConnections = maxConnections
        self.loop = try ReactorLoop(index: -1)
        self.handOff = handOff
        self.logger = logger
        var fd: CInt = -1
        do {
            fd = try Posix.socket(domain: address.family)
            try Posix.setOption(
                fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, label: "setsockopt(SO_REUSEADDR)")
            try Posix.bind(fd, to: address)
            try Posix.listen(fd, backlog: CInt(clamping: backlog))
            self.localAddress = try Posix.localAddress(fd)
            try loop.poller.add(fd, events: Epoll.readable, data: Self.listenerTag)
        } catch {
            if fd >= 0 { Posix.close(fd) }
            loop.closeDescriptors()
            throw error
        }
        self.listener = fd
    }

    /// Starts the accept thread.
    func start() throws(SystemError) {
        thread = try LoopThread(name: "reactor-accept") { [self] in run() }
    }

    /// Stops accepting, closes the listener and joins the thread.
    func stop() {
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
                    acceptAll()
                }
            }
        }
        Posix.close(listener)
        loop.closeDescriptors()
    }

    private func acceptAll() {
        while true {
            let fd: CInt
            do {
                guard case .processed(let accepted) = try Posix.accept(listener) else {
                    // EAGAIN: the kernel had a descriptor for us and nothing waits, so any shortage is over. (A
                    // successful accept alone does not say so: at the limit, every freed descriptor allows one.)
                    endExhaustionEpisode()
                    return
                }
                fd = accepted
            } catch {
                admission.acceptErrors.add(1, ordering: .relaxed)
                switch error.errno.rawValue {
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    pauseAccepting(error)
                    return
                default:
                    // ECONNABORTED, EPROTO, EPERM...: that one connection failed; keep going.
                    continue
                }
            }
            do {
                try Posix.setNoDelay(fd)
            } catch {
                // The peer is probably gone already (ECONNRESET/EINVAL): drop this one, keep accepting.
                Posix.close(fd)
                continue
            }
            if admission.open.load(ordering: .relaxed) >= maxConnections {
                // Over the limit: accepted and closed at once (the peer sees an orderly close), counted.
                Posix.close(fd)
                admission.rejected.add(1, ordering: .relaxed)
                continue
            }
            admission.open.add(1, ordering: .relaxed)
            handOff[next](fd)
            next += 1
            if next == handOff.count { next = 0 }
        }
    }

    private func pauseAccepting(_ error: SystemError) {
        do {
            try loop.poller.remove(listener)
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
            exhaustionStartErrors = acceptErrors
            logger.warning(
                "accept paused: out of descriptors or memory; existing connections are still served",
                metadata: ["reactor.error": "\(error)"])
        }
    }

    private func resumeAccepting() {
        pausedUntil = 0
        do {
            try loop.poller.add(listener, events: Epoll.readable, data: Self.listenerTag)
        } catch {
            pausedUntil = MonotonicClock.nanoseconds() + Self.exhaustionPauseNanoseconds
        }
    }

    /// Accepting found descriptors to spare: if it had been short of them, that episode is over.
    @inline(__always)
    private func endExhaustionEpisode() {
        guard exhaustionLogged else { return }
        exhaustionLogged = false
        let failed = acceptErrors - exhaustionStartErrors
        logger.notice("accept resumed", metadata: ["reactor.accept.failed_while_paused": "\(failed)"])
    }
}
