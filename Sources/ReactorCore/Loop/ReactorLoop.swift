import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One reactor thread: an epoll instance, an eventfd wakeup, a cross-thread task queue and a timer heap.
///
/// Everything a loop owns (its connections, buffers, handler copy, timers) is touched only on its thread. Other
/// threads reach it only through ``execute(_:)`` (and ``LoopTimer``, which posts through it).
public final class ReactorLoop: @unchecked Sendable {
    /// The loop's position among the server's sub-reactors (the main reactor uses -1).
    public let index: Int
    let poller: Poller
    let tasks: TaskQueue
    private let threadID = Atomic<UInt>(0)
    /// Scheduled ``LoopTimer``s (retained while scheduled). Loop thread only.
    @exclusivity(unchecked) private var timers = TimerHeap<LoopTimer>(retainsElements: true)
    /// False once the loop has run for the last time: timers scheduled after that are dropped, not kept forever.
    @exclusivity(unchecked) private var acceptsTimers = true

    /// The epoll tag reserved for the wakeup eventfd (no connection has generation `UInt32.max` and fd -1).
    static let wakeupTag: UInt64 = .max

    init(index: Int) throws(SystemError) {
        self.index = index
        self.poller = try Poller()
        do {
            self.tasks = try TaskQueue()
            try poller.add(tasks.eventFD, events: Epoll.readable, data: Self.wakeupTag)
        } catch {
            poller.close()
            throw error
        }
    }

    /// Runs `task` on this loop's thread, soon. Safe to call from any thread. Returns false (and drops `task`) once
    /// the loop has stopped for good.
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        tasks.post(task)
    }

    /// True when called on this loop's thread.
    public var inEventLoop: Bool {
        threadID.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// Records the calling thread as the loop's thread; called first thing on the loop thread.
    func bindToCurrentThread() {
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
    }

    // MARK: Timers (loop thread only)

    func schedule(_ timer: LoopTimer, at deadline: UInt64) {
        guard acceptsTimers else { return }
        timers.schedule(timer, at: deadline)
    }

    func unschedule(_ timer: LoopTimer) {
        timers.cancel(timer)
    }

    /// The earliest timer deadline, if any.
    @inline(__always)
    var nextTimerDeadline: UInt64? { timers.nextDeadline }

    /// Runs every timer due at `now`; returns whether any ran. A timer that reschedules itself for "now" runs again
    /// on the next iteration, after I/O, not in a loop here: at most as many timers run as were scheduled.
    @inline(__always)
    func runExpiredTimers(now: UInt64) -> Bool {
        guard let deadline = timers.nextDeadline, deadline <= now else { return false }
        var budget = timers.count
        while budget > 0, let timer = timers.popExpired(now: now) {
            budget -= 1
            timer.fire()
        }
        return true
    }

    /// Drops every scheduled timer and refuses new ones; called when the loop runs for the last time.
    func stopTimers() {
        acceptsTimers = false
        timers.removeAll()
    }

    /// Drops the timers and releases the epoll and eventfd descriptors; the loop thread must have finished.
    func closeDescriptors() {
        stopTimers()
        tasks.close()
        poller.close()
    }
}
