extension ReactorGroup {
    /// Counters summed over the loops, each taken on its own thread, without blocking the caller's thread: every loop
    /// is sent a task that takes its snapshot and hands it to a ``SnapshotGathering``, which resumes the caller once
    /// all have answered, at `timeout`, or when the calling task is cancelled, whichever comes first. A loop that
    /// has not answered by then is left out (as the blocking ``statistics()`` leaves out a loop silent for a second).
    func statistics(timeout: Duration) async -> ReactorStatistics {
        let gathering = SnapshotGathering<Handler>(loops: reactors.count)
        let snapshots = await withTaskGroup(of: Void.self) { deadline in
            deadline.addTask {
                // Cancelled once every loop answered; throws at once if the calling task is cancelled.
                try? await Task.sleep(for: timeout)
                gathering.finish()
            }
            let snapshots = await gathering.wait { [reactors] in
                for (index, reactor) in reactors.enumerated() {
                    // Run on the loop (or, posted just as the loop exits, by the thread that joins it).
                    let posted = reactor.loop.execute { gathering.answer(index, reactor.currentSnapshot) }
                    if !posted { gathering.answer(index, nil) }  // the loop has stopped for good
                }
            }
            deadline.cancelAll()
            return snapshots
        }
        var statistics = ReactorStatistics()
        for snapshot in snapshots {
            statistics.add(snapshot.counters, open: snapshot.open, pool: snapshot.pool)
        }
        return statistics
    }
}

extension SubReactor {
    /// This loop's counters, open connections and pool occupancy now. On the loop thread (or after it exited).
    var currentSnapshot: Snapshot {
        Snapshot(counters: io.counters, open: table.count, pool: io.pool.statistics)
    }
}

/// The answers of a group's loops to one asynchronous ``ReactorGroup/statistics(timeout:)`` call, gathered under a
/// lock; the waiting task is resumed exactly once, by the last loop to answer or by ``finish()``, whichever is
/// first. Answers after that are dropped.
final class SnapshotGathering<Handler: StreamHandler>: Sendable {
    typealias Snapshot = SubReactor<Handler>.Snapshot

    private struct State {
        var snapshots: [Snapshot?]
        var missing: Int
        var finished = false
        var continuation: CheckedContinuation<[Snapshot], Never>?
    }

    private let state: Lock<State>

    init(loops: Int) {
        state = Lock(State(snapshots: Array(repeating: nil, count: loops), missing: loops))
    }

    /// Registers the caller, then runs `ask` (which sends the loops their tasks), and suspends until every loop
    /// answered or ``finish()`` was called; returns the snapshots received, in loop order.
    func wait(asking ask: () -> Void) async -> [Snapshot] {
        await withCheckedContinuation { continuation in
            let done: [Snapshot]? = state.withLock { state in
                if state.finished { return state.snapshots.compactMap { $0 } }
                state.continuation = continuation
                return nil
            }
            if let done {
                continuation.resume(returning: done)
                return
            }
            ask()
        }
    }

    /// Loop `index`'s snapshot (nil: it could not answer). Any thread.
    func answer(_ index: Int, _ snapshot: Snapshot?) {
        resume { state in
            guard state.snapshots.indices.contains(index) else { return false }
            state.snapshots[index] = snapshot
            state.missing -= 1
            return state.missing == 0
        }
    }

    /// Stops waiting: resumes the caller with what has arrived. Any thread; a no-op once resumed.
    func finish() {
        resume { _ in true }
    }

    /// Applies `update` under the lock and, if it says the gathering is complete and the caller is waiting,
    /// resumes it (outside the lock) with the snapshots received.
    private func resume(_ update: (inout State) -> Bool) {
        let resumption: (CheckedContinuation<[Snapshot], Never>, [Snapshot])? = state.withLock { state in
            guard !state.finished, update(&state) else { return nil }
            state.finished = true
            guard let continuation = state.continuation else { return nil }  // not waiting yet: `wait` sees it
            state.continuation = nil
            return (continuation, state.snapshots.compactMap { $0 })
        }
        if let (continuation, snapshots) = resumption { continuation.resume(returning: snapshots) }
    }
}
