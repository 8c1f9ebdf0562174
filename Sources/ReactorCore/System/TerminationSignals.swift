#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT and SIGTERM taken synchronously: blocked before any thread starts (threads inherit the mask), then
/// waited for with `sigwait` on the main thread, so no signal handler runs inside the server. What a server
/// executable's `main` uses to stop gracefully (reactor-redis, reactor-http):
///
/// ```swift
/// let signals = TerminationSignals()   // before the server starts its threads
/// try server.start()
/// _ = signals.wait()
/// server.stop()                         // drain, then exit 0
/// ```
public struct TerminationSignals {
    private var set = sigset_t()

    /// Blocks SIGINT and SIGTERM in this thread and in every thread it starts from now on.
    public init() {
        sigemptyset(&set)
        for signal in [SIGINT, SIGTERM] { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for SIGINT or SIGTERM and returns which arrived.
    public func wait() -> CInt {
        var set = set
        var received: CInt = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }
}
