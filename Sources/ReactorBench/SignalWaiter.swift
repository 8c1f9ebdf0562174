#if canImport(Glibc)
    import Glibc
#endif

/// Waits for SIGINT or SIGTERM without a signal handler: the signals are blocked in every thread (call
/// ``blockTerminationSignals()`` before starting any) and taken synchronously with `sigwait`.
enum SignalWaiter {
    private static func terminationSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    /// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards.
    static func blockTerminationSignals() {
        var set = terminationSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Returns the signal number once SIGINT or SIGTERM arrives.
    static func waitForTermination() -> CInt {
        var set = terminationSet()
        var signal: CInt = 0
        while sigwait(&set, &signal) != 0 {}
        return signal
    }

    /// Returns the signal number if SIGINT or SIGTERM arrives within `seconds`, nil otherwise.
    static func waitForTermination(seconds: Int) -> CInt? {
        var set = terminationSet()
        var timeout = timespec(tv_sec: seconds, tv_nsec: 0)
        let signal = sigtimedwait(&set, nil, &timeout)
        return signal > 0 ? signal : nil
    }
}
