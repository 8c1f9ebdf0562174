import CEpoll

/// Thin wrappers over a non-blocking `eventfd`, the loops' wakeup channel.
enum EventFD {
    /// `eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC)`.
    static func create() throws(SystemError) -> CInt {
        try syscallValue("eventfd") { CEpoll_eventfd_create() }
    }

    /// Adds one to the counter. `EAGAIN` means the counter is saturated, which still wakes the reader.
    static func signal(_ fd: CInt) throws(SystemError) {
        _ = try syscall("eventfd write") { CEpoll_eventfd_signal(fd) }
    }

    /// Resets the counter; `EAGAIN` (already zero) is fine.
    static func drain(_ fd: CInt) throws(SystemError) {
        _ = try syscall("eventfd read") { CEpoll_eventfd_drain(fd) }
    }
}
