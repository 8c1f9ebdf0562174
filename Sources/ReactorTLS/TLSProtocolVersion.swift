/// A TLS protocol version.
public enum TLSProtocolVersion: Sendable, Hashable, Comparable {
    /// TLS 1.2 (RFC 5246).
    case tls12
    /// TLS 1.3 (RFC 8446).
    case tls13

    /// OpenSSL's constant for the version.
    var openSSLValue: CInt {
        switch self {
        case .tls12: return 0x0303
        case .tls13: return 0x0304
        }
    }
}
