/// The HTTP version of a request line (RFC 9112 §2.3): only HTTP/1.0 and HTTP/1.1 are served; any other
/// `HTTP/x.y` is refused with 505 (``HTTP1RequestError/unsupportedVersion``).
public enum HTTP1Version: UInt8, Hashable, Sendable {
    /// `HTTP/1.0`: the connection closes after each response unless the request asks `Connection: keep-alive`.
    case http10 = 0
    /// `HTTP/1.1`: persistent connections unless `Connection: close` (RFC 9112 §9.3).
    case http11 = 1
}
