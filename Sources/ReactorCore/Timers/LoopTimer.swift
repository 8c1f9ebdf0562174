/// A timer on one ``ReactorLoop``: runs its action on the loop's thread once its deadline passes.
///
/// Create it once and (re)schedule it as often as needed: on the loop's own thread, ``schedule(after:)`` and
/// ``cancel()`` allocate nothing (the loop keeps timers in an intrusive heap and sleeps in `epoll_wait` exactly
/// until the earliest one). From another thread they post a task to the loop.
///
/// ```swift
/// // In a handler: close a connection that has not authenticated within 5 s.
/// let timer = LoopTimer(on: connection.eventLoop) { server.close(id) }
/// timer.schedule(after: .seconds(5))
/// ```
///
/// A scheduled timer is kept alive by its loop until it fires or is cancelled. A timer scheduled on a loop that
/// has stopped never fires. A ``cancel()`` from another thread is asynchronous: if the deadline passes before the
/// loop runs the cancellation, the action still runs once.
public final class LoopTimer: TimerHeapElement, @unchecked Sendable {
    /// The loop whose thread runs the action.
    public let eventLoop: ReactorLoop
    private let action: @Sendable () -> Void
    var timerDeadline: UInt64 = 0
    var timerIndex = -1

    /// Creates an unscheduled timer that runs `action` on `eventLoop`'s thread.
    public init(on eventLoop: ReactorLoop, _ action: @escaping @Sendable () -> Void) {
        self.eventLoop = eventLoop
        self.action = action
    }

    /// Schedules the timer `delay` from now, replacing any earlier schedule. Any thread.
    public func schedule(after delay: Duration) {
        let deadline = MonotonicClock.nanoseconds() &+ min(MonotonicClock.nanoseconds(of: delay), UInt64.max / 2)
        if eventLoop.inEventLoop {
            eventLoop.schedule(self, at: deadline)
        } else {
            eventLoop.execute { [self] in eventLoop.schedule(self, at: deadline) }
        }
    }

    /// Unschedules the timer; a no-op if it is not scheduled. Any thread.
    public func cancel() {
        if eventLoop.inEventLoop {
            eventLoop.unschedule(self)
        } else {
            eventLoop.execute { [self] in eventLoop.unschedule(self) }
        }
    }

    /// True while the timer is waiting for its deadline. Only meaningful on the loop's thread.
    public var isScheduled: Bool { timerIndex >= 0 }

    func fire() { action() }
}

extension ReactorLoop {
    /// Runs `task` on this loop's thread after `delay`; the returned timer can cancel it. Any thread.
    ///
    /// Allocates a timer per call: for something rescheduled often, keep one ``LoopTimer`` and reschedule it.
    @discardableResult
    public func schedule(after delay: Duration, _ task: @escaping @Sendable () -> Void) -> LoopTimer {
        let timer = LoopTimer(on: self, task)
        timer.schedule(after: delay)
        return timer
    }
}
