/// The `async` edges of a server: run it as a task, stop it, wait for it and read its counters without parking a
/// thread of Swift concurrency's cooperative pool.
///
/// Nothing here is on the I/O path: the loops run on their own threads as they always do, and these methods only
/// start, stop and ask them. The one blocking step (draining and joining the loop threads) runs on a short-lived
/// thread of its own; everything else suspends the caller on a continuation that a loop or the stopping thread
/// resumes.
extension Server {
    /// Starts the server (unless it has started already), serves until the calling task is cancelled or the server
    /// is stopped by any other means (``stop()-8wftw``, ``stop()-8pt9t``, ``beginStop()``), and returns once it has stopped
    /// gracefully: accepting stopped, every frame already received answered, every reply flushed, every connection
    /// closed (whatever is left at ``ServerConfiguration/drainTimeout`` is closed anyway), every thread joined.
    ///
    /// ```swift
    /// let server = Server(configuration: .init(port: 8080), handler: Echo())
    /// let serving = Task { try await server.run() }
    /// // ...
    /// serving.cancel()               // a graceful stop; `run()` returns when it is complete
    /// try await serving.value
    /// ```
    ///
    /// Cancellation is the way to stop it: cancelling the task begins the graceful stop (as ``beginStop()``) and
    /// `run()` returns when the drain is done, normally, not with a `CancellationError`. A task cancelled before it
    /// calls `run()` does not start the server (it returns at once, or, if the server was started with ``start()``,
    /// stops it). If the server has stopped already, returns at once.
    ///
    /// While it waits no thread is blocked: the task is suspended on a continuation that the stopping thread
    /// resumes. Do not call `run()` and ``start()`` concurrently (a second start is a programming error, as two
    /// calls to ``start()`` are); several tasks may `run()` a server that one of them started.
    ///
    /// - Throws: what ``start()`` throws (a ``SystemError`` when the address cannot be bound); nothing once serving.
    public func run() async throws {
        if !Task.isCancelled && !lifecycle.hasStarted {
            try start()
        }
        await withTaskCancellationHandler {
            await closedSignal.wait(cancellable: false) { lifecycle.hasStarted }
        } onCancel: {
            beginStop()
        }
    }

    /// Stops gracefully, as ``stop()-8wftw`` does, without blocking the calling thread: the drain and the joins run on a
    /// short-lived thread of their own (a plain pthread, not one of the cooperative pool's, not a Dispatch worker)
    /// and the calling task is suspended until that thread resumes it. Returns when the server has stopped, and
    /// from then on no descriptor or thread of the server is left (the helper thread ends right after resuming
    /// the caller). Takes up to ``ServerConfiguration/drainTimeout`` (connections still open or lingering then are
    /// closed), as ``stop()-8wftw`` does.
    ///
    /// Not cancellable: a stop cannot be undone, so cancelling the calling task does not cut the drain short; it
    /// still returns when the stop is complete. Safe to call more than once and concurrently (every call returns
    /// when the one stop is complete), and before start (returns at once).
    ///
    /// The synchronous ``stop()-8wftw`` stays for synchronous callers (a `main` that is not `async`, a signal-waiting
    /// thread): it blocks its thread for the whole drain, which on a thread of the cooperative pool would hold up
    /// every other task scheduled there.
    public func stop() async {
        await withCheckedContinuation { (stopped: CheckedContinuation<Void, Never>) in
            DetachedThread.run(name: "server-stop") { [self] in
                stop()
                stopped.resume()
            }
        }
    }

    /// Begins a graceful stop and returns at once; ``waitUntilClosed()-2oa88`` (or ``run()``) returns when it is
    /// complete. The stop runs on a short-lived thread of its own, so this may be called from any thread, including
    /// one of the server's own loops (a handler that stops the server on a command), where ``stop()-8wftw`` is not
    /// allowed. A no-op before start and once stopping.
    public func beginStop() {
        DetachedThread.run(name: "server-stop") { [self] in stop() }
    }

    /// Suspends until the server has stopped (returns at once if it never started or has stopped already), without
    /// blocking a thread: the task waits on a continuation that ``stop()-8wftw`` resumes once everything is joined.
    /// Cancelling the calling task makes it return early (the server keeps running); ``run()`` is the form that
    /// stops the server on cancellation.
    public func waitUntilClosed() async {
        await closedSignal.wait(cancellable: true) { lifecycle.hasStarted }
    }

    /// A snapshot of the counters, as ``statistics()-1bawm`` takes it, without blocking the calling thread: each loop
    /// takes its own snapshot on its thread when it runs the task this sends it, and the calling task is resumed
    /// when the last loop has answered. Waits at most one second in all (the loops are asked at once, not in turn);
    /// a loop that has not answered by then is left out of the sums. After a stop it returns the final figures at
    /// once, before start zeros.
    public func statistics() async -> ReactorStatistics {
        await statistics(timeout: .seconds(1))
    }

    /// ``statistics()-7olld`` with a bound of your own on the wait: `timeout` from the call, or until the calling
    /// task is cancelled, whichever is sooner; loops that have not answered by then are left out of the sums.
    /// Never blocks a thread.
    public func statistics(timeout: Duration) async -> ReactorStatistics {
        await lifecycle.statistics(timeout: timeout)
    }
}
