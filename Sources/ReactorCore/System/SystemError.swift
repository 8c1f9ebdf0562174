public import SystemPackage

/// A syscall failed for a reason the caller has to handle.
///
/// Carries the syscall's name and the `errno` it left, as swift-system's `Errno`, so a log line reads like
/// `epoll_ctl(ADD) failed: Bad file descriptor (errno 9)`.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The name of the failed call, for example `"accept4"`.
    public let syscall: String
    /// The error number the call left behind.
    public let errno: Errno

    /// Creates an error for `syscall` failing with `errno`.
    public init(syscall: String, errno: Errno) {
        self.syscall = syscall
        self.errno = errno
    }

    public var description: String { "\(syscall) failed: \(errno) (errno \(errno.rawValue))" }
}
