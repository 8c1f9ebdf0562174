import CReactorTLS
import ReactorCore

/// The settings servers and clients share, applied to a fresh `SSL_CTX`.
enum TLSContextSettings {
    static func apply(
        to context: OpaquePointer, minimum: TLSProtocolVersion, maximum: TLSProtocolVersion?, cipherList: String?,
        cipherSuites: String?
    ) throws(TLSSetupError) {
        guard CReactorTLS_set_versions(context, minimum.openSSLValue, maximum?.openSSLValue ?? 0) == 1,
            maximum.map({ $0 >= minimum }) ?? true
        else { throw TLSSetupError("set the protocol versions \(minimum)...\(maximum.map { "\($0)" } ?? "")") }
        if let cipherList, SSL_CTX_set_cipher_list(context, cipherList) != 1 {
            throw TLSSetupError("set the TLS 1.2 cipher list \"\(cipherList)\"")
        }
        if let cipherSuites, SSL_CTX_set_ciphersuites(context, cipherSuites) != 1 {
            throw TLSSetupError("set the TLS 1.3 cipher suites \"\(cipherSuites)\"")
        }
    }

    /// Loads a certificate chain and its key and checks that they match.
    static func useIdentity(
        _ context: OpaquePointer, chain: TLSPEMSource, key: TLSPEMSource
    ) throws(TLSSetupError) {
        switch chain {
        case .file(let path):
            guard SSL_CTX_use_certificate_chain_file(context, path) == 1 else {
                throw TLSSetupError("load the certificate chain from \(path)")
            }
        case .pem(let text):
            let loaded = text.utf8CString.withUnsafeBufferPointer {
                CReactorTLS_use_certificate_chain_pem(context, $0.baseAddress, $0.count - 1)
            }
            guard loaded == 1 else { throw TLSSetupError("load the certificate chain from PEM text") }
        }
        switch key {
        case .file(let path):
            guard SSL_CTX_use_PrivateKey_file(context, path, SSL_FILETYPE_PEM) == 1 else {
                throw TLSSetupError("load the private key from \(path)")
            }
        case .pem(let text):
            let loaded = text.utf8CString.withUnsafeBufferPointer {
                CReactorTLS_use_private_key_pem(context, $0.baseAddress, $0.count - 1)
            }
            guard loaded == 1 else { throw TLSSetupError("load the private key from PEM text") }
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSSetupError("use the private key: it does not match the certificate")
        }
    }

    /// ALPN names in the wire format (each prefixed by its length, RFC 7301 §3.1).
    static func alpnWireFormat(_ protocols: [String]) throws(TLSSetupError) -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty && bytes.count <= 255 else {
                throw TLSSetupError("use the ALPN protocol name \"\(name)\" (1 to 255 bytes)")
            }
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        return wire
    }
}
