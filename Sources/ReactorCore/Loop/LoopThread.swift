import CEpoll
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A plain pthread for a long-lived loop: loops block in `epoll_wait`, so they never run on Dispatch's workers or
/// Swift concurrency's cooperative pool.
final class LoopThread: @unchecked Sendable {
    // Written once in `init` before any other thread sees the object; read by `join` from the owner.
    private var handle = pthread_t()

    /// Starts a thread named `name` (truncated to the kernel's 15 characters) running `body`.
    init(name: String, body: @escaping @Sendable () -> Void) throws(SystemError) {
        let result = Self.create(&handle, attributes: nil, name: name, body: body)
        if result != 0 {
            throw SystemError(syscall: "pthread_create", errno: Errno(rawValue: result))
        }
        // Named from here too, so the name is visible (/proc, ps, tests) as soon as init returns.
        _ = CEpoll_set_thread_name_of(handle, name)
    }

    /// `pthread_create` with `attributes` for a thread that names itself `name` and runs `body`; returns its result
    /// (0, or the error number, in which case nothing was started and `body` is released).
    static func create(
        _ handle: inout pthread_t, attributes: UnsafePointer<pthread_attr_t>?, name: String,
        body: @escaping @Sendable () -> Void
    ) -> CInt {
        final class Box {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        let result = pthread_create(
            &handle, attributes,
            { argument in
                let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
                _ = CEpoll_set_thread_name(box.name)
                box.body()
                return nil
            }, box)
        if result != 0 { Unmanaged<Box>.fromOpaque(box).release() }
        return result
    }

    /// Waits for the thread to finish.
    func join() {
        let result = pthread_join(handle, nil)
        precondition(result == 0, "pthread_join failed: \(Errno(rawValue: result)) (errno \(result))")
    }
}
