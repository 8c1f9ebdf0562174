import CTLSClient

#if canImport(Glibc)
    import Glibc
#endif

/// A plain blocking TCP client (no ReactorCore code on the client side): `TCP_NODELAY`, 10 s timeouts so a broken
/// server fails the benchmark instead of hanging it.
final class BlockingClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let fd: CInt
    /// The TLS session over `fd` after ``startTLS()``; nil for plain TCP.
    private var tls: OpaquePointer?

    init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: CInt = 1
        setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            Glibc.close(fd)
            throw Failure(description: "connect: errno \(error)")
        }
    }

    deinit {
        CTLSClient_free(tls)
        Glibc.close(fd)
    }

    /// Completes a TLS handshake on the connection: every send and receive goes through it from now on.
    func startTLS() throws {
        guard let session = CTLSClient_connect(fd) else { throw Failure(description: "TLS handshake failed") }
        tls = session
    }

    /// Writes all of `bytes`.
    @inline(__always)
    func send(_ bytes: UnsafeRawBufferPointer) throws {
        if let tls {
            guard CTLSClient_write_all(tls, bytes.baseAddress, bytes.count) == 0 else {
                throw Failure(description: "SSL_write failed")
            }
            return
        }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, CInt(MSG_NOSIGNAL))
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: errno \(errno)")
            }
            offset += written
        }
    }

    /// Reads exactly `buffer.count` bytes.
    @inline(__always)
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws {
        if let tls {
            guard CTLSClient_read_exactly(tls, buffer.baseAddress, buffer.count) == 0 else {
                throw Failure(description: "SSL_read failed")
            }
            return
        }
        var offset = 0
        while offset < buffer.count {
            let count = recv(fd, buffer.baseAddress! + offset, buffer.count - offset, 0)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "recv: errno \(errno)")
            }
            if count == 0 { throw Failure(description: "connection closed by the server") }
            offset += count
        }
    }
}
