import CEpoll
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// A short-lived plain pthread for the one blocking step of an `async` edge (a graceful stop drains and joins the
/// loop threads), so that no thread of Swift concurrency's cooperative pool waits for it.
///
/// Detached: nobody joins it, and it frees itself when `body` returns. Not on the I/O path: one is started per
/// ``Server/stop()-async`` or ``Server/beginStop()`` call.
enum DetachedThread {
    /// Runs `body` on a new detached thread named `name` (at most 15 characters are kept). If no thread can be
    /// created (`EAGAIN`: the process's thread limit), `body` runs on a Dispatch worker instead: still not on the
    /// cooperative pool, only on a thread that Dispatch may have wanted for something else.
    static func run(name: String, _ body: @escaping @Sendable () -> Void) {
        final class Box {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, CInt(PTHREAD_CREATE_DETACHED))
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, &attributes,
            { argument in
                let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
                _ = CEpoll_set_thread_name(box.name)
                box.body()
                return nil
            }, box)
        if result != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            DispatchQueue.global().async(execute: body)
        }
    }
}
