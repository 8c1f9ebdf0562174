import Synchronization

/// Work posted to a loop from other threads, woken through the loop's eventfd.
///
/// Posting takes a short lock; the loop swaps the whole batch out under the lock and runs it outside, so the lock is
/// never held while a task runs. Wakeups are coalesced: the eventfd is written only when no wakeup is already
/// pending, so a busy loop is not woken once per task (gnet's CAS-before-write rule).
final class TaskQueue: Sendable {
    /// A unit of cross-thread work.
    typealias Task = @Sendable () -> Void

    private struct State {
        var tasks: [Task] = []
        /// Set by ``close()``: the eventfd is gone and posts are refused.
        var closed = false
    }

    private let state = Lock(State())
    private let wakeupPending = Atomic<Bool>(false)
    /// The eventfd the owning loop's epoll watches.
    let eventFD: CInt

    init() throws(SystemError) {
        self.eventFD = try EventFD.create()
    }

    /// Posts `task` and wakes the loop if it is not already being woken. Returns false, dropping the task (and
    /// what it captured), once the queue is closed: the loop has stopped for good.
    ///
    /// The signal is written under the lock, so it can never reach a closed eventfd (or a descriptor that reused
    /// its number). The lock is held for one short `write` only when no wakeup is pending (coalesced).
    @discardableResult
    func post(_ task: @escaping Task) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.tasks.append(task)
            signalIfNeeded()
            return true
        }
    }

    /// Wakes the loop (coalesced); a no-op once closed.
    func wake() {
        state.withLock { state in
            if !state.closed { signalIfNeeded() }
        }
    }

    private func signalIfNeeded() {
        if !wakeupPending.exchange(true, ordering: .sequentiallyConsistent) {
            // EAGAIN (counter saturated) still leaves the eventfd readable, which is all we need.
            try? EventFD.signal(eventFD)
        }
    }

    /// Loop side: consumes the eventfd, clears the wakeup flag, then moves every posted task into `batch` (which
    /// should be empty).
    ///
    /// The order matters. A poster appends, then sets the flag, then signals. If its flag update comes after our
    /// clear, it signals and the loop wakes again; if it comes before, its task was appended before our swap and is
    /// taken now. Clearing the flag *before* draining would let a signal be drained while the flag stays set with
    /// no wakeup pending, and every later post would then skip the signal: a lost wakeup.
    func takeAll(into batch: inout [Task]) {
        try? EventFD.drain(eventFD)
        wakeupPending.store(false, ordering: .sequentiallyConsistent)
        state.withLock { swap(&$0.tasks, &batch) }
    }

    /// After the loop thread has exited (its eventfd may be closed already): moves whatever was posted too late into
    /// `batch`, so the caller can run it and no task (and the references it captured) is left behind.
    func takeRemaining(into batch: inout [Task]) {
        state.withLock { swap(&$0.tasks, &batch) }
    }

    /// Refuses further posts and closes the eventfd. Call once, after the loop stopped.
    func close() {
        state.withLock { state in
            state.closed = true
            Posix.close(eventFD)
        }
    }
}
