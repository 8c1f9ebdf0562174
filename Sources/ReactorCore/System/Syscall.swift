import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a raw syscall with the policy every wrapper shares.
///
/// - `EINTR` is retried.
/// - `EAGAIN`/`EWOULDBLOCK` becomes ``IOResult/wouldBlock``.
/// - `EBADF` and `EFAULT` trap: a bad descriptor or pointer is a bug in ReactorCore, never something a peer causes.
/// - Anything else throws a ``SystemError`` naming the syscall.
@inline(__always)
func syscall<Result: FixedWidthInteger>(
    _ name: StaticString,
    _ body: () -> Result
) throws(SystemError) -> IOResult<Result> {
    while true {
        let result = body()
        if result != -1 { return .processed(result) }
        let error = errno
        switch error {
        case EINTR:
            continue
        case EAGAIN, EWOULDBLOCK:
            return .wouldBlock
        case EBADF, EFAULT:
            preconditionFailure("\(name) failed with \(Errno(rawValue: error)) (errno \(error)): a bug in ReactorCore")
        default:
            throw SystemError(syscall: "\(name)", errno: Errno(rawValue: error))
        }
    }
}

/// Like ``syscall(_:_:)`` for calls that never return `EAGAIN` (socket setup, epoll_ctl): returns the value.
@inline(__always)
func syscallValue<Result: FixedWidthInteger>(
    _ name: StaticString,
    _ body: () -> Result
) throws(SystemError) -> Result {
    switch try syscall(name, body) {
    case .processed(let value): return value
    case .wouldBlock: throw SystemError(syscall: "\(name)", errno: Errno(rawValue: EAGAIN))
    }
}
