#if canImport(Glibc)
    import Glibc
#endif

/// A value guarded by a pthread mutex, for the few cross-thread paths (task posting, lifecycle, snapshots); never
/// taken on the I/O path. Package-wide: the Redis store's shard locks are these too.
///
/// Not `Synchronization.Mutex`: on Linux that is built on raw futexes, which ThreadSanitizer cannot see, so every
/// access under it is reported as a race. A pthread mutex is intercepted by TSan and costs the same uncontended.
package final class Lock<Value>: @unchecked Sendable {
    // Invariant: `mutex` is initialised in init and destroyed in deinit; `value` is only touched while it is held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    package init(_ value: Value) {
        self.value = value
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

    /// Runs `body` holding the lock, without touching the value (a lock that guards something else: the Redis
    /// store's shards). Not through the `inout` overload: with `Value == Void` ThreadSanitizer reports the empty
    /// value's accesses from two loops as a race, although each is under the mutex.
    @inline(__always)
    package func whileLocked<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Runs `body` with exclusive access to the value.
    @inline(__always)
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
