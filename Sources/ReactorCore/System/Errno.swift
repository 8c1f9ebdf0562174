#if canImport(Glibc)
    import Glibc
#endif

/// A POSIX error number with a readable description.
///
/// `Errno` wraps the C `errno` value a failed syscall left behind, so public API never carries a bare integer.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C error number.
    public let rawValue: CInt

    /// Wraps a C error number.
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    static var current: Errno { Errno(rawValue: errno) }

    /// The C library's text for this error, for example "Connection reset by peer".
    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return "\(String(cString: text)) (errno \(rawValue))"
    }

    /// `ECONNREFUSED`: nobody listens at the address.
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// `ETIMEDOUT`: the connection timed out.
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
}
