import CEpoll
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Socket and descriptor syscalls, one small function each, all through ``syscall(_:_:)``.
enum Posix {
    /// Closes `fd`. Linux releases the descriptor even when close reports `EINTR`, so it is never retried.
    static func close(_ fd: CInt) {
        let result = Glibc.close(fd)
        if result == -1 && errno == EBADF {
            preconditionFailure("close(\(fd)) failed with EBADF: a bug in ReactorCore")
        }
    }

    /// A non-blocking, close-on-exec TCP socket.
    static func socket(domain: CInt) throws(SystemError) -> CInt {
        try syscallValue("socket") { CEpoll_socket_stream(domain) }
    }

    /// `accept4(SOCK_NONBLOCK|SOCK_CLOEXEC)`; `.wouldBlock` when the backlog is empty.
    static func accept(_ fd: CInt) throws(SystemError) -> IOResult<CInt> {
        try syscall("accept4") { CEpoll_accept4(fd, nil, nil) }
    }

    /// Whether an `accept4` failure is about the one connection it was taking (Linux reports the new connection's
    /// pending network errors there; accept(2) says to retry): the listener is fine, keep accepting. Any other
    /// failure (out of descriptors or memory, or a listener that broke) is not cleared by trying again at once.
    static func acceptFailureIsPerConnection(_ code: CInt) -> Bool {
        switch code {
        case ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, ENETUNREACH:
            return true
        default:
            return false
        }
    }

    /// `read(2)` into `buffer`; `.processed(0)` is end of stream.
    @inline(__always)
    static func read(_ fd: CInt, into buffer: UnsafeMutableRawPointer, count: Int) throws(SystemError) -> IOResult<Int>
    {
        try syscall("read") { Glibc.read(fd, buffer, count) }
    }

    /// `sendmsg(MSG_NOSIGNAL)` over `count` iovecs: a writev that never raises SIGPIPE.
    @inline(__always)
    static func sendv(_ fd: CInt, _ vectors: UnsafePointer<iovec>, count: Int) throws(SystemError) -> IOResult<Int> {
        try syscall("sendmsg") { CEpoll_sendv(fd, vectors, CInt(count)) }
    }

    /// `send(MSG_NOSIGNAL)` of one buffer.
    static func send(_ fd: CInt, _ buffer: UnsafeRawPointer, count: Int) throws(SystemError) -> IOResult<Int> {
        try syscall("send") { CEpoll_send(fd, buffer, count) }
    }

    /// `shutdown(2)`. `ENOTCONN` (the peer already went away) is not an error worth reporting.
    static func shutdown(_ fd: CInt, how: CInt) {
        _ = Glibc.shutdown(fd, how)
    }

    /// Sets an integer socket option.
    static func setOption(_ fd: CInt, level: CInt, name: CInt, value: CInt, label: StaticString) throws(SystemError) {
        _ = try syscallValue(label) { CEpoll_setsockopt_int(fd, level, name, value) }
    }

    /// Turns Nagle's algorithm off: replies go out as soon as they are flushed.
    static func setNoDelay(_ fd: CInt) throws(SystemError) {
        _ = try syscallValue("setsockopt(TCP_NODELAY)") { CEpoll_tcp_nodelay(fd, 1) }
    }

    /// Bytes the kernel has received on `fd` that were not read yet (0 if it cannot tell).
    static func bytesReadable(_ fd: CInt) -> Int {
        max(0, Int(CEpoll_bytes_readable(fd)))
    }

    /// Bytes in `fd`'s send queue that the peer has not acknowledged yet (`SIOCOUTQ`); 0 on error.
    static func bytesUnacknowledged(_ fd: CInt) -> Int {
        max(0, Int(CEpoll_bytes_unsent(fd)))
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`), as after a non-blocking connect.
    static func pendingError(_ fd: CInt) throws(SystemError) -> CInt {
        var value: CInt = 0
        _ = try syscallValue("getsockopt(SO_ERROR)") {
            CEpoll_getsockopt_int(fd, CEpoll_SOL_SOCKET, CEpoll_SO_ERROR, &value)
        }
        return value
    }

    /// Binds `fd` to `address`.
    static func bind(_ fd: CInt, to address: ReactorSocketAddress) throws(SystemError) {
        _ = try address.withSockAddr { (pointer, length) throws(SystemError) in
            try syscallValue("bind") { Glibc.bind(fd, pointer, length) }
        }
    }

    /// Removes the file at `path` if it is a socket nobody listens on (left by a server that did not stop cleanly),
    /// so that a Unix-domain listener can bind there. A socket something still accepts on, and any other kind of
    /// file, are left alone (the bind then fails with `EADDRINUSE`).
    static func removeStaleSocket(at address: ReactorSocketAddress) {
        guard let path = address.unixPath else { return }
        var status = stat()
        guard lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK else { return }
        // Non-blocking: a Unix-domain connect answers at once (refused, done, or EAGAIN when the backlog is full).
        let probe = CEpoll_socket_stream(AF_UNIX)
        guard probe >= 0 else { return }
        defer { close(probe) }
        let refused =
            address.withSockAddr { pointer, length in Glibc.connect(probe, pointer, length) } == -1
            && errno == ECONNREFUSED
        if refused { unlink(path) }
    }

    /// Starts listening with `backlog` (the kernel clamps it to `net.core.somaxconn`).
    static func listen(_ fd: CInt, backlog: CInt) throws(SystemError) {
        _ = try syscallValue("listen") { Glibc.listen(fd, backlog) }
    }

    /// Starts a non-blocking connect: `.processed` if it completed at once, `.wouldBlock` if it is in progress.
    static func connect(_ fd: CInt, to address: ReactorSocketAddress) throws(SystemError) -> IOResult<CInt> {
        try address.withSockAddr { (pointer, length) throws(SystemError) -> IOResult<CInt> in
            let result = Glibc.connect(fd, pointer, length)
            if result == 0 { return .processed(0) }
            switch errno {
            case EINPROGRESS, EINTR: return .wouldBlock
            default: throw SystemError(syscall: "connect", errno: Errno(rawValue: errno))
            }
        }
    }

    /// The local address `fd` is bound to.
    static func localAddress(_ fd: CInt) throws(SystemError) -> ReactorSocketAddress {
        try address(of: fd, syscall: "getsockname", getsockname)
    }

    /// The address of `fd`'s peer.
    static func peerAddress(_ fd: CInt) throws(SystemError) -> ReactorSocketAddress {
        try address(of: fd, syscall: "getpeername", getpeername)
    }

    /// A socket address read with `getsockname` or `getpeername`.
    private static func address(
        of fd: CInt, syscall name: StaticString,
        _ call: (CInt, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt
    ) throws(SystemError) -> ReactorSocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemError) in
                try syscallValue(name) { call(fd, address, &length) }
            }
        }
        return ReactorSocketAddress(storage: storage, length: length)
    }
}
