import ReactorCore

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP socket to the server, outside ReactorCore: the burst's peers misbehave on purpose (they write without
/// reading, then reset), which the framework's own client never does.
final class PeerSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let fd: CInt

    /// Connects to `target`, an IPv4 address (blocking); sends and receives time out after `timeoutSeconds`.
    init(to target: ReactorSocketAddress, timeoutSeconds: Int = 5) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(target.port).bigEndian)
        guard inet_pton(AF_INET, target.host, &address.sin_addr) == 1 else {
            throw Failure(description: "not an IPv4 address: \(target)")
        }
        fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        let timeoutSize = socklen_t(MemoryLayout<timeval>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, timeoutSize)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, timeoutSize)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = errno
            Glibc.close(fd)
            throw Failure(description: "connect to \(target): errno \(error)")
        }
    }

    deinit {
        Glibc.close(fd)
    }

    /// From now on a send that would block returns `EAGAIN` at once.
    func makeNonBlocking() {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Makes the coming close (``deinit``) a reset: SO_LINGER {1, 0} drops unsent data and sends RST, not FIN.
    func resetOnClose() {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    /// Sends `payloadSize` bytes as one frame and reads the echo back; false if the bytes differ.
    func echo(payloadSize: Int, seed: Int) throws -> Bool {
        let request = Self.frame(LoadShared.template(size: payloadSize, seed: seed))
        var offset = 0
        while offset < request.count {
            let written = request.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, CInt(MSG_NOSIGNAL))
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Failure(description: "echo: send failed, errno \(errno)") }
            offset += written
        }
        var reply = [UInt8](repeating: 0, count: request.count)
        offset = 0
        while offset < reply.count {
            let count = reply.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress! + offset, $0.count - offset, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw Failure(description: "echo: no reply (recv \(count), errno \(errno))") }
            offset += count
        }
        return reply == request
    }

    /// `payload` behind its 4-byte big-endian length.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { Array($0) } + payload
    }
}
