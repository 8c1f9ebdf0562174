import CReactorTLS
public import ReactorCore

/// A server's TLS context: the loaded certificate, key and settings (one OpenSSL `SSL_CTX`), shared by every loop,
/// and the ``ConnectionTransportProvider`` that gives each accepted connection its ``TLSConnection``.
///
/// ```swift
/// var configuration = ServerConfiguration(port: 8443)
/// configuration.transport = try TLSServerContext(
///     configuration: TLSServerConfiguration(certificateChain: .file("cert.pem"), privateKey: .file("key.pem")))
/// ```
///
/// Loading happens once, here (so a bad file fails at start, not per connection). Thread-safe: OpenSSL's contexts
/// may make connections on any thread once set up, and nothing here changes afterwards.
public final class TLSServerContext: ConnectionTransportProvider, @unchecked Sendable {
    /// The configuration the context was built from.
    public let configuration: TLSServerConfiguration
    /// The OpenSSL `SSL_CTX`.
    let context: OpaquePointer

    public var handshakeTimeout: Duration? { configuration.handshakeTimeout }

    /// Loads the certificate chain and key, checks that they match, and applies every setting of `configuration`.
    /// Throws ``TLSSetupError`` with OpenSSL's reason when any of it fails.
    public init(configuration: TLSServerConfiguration) throws(TLSSetupError) {
        self.configuration = configuration
        guard let context = CReactorTLS_context_new(1) else { throw TLSSetupError("create a server context") }
        self.context = context
        try TLSContextSettings.apply(
            to: context, minimum: configuration.minimumVersion, maximum: configuration.maximumVersion,
            cipherList: configuration.cipherList, cipherSuites: configuration.cipherSuites)
        try TLSContextSettings.useIdentity(
            context, chain: configuration.certificateChain, key: configuration.privateKey)
        if !configuration.applicationProtocols.isEmpty {
            let wire = try TLSContextSettings.alpnWireFormat(configuration.applicationProtocols)
            guard CReactorTLS_set_alpn_server(context, wire, UInt32(wire.count)) == 1 else {
                throw TLSSetupError("set the ALPN protocols")
            }
        }
        switch configuration.clientCertificates {
        case .none:
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        case .optional(let file), .required(let file):
            guard SSL_CTX_load_verify_locations(context, file, nil) == 1, let names = SSL_load_client_CA_file(file)
            else { throw TLSSetupError("load the trusted client CAs from \(file)") }
            SSL_CTX_set_client_CA_list(context, names)
            var mode = SSL_VERIFY_PEER
            if case .required = configuration.clientCertificates { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
            SSL_CTX_set_verify(context, mode, nil)
        }
        CReactorTLS_set_tickets(context, configuration.sessionTickets ? 1 : 0, 2)
        CReactorTLS_set_release_buffers(context, configuration.releaseBuffersWhenIdle ? 1 : 0)
        if configuration.serverNameHandler != nil {
            CReactorTLS_set_servername_callback(context, serverNameCallback, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    public func makeTransport(descriptor: CInt, role: TransportRole) -> TransportSetup {
        guard let ssl = CReactorTLS_new(context, descriptor, role == .server ? 1 : 0, nil, 0) else {
            return .refused(.tlsHandshakeFailed(code: TLSErrorCode(rawValue: UInt64(CReactorTLS_take_error()))))
        }
        return .ready(TLSConnection(ssl: ssl, descriptor: descriptor, role: role, owner: self))
    }
}

/// OpenSSL's servername callback: asks the context's ``TLSServerConfiguration/serverNameHandler`` and switches the
/// connection to the context it returns. `argument` is the (unretained) ``TLSServerContext``: every connection's
/// ``TLSConnection`` keeps its context alive.
private let serverNameCallback:
    @convention(c) (OpaquePointer?, UnsafeMutablePointer<CInt>?, UnsafeMutableRawPointer?) -> CInt = {
        ssl, _, argument in
        guard let ssl, let argument, let name = CReactorTLS_servername(ssl) else { return SSL_TLSEXT_ERR_OK }
        let context = Unmanaged<TLSServerContext>.fromOpaque(argument).takeUnretainedValue()
        guard let chosen = context.configuration.serverNameHandler?(String(cString: name)), chosen !== context else {
            return SSL_TLSEXT_ERR_OK
        }
        SSL_set_SSL_CTX(ssl, chosen.context)
        return SSL_TLSEXT_ERR_OK
    }
