/// A client's TLS settings, turned into a ``TLSClientContext`` once.
public struct TLSClientConfiguration: Sendable {
    /// Which certificates a client trusts.
    public enum Trust: Sendable, Hashable {
        /// The system's CA store (OpenSSL's default paths).
        case system
        /// The CA certificates in a PEM file.
        case file(String)
        /// Any certificate, unverified: for tests and benchmarks only (like `curl -k`).
        case insecureAnyCertificate
    }

    /// The server name sent (SNI) and checked against the server's certificate (a DNS name or an IP address; an
    /// address is checked but not sent, RFC 6066 §3). Nil: nothing sent or checked beyond the chain.
    public var serverName: String?
    /// Which certificates are trusted. Default ``Trust/system``.
    public var trust: Trust = .system
    /// A client certificate chain and key to present, if the server asks.
    public var certificateChain: TLSPEMSource? = nil
    /// The private key for ``certificateChain``.
    public var privateKey: TLSPEMSource? = nil
    /// The oldest version accepted. Default TLS 1.2.
    public var minimumVersion: TLSProtocolVersion = .tls12
    /// The newest version offered; nil for TLS 1.3.
    public var maximumVersion: TLSProtocolVersion? = nil
    /// ALPN protocols offered, in order of preference. Empty: none.
    public var applicationProtocols: [String] = []
    /// The TLS 1.2 cipher list (OpenSSL syntax); nil for the default.
    public var cipherList: String? = nil
    /// The TLS 1.3 cipher suites (OpenSSL syntax); nil for the default.
    public var cipherSuites: String? = nil
    /// How long the handshake may take. Default 10 s.
    public var handshakeTimeout: Duration? = .seconds(10)

    /// A configuration checking the server against `serverName` with the system's CA store.
    public init(serverName: String?, trust: Trust = .system) {
        self.serverName = serverName
        self.trust = trust
    }
}
