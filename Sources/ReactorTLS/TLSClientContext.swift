import CReactorTLS
public import ReactorCore

/// A client's TLS context (one OpenSSL `SSL_CTX`): set ``ClientConfiguration/transport`` to one and every
/// connection the ``Client`` makes speaks TLS, checking the server against ``TLSClientConfiguration/serverName``.
public final class TLSClientContext: ConnectionTransportProvider, @unchecked Sendable {
    /// The configuration the context was built from.
    public let configuration: TLSClientConfiguration
    let context: OpaquePointer

    public var handshakeTimeout: Duration? { configuration.handshakeTimeout }

    /// Applies `configuration`; throws ``TLSSetupError`` when a file does not load or a setting is refused.
    public init(configuration: TLSClientConfiguration) throws(TLSSetupError) {
        self.configuration = configuration
        guard let context = CReactorTLS_context_new(0) else { throw TLSSetupError("create a client context") }
        self.context = context
        try TLSContextSettings.apply(
            to: context, minimum: configuration.minimumVersion, maximum: configuration.maximumVersion,
            cipherList: configuration.cipherList, cipherSuites: configuration.cipherSuites)
        switch configuration.trust {
        case .system:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSSetupError("load the system CA store")
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .file(let path):
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                throw TLSSetupError("load the trusted CAs from \(path)")
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .insecureAnyCertificate:
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        if let chain = configuration.certificateChain, let key = configuration.privateKey {
            try TLSContextSettings.useIdentity(context, chain: chain, key: key)
        }
        if !configuration.applicationProtocols.isEmpty {
            let wire = try TLSContextSettings.alpnWireFormat(configuration.applicationProtocols)
            guard SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else {
                throw TLSSetupError("set the ALPN protocols")
            }
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    public func makeTransport(descriptor: CInt, role: TransportRole) -> TransportSetup {
        let verifyHost = configuration.trust != .insecureAnyCertificate
        let made = (configuration.serverName ?? "").withCString {
            CReactorTLS_new(context, descriptor, role == .server ? 1 : 0, $0, verifyHost ? 1 : 0)
        }
        guard let ssl = made else {
            return .refused(.tlsHandshakeFailed(code: TLSErrorCode(rawValue: UInt64(CReactorTLS_take_error()))))
        }
        return .ready(TLSConnection(ssl: ssl, descriptor: descriptor, role: role, owner: self))
    }
}
