import CEpoll

#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 socket address (numeric host and port), or, read back from a Unix-domain socket, its path.
public struct ReactorSocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// Why an address could not be parsed.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The text that failed to parse.
        public let host: String
        /// What it should have been.
        let expected: String
        public var description: String { "not \(expected): \(host)" }

        init(host: String, expected: String = "a numeric IPv4 or IPv6 address") {
            self.host = host
            self.expected = expected
        }
    }

    private let bytes: [UInt8]
    let length: socklen_t

    /// Parses a numeric IPv4 (`"127.0.0.1"`) or IPv6 (`"::1"`) host; `"localhost"` means 127.0.0.1.
    public init(host: String, port: Int) throws(ParseError) {
        precondition((0...65535).contains(port), "port \(port) out of range")
        let host = host == "localhost" ? "127.0.0.1" : host
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            self.bytes = withUnsafeBytes(of: v4) { Array($0) }
            self.length = socklen_t(MemoryLayout<sockaddr_in>.size)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            self.bytes = withUnsafeBytes(of: v6) { Array($0) }
            self.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            return
        }
        throw ParseError(host: host)
    }

    /// A Unix-domain stream socket address (`AF_UNIX`) at `unixPath`, a filesystem path of 1 to 107 bytes (the room
    /// in `sockaddr_un.sun_path` with its NUL). A server listening on it creates the socket file and removes it when
    /// it stops.
    public init(unixPath: String) throws(ParseError) {
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let path = Array(unixPath.utf8)
        guard !path.isEmpty, path.count < capacity, !path.contains(0) else {
            throw ParseError(host: unixPath, expected: "a Unix-domain socket path of 1 to \(capacity - 1) bytes")
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = MemoryLayout<sa_family_t>.size + path.count + 1
        self.bytes = withUnsafeBytes(of: address) { Array($0.prefix(length)) }
        self.length = socklen_t(length)
    }

    init(storage: sockaddr_storage, length: socklen_t) {
        self.bytes = withUnsafeBytes(of: storage) { Array($0.prefix(Int(length))) }
        self.length = length
    }

    /// `AF_INET`, `AF_INET6` or `AF_UNIX`.
    var family: CInt {
        bytes.withUnsafeBytes { $0.count >= 2 ? CInt($0.loadUnaligned(as: sa_family_t.self)) : CInt(AF_UNSPEC) }
    }

    /// The path of a Unix-domain address (`AF_UNIX`); nil for IP addresses. An unnamed socket has an empty path.
    public var unixPath: String? {
        guard family == AF_UNIX else { return nil }
        let path = bytes.dropFirst(MemoryLayout<sa_family_t>.size).prefix { $0 != 0 }
        return String(decoding: path, as: UTF8.self)
    }

    /// The port in host byte order (0 for a Unix-domain address).
    public var port: Int {
        guard family == AF_INET || family == AF_INET6 else { return 0 }
        return bytes.withUnsafeBytes { raw in
            if family == AF_INET6 { return Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)) }
            return Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }

    /// The numeric host, for example `"127.0.0.1"` (for a Unix-domain address, its path).
    public var host: String {
        if let path = unixPath { return path }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        bytes.withUnsafeBytes { raw in
            if family == AF_INET6 {
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            } else {
                var address = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            }
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String {
        if let path = unixPath { return "unix:\(path)" }
        return family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Calls `body` with a `sockaddr` pointer and length for this address.
    func withSockAddr<Result, Failure: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { destination in
            bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
        return try withUnsafePointer(to: &storage) { (pointer) throws(Failure) -> Result in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(Failure) -> Result in
                try body(address, length)
            }
        }
    }
}
