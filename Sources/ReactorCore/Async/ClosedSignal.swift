/// The end of a server's life as something a task can await: ``Server/stop()-8wftw`` fires it once everything is
/// joined, and every suspended waiter is resumed from the stopping thread. No thread waits on anything: a waiter is a
/// continuation in a dictionary until then.
final class ClosedSignal: Sendable {
    private struct State {
        var fired = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters cancelled before their continuation was registered (it is then resumed as it arrives).
        var cancelledEarly: Set<UInt64> = []
    }

    private let state = Lock(State())

    /// Marks the server closed and resumes every waiter. Later calls do nothing.
    func fire() {
        let waiters: [UInt64: CheckedContinuation<Void, Never>] = state.withLock { state in
            guard !state.fired else { return [:] }
            state.fired = true
            defer {
                state.waiters = [:]
                state.cancelledEarly = []
            }
            return state.waiters
        }
        // Resumed outside the lock: a resumed task may run at once and come back here.
        for waiter in waiters.values { waiter.resume() }
    }

    /// Suspends until ``fire()``, or returns at once if it has fired or if `hasStarted()` (asked under the signal's
    /// lock, so a stop cannot slip between the two looks) says there is nothing to wait for. With `cancellable`,
    /// cancelling the calling task resumes it early (at once if it is already cancelled); without, only ``fire()``
    /// does.
    func wait(cancellable: Bool, unlessNotStarted hasStarted: () -> Bool) async {
        let waiter: UInt64? = state.withLock { state in
            guard !state.fired, hasStarted() else { return nil }
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        guard let waiter else { return }
        guard cancellable else {
            await withCheckedContinuation { register(waiter, $0) }
            return
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { register(waiter, $0) }
        } onCancel: {
            cancel(waiter)
        }
    }

    /// Keeps `continuation` until ``fire()``; resumes it at once if that (or a cancellation of this waiter) came
    /// first.
    private func register(_ waiter: UInt64, _ continuation: CheckedContinuation<Void, Never>) {
        let resumeNow = state.withLock { state in
            if state.fired || state.cancelledEarly.remove(waiter) != nil { return true }
            state.waiters[waiter] = continuation
            return false
        }
        if resumeNow { continuation.resume() }
    }

    /// A cancelled waiter: resumed now if it was registered, else remembered so that ``register(_:_:)`` does not
    /// keep it.
    private func cancel(_ waiter: UInt64) {
        let continuation: CheckedContinuation<Void, Never>? = state.withLock { state in
            if let continuation = state.waiters.removeValue(forKey: waiter) { return continuation }
            if !state.fired { state.cancelledEarly.insert(waiter) }
            return nil
        }
        continuation?.resume()
    }
}
