import Dispatch
import Synchronization

extension SubReactor {
    /// A loop's counters, open connections and pool occupancy, taken on the loop thread.
    struct Snapshot: Sendable {
        var counters: LoopCounters
        var open: Int
        var pool: PoolStatistics
    }

    /// Asks the loop for a snapshot and waits for it (up to a second); nil if the loop did not answer in time.
    func snapshot() -> Snapshot? {
        let result = Lock<Snapshot?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            let snapshot = currentSnapshot
            result.withLock { $0 = snapshot }
            done.signal()
        }
        guard done.wait(timeout: .now() + .seconds(1)) == .success else { return nil }
        return result.withLock { $0 }
    }
}
