/// Whether and how a server asks for client certificates.
public enum TLSClientCertificatePolicy: Sendable, Hashable {
    /// None asked for (the default).
    case none
    /// Asked for and verified against the CA certificates in the PEM file at `trustedCAFile` if sent; a client
    /// without one is still served. A certificate that fails verification closes the connection with
    /// `CloseReason.tlsCertificateRejected`.
    case optional(trustedCAFile: String)
    /// Required and verified against the CA certificates in the PEM file at `trustedCAFile`: a client without a
    /// valid one (missing, untrusted, expired) is refused in the handshake with
    /// `CloseReason.tlsCertificateRejected`.
    case required(trustedCAFile: String)
}

/// A server's TLS settings, turned into a ``TLSServerContext`` (which loads and checks them) once at start.
///
/// ```swift
/// var tls = TLSServerConfiguration(certificateChain: .file("server.pem"), privateKey: .file("server.key"))
/// tls.applicationProtocols = ["http/1.1"]
/// configuration.transport = try TLSServerContext(configuration: tls)
/// ```
public struct TLSServerConfiguration: Sendable {
    /// The server's certificate chain, leaf first.
    public var certificateChain: TLSPEMSource
    /// The private key of the leaf certificate (unencrypted PEM).
    public var privateKey: TLSPEMSource
    /// The oldest version accepted. Default TLS 1.2.
    public var minimumVersion: TLSProtocolVersion = .tls12
    /// The newest version accepted; nil (the default) for the newest OpenSSL has (TLS 1.3).
    public var maximumVersion: TLSProtocolVersion? = nil
    /// The TLS 1.2 cipher list in OpenSSL's syntax (`ECDHE+AESGCM:ECDHE+CHACHA20`); nil for OpenSSL's default.
    public var cipherList: String? = nil
    /// The TLS 1.3 cipher suites in OpenSSL's syntax (`TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384`); nil for
    /// OpenSSL's default.
    public var cipherSuites: String? = nil
    /// The ALPN protocols offered, in the server's order of preference (`["http/1.1"]`, `["redis"]`). A client
    /// that offers ALPN but none of these is refused with the no_application_protocol alert (RFC 7301 §3.2); one
    /// that offers no ALPN is served. Empty (the default): ALPN is not negotiated.
    public var applicationProtocols: [String] = []
    /// Client certificates. Default ``TLSClientCertificatePolicy/none``.
    public var clientCertificates: TLSClientCertificatePolicy = .none
    /// Session resumption with stateless tickets (RFC 8446 §4.6.1; RFC 5077 for TLS 1.2): on by default, two
    /// tickets after each full TLS 1.3 handshake. There is no server-side session cache (it would be shared and
    /// locked between the loops).
    public var sessionTickets = true
    /// How long a connection may take to complete its handshake (a peer that stalls mid-way is closed with
    /// `CloseReason.tlsHandshakeTimeout`). Default 10 s; nil for no limit.
    public var handshakeTimeout: Duration? = .seconds(10)
    /// OpenSSL's `SSL_MODE_RELEASE_BUFFERS`: an idle connection gives its read and write record buffers (about 34
    /// KiB) back, at the price of allocating them again for each burst of traffic (about 3 `malloc` calls per echoed
    /// message). Default false: a connection keeps its buffers, and with ``TLSMemory/installRecyclingAllocator()``
    /// reads and writes make no `malloc` call at all. Measured idle cost per TLS 1.3 connection: about 32 KiB
    /// without, 18 KiB with (`reactor-bench run --scenario idle-memory [--tls-release-buffers]`; the TLS section of
    /// Benchmarks/README.md).
    public var releaseBuffersWhenIdle = false
    /// Picks the context for the server name a client sends (SNI, RFC 6066 §3): return another ``TLSServerContext``
    /// to switch to its certificate, or nil to keep this one. Called on the loop thread during the handshake; only
    /// the certificate and key come from the context returned (versions, ALPN and client-certificate settings stay
    /// this one's, as with OpenSSL's `SSL_set_SSL_CTX`).
    public var serverNameHandler: (@Sendable (String) -> TLSServerContext?)? = nil

    /// A configuration serving `certificateChain` with `privateKey`, every other setting at its default.
    public init(certificateChain: TLSPEMSource, privateKey: TLSPEMSource) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}
