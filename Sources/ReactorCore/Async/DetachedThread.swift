import CEpoll
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// A short-lived plain pthread for the one blocking step of an `async` edge (a graceful stop drains and joins the
/// loop threads), so that no thread of Swift concurrency's cooperative pool waits for it.
///
/// Detached: nobody joins it, and it frees itself when `body` returns. Not on the I/O path: one is started per
/// ``Server/stop()-8pt9t`` or ``Server/beginStop()`` call.
enum DetachedThread {
    /// Runs `body` on a new detached thread named `name` (at most 15 characters are kept). If no thread can be
    /// created (`EAGAIN`: the process's thread limit), `body` runs on a Dispatch worker instead: still not on the
    /// cooperative pool, only on a thread that Dispatch may have wanted for something else.
    static func run(name: String, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, CInt(PTHREAD_CREATE_DETACHED))
        var thread: pthread_t = 0
        if LoopThread.create(&thread, attributes: &attributes, name: name, body: body) != 0 {
            DispatchQueue.global().async(execute: body)
        }
    }
}
