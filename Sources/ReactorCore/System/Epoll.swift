import CEpoll
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Thin wrappers over epoll; the policy lives in ``syscall(_:_:)``.
enum Epoll {
    /// Readiness flags as plain `UInt32`s.
    static let readable = CEpoll_EPOLLIN
    static let writable = CEpoll_EPOLLOUT
    static let error = CEpoll_EPOLLERR
    static let hangUp = CEpoll_EPOLLHUP
    static let readHangUp = CEpoll_EPOLLRDHUP

    /// `epoll_create1(EPOLL_CLOEXEC)`.
    static func create() throws(SystemError) -> CInt {
        try syscallValue("epoll_create1") { CEpoll_create() }
    }

    /// Registers `fd` for `events`, tagging its events with `data`.
    static func add(epoll: CInt, fd: CInt, events: UInt32, data: UInt64) throws(SystemError) {
        _ = try syscallValue("epoll_ctl(ADD)") { CEpoll_ctl(epoll, CEpoll_CTL_ADD, fd, events, data) }
    }

    /// Changes the interest set (and tag) of a registered `fd`.
    static func modify(epoll: CInt, fd: CInt, events: UInt32, data: UInt64) throws(SystemError) {
        _ = try syscallValue("epoll_ctl(MOD)") { CEpoll_ctl(epoll, CEpoll_CTL_MOD, fd, events, data) }
    }

    /// Removes `fd` from the interest list.
    static func delete(epoll: CInt, fd: CInt) throws(SystemError) {
        _ = try syscallValue("epoll_ctl(DEL)") { CEpoll_ctl(epoll, CEpoll_CTL_DEL, fd, 0, 0) }
    }

    /// Waits up to `timeout` milliseconds (-1: forever) and returns how many events were written.
    /// An interrupted wait returns 0 rather than retrying, so the caller can recompute its timeout.
    static func wait(
        epoll: CInt,
        events: UnsafeMutablePointer<epoll_event>,
        capacity: Int,
        timeoutMilliseconds: CInt
    ) throws(SystemError) -> Int {
        let count = CEpoll_wait(epoll, events, CInt(capacity), timeoutMilliseconds)
        if count >= 0 { return Int(count) }
        if errno == EINTR { return 0 }
        throw SystemError(syscall: "epoll_wait", errno: Errno(rawValue: errno))
    }
}
