import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One reactor thread: an epoll instance, an eventfd wakeup and a cross-thread task queue.
///
/// Everything a loop owns (its connections, buffers, handler copy) is touched only on its thread. Other threads
/// reach it only through ``execute(_:)``.
public final class EventLoop: @unchecked Sendable {
    /// The loop's position among the server's sub-reactors (the main reactor uses -1).
    public let index: Int
    let poller: Poller
    let tasks: TaskQueue
    private let threadID = Atomic<UInt>(0)

    /// The epoll tag reserved for the wakeup eventfd (no connection has generation `UInt32.max` and fd -1).
    static let wakeupTag: UInt64 = .max

    init(index: Int) throws(SystemError) {
        self.index = index
        self.poller = try Poller()
        do {
            self.tasks = try TaskQueue()
            try poller.add(tasks.eventFD, events: Epoll.readable, data: Self.wakeupTag)
        } catch {
            poller.close()
            throw error
        }
    }

    /// Runs `task` on this loop's thread, soon. Safe to call from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        tasks.post(task)
    }

    /// True when called on this loop's thread.
    public var inEventLoop: Bool {
        threadID.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// Records the calling thread as the loop's thread; called first thing on the loop thread.
    func bindToCurrentThread() {
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
    }

    /// Releases the epoll and eventfd descriptors; the loop thread must have finished.
    func closeDescriptors() {
        tasks.close()
        poller.close()
    }
}
