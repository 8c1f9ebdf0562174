#if canImport(Glibc)
    import Glibc
#endif

/// The lock of one keyspace shard: a pthread mutex.
///
/// Not `Synchronization.Mutex`: on Linux that is built on raw futexes, which ThreadSanitizer cannot see, so every
/// access under it is reported as a race (as ReactorCore's own lock explains). A pthread mutex is intercepted by
/// TSan and costs the same uncontended.
final class ShardLock: @unchecked Sendable {
    // Invariant: initialised in init, destroyed in deinit.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let result = pthread_mutex_init(mutex, nil)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    func withLock<Result>(_ body: () -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
