import Synchronization

/// Work posted to a loop from other threads, woken through the loop's eventfd.
///
/// Posting takes a short lock; the loop swaps the whole batch out under the lock and runs it outside, so the lock is
/// never held while a task runs. Wakeups are coalesced: the eventfd is written only when no wakeup is already
/// pending, so a busy loop is not woken once per task (gnet's CAS-before-write rule).
final class TaskQueue: Sendable {
    /// A unit of cross-thread work.
    typealias Task = @Sendable () -> Void

    private let pending = Mutex<[Task]>([])
    private let wakeupPending = Atomic<Bool>(false)
    /// The eventfd the owning loop's epoll watches.
    let eventFD: CInt

    init() throws(SystemError) {
        self.eventFD = try EventFD.create()
    }

    /// Posts `task` and wakes the loop if it is not already being woken.
    func post(_ task: @escaping Task) {
        pending.withLock { $0.append(task) }
        wake()
    }

    /// Wakes the loop (coalesced).
    func wake() {
        if !wakeupPending.exchange(true, ordering: .acquiringAndReleasing) {
            // EAGAIN (counter saturated) still leaves the eventfd readable, which is all we need.
            try? EventFD.signal(eventFD)
        }
    }

    /// Loop side: clears the wakeup, then moves every posted task into `batch` (which should be empty).
    /// A task posted after the flag is cleared signals again, so none is ever left behind.
    func takeAll(into batch: inout [Task]) {
        wakeupPending.store(false, ordering: .releasing)
        try? EventFD.drain(eventFD)
        pending.withLock { swap(&$0, &batch) }
    }

    /// Closes the eventfd. Call once, after the loop stopped.
    func close() {
        Posix.close(eventFD)
    }
}
