import ReactorCore

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking loopback client for tests: plain sockets with receive/send timeouts, so no test can hang forever.
final class TestClient: @unchecked Sendable {  // used by one thread at a time, or send on one and receive on another
    let fd: CInt

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    convenience init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Int = 10) throws {
        try self.init(unconnectedWithTimeout: timeoutSeconds)
        try connect(port: port, host: host)
    }

    /// A client of the Unix-domain stream socket at `unixPath`.
    convenience init(unixPath: String, timeoutSeconds: Int = 10) throws {
        try self.init(unconnectedWithTimeout: timeoutSeconds, domain: AF_UNIX)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(unixPath.utf8)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw Failure(description: "connect(\(unixPath)): errno \(errno)") }
    }

    /// A socket that is not connected yet (its descriptor is taken now; connecting takes none).
    init(unconnectedWithTimeout timeoutSeconds: Int = 10, domain: CInt = AF_INET) throws {
        fd = socket(domain, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: CInt = 1
        setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
    }

    /// Connects the socket.
    func connect(port: Int, host: String = "127.0.0.1") throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw Failure(description: "connect: errno \(errno)") }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Writes all of `bytes`.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, CInt(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += written
        }
    }

    /// Reads exactly `count` bytes, or throws on EOF, error or timeout.
    func receive(exactly count: Int) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let received = result.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + offset, count - offset, 0) }
            if received == 0 { throw Failure(description: "EOF after \(offset) of \(count) bytes") }
            if received < 0 { throw Failure(description: "recv: errno \(errno) after \(offset) of \(count) bytes") }
            offset += received
        }
        return result
    }

    /// Reads one frame and returns its payload.
    func receiveFrame() throws -> [UInt8] {
        let header = try receive(exactly: 4)
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        return try receive(exactly: length)
    }

    /// Reads until the peer's FIN; throws on a reset, an error, the receive timeout or more than `limit` bytes.
    func receiveUntilEndOfStream(limit: Int = 64 << 20) throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while result.count <= limit {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if received == 0 { return result }
            if received < 0 { throw Failure(description: "recv: errno \(errno) after \(result.count) bytes") }
            result += buffer[..<received]
        }
        throw Failure(description: "more than \(limit) bytes before the end of the stream")
    }

    /// True when the server closed the connection (EOF, or a reset unless `allowingReset` is false) before any more
    /// bytes arrived; with `discardingData`, bytes still in flight are read and dropped first.
    func isClosedByPeer(discardingData: Bool = false, allowingReset: Bool = true) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, discardingData ? $0.count : 1, 0) }
            if received > 0 && discardingData { continue }
            return received == 0 || (allowingReset && received < 0 && errno == ECONNRESET)
        }
    }

    /// `shutdown(SHUT_WR)`: tells the server no more requests come.
    func shutdownWrite() {
        Glibc.shutdown(fd, CInt(SHUT_WR))
    }

    /// Closes with an RST instead of a FIN (SO_LINGER 0).
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }
}

/// Frames `payload` with its 4-byte big-endian length.
func frame(_ payload: [UInt8]) -> [UInt8] {
    let count = UInt32(payload.count)
    return [UInt8(count >> 24), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff)] + payload
}

/// A deterministic payload of `count` bytes that differs per `seed`.
func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ ($0 >> 8)) }
}
