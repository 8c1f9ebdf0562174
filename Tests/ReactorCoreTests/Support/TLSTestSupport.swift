import CReactorTLS
import Logging
import ReactorCore
import ReactorTLS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The throwaway CA and certificates `Scripts/tls-test-certs.sh` makes, once per test process, in a fresh
/// temporary directory (keys are never committed). Needs the `openssl` command (OpenSSL 3 is on every machine here).
enum TLSTestCertificates {
    static let directory: String = {
        var template = Array("/tmp/reactor-tls-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: \(errno)")
        let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let script = repositoryRoot + "/Scripts/tls-test-certs.sh"
        let status = system("bash '\(script)' '\(directory)' >/dev/null 2>&1")
        precondition(status == 0, "Scripts/tls-test-certs.sh failed (\(status)): is the openssl command installed?")
        return directory
    }()

    /// The repository's root (this file is Tests/ReactorCoreTests/Support/TLSTestSupport.swift).
    private static var repositoryRoot: String {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }

    static func path(_ name: String) -> String { directory + "/" + name }

    /// The server identity for localhost / 127.0.0.1.
    static func serverConfiguration() -> TLSServerConfiguration {
        TLSServerConfiguration(certificateChain: .file(path("server.pem")), privateKey: .file(path("server.key")))
    }
}

/// A test server configuration with TLS.
func tlsTestConfiguration(
    subReactors: Int = 1, _ tweak: (inout TLSServerConfiguration) -> Void = { _ in }
) throws -> ServerConfiguration {
    var tls = TLSTestCertificates.serverConfiguration()
    tweak(&tls)
    var configuration = testConfiguration(subReactors: subReactors)
    configuration.transport = try TLSServerContext(configuration: tls)
    return configuration
}

/// A blocking TLS client for tests, on a ``TestClient``'s socket (so every call is bounded by its timeouts), using
/// OpenSSL directly: the peer the server's TLS layer is judged against, able to misbehave on purpose.
final class TLSTestClient {
    let socket: TestClient
    let context: OpaquePointer
    let ssl: OpaquePointer

    struct Options {
        var minimumVersion: CInt = 0x0303
        var maximumVersion: CInt = 0
        var alpn: [String] = []
        var serverName: String? = nil
        var verifyAgainstCA = true
        var certificate: String? = nil
        var key: String? = nil
        var session: OpaquePointer? = nil
        /// `SO_RCVBUF` before connecting: a small receive window, so that the server's sends stop part way.
        var receiveBuffer: CInt? = nil
    }

    init(port: Int, _ options: Options = Options()) throws {
        socket = try TestClient(unconnectedWithTimeout: 10)
        if var size = options.receiveBuffer {
            setsockopt(socket.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        try socket.connect(port: port)
        guard let context = CReactorTLS_context_new(0) else { throw TestClient.Failure(description: "SSL_CTX_new") }
        self.context = context
        SSL_CTX_clear_options(context, CReactorTLS_OP_NO_RENEGOTIATION)  // so that a test can try
        _ = CReactorTLS_set_versions(context, options.minimumVersion, options.maximumVersion)
        if options.verifyAgainstCA {
            SSL_CTX_load_verify_locations(context, TLSTestCertificates.path("ca.pem"), nil)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        }
        if let certificate = options.certificate, let key = options.key {
            SSL_CTX_use_certificate_chain_file(context, certificate)
            SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM)
        }
        if !options.alpn.isEmpty {
            var wire: [UInt8] = []
            for name in options.alpn { wire += [UInt8(name.utf8.count)] + Array(name.utf8) }
            SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count))
        }
        let host = options.serverName ?? ""
        guard let ssl = CReactorTLS_new(context, socket.fd, 0, host, options.serverName == nil ? 0 : 1) else {
            SSL_CTX_free(context)
            throw TestClient.Failure(description: "SSL_new")
        }
        self.ssl = ssl
        if let session = options.session { SSL_set_session(ssl, session) }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Completes the handshake or throws with OpenSSL's reason.
    func handshake() throws {
        var detail: UInt = 0
        let status = CReactorTLS_handshake(ssl, &detail)
        guard status == CReactorTLS_OK else {
            throw TestClient.Failure(
                description: "handshake: status \(status.rawValue), \(TLSErrorCode(rawValue: UInt64(detail)))")
        }
    }

    func write(_ bytes: [UInt8]) throws {
        var count = 0
        var detail: UInt = 0
        let status = bytes.withUnsafeBytes { CReactorTLS_write(ssl, $0.baseAddress, $0.count, &count, &detail) }
        guard status == CReactorTLS_OK, count == bytes.count else {
            throw TestClient.Failure(description: "SSL_write: status \(status.rawValue), \(count) of \(bytes.count)")
        }
    }

    func read(exactly count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            var read = 0
            let result = bytes.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress! + got, count - got, &read) }
            guard result == 1 else {
                throw TestClient.Failure(
                    description: "SSL_read after \(got) of \(count): error \(SSL_get_error(ssl, result))")
            }
            got += read
        }
        return bytes
    }

    /// One line, without its `\n`.
    func readLine() throws -> String {
        var line: [UInt8] = []
        while true {
            let byte = try read(exactly: 1)[0]
            if byte == 0x0A { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    func readFrame() throws -> [UInt8] {
        let header = try read(exactly: 4)
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        return try read(exactly: length)
    }

    /// How the server's side of the stream ended, read through TLS: `.closeNotify` (its close_notify), `.eof`
    /// (a TCP end without one), or `.error` (anything else, such as a reset or an alert).
    enum End: Equatable {
        case closeNotify, eof
        case error(Int32)
    }

    func readUntilEnd() -> End {
        var scratch = [UInt8](repeating: 0, count: 16384)
        while true {
            var read = 0
            let result = scratch.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress, $0.count, &read) }
            if result == 1 { continue }
            let error = SSL_get_error(ssl, result)
            ERR_clear_error()
            if error == SSL_ERROR_ZERO_RETURN { return .closeNotify }
            if error == SSL_ERROR_SYSCALL || error == SSL_ERROR_SSL {
                // OpenSSL 3 reports an EOF without close_notify as SSL_ERROR_SSL ("unexpected eof").
                return errno == 0 || error == SSL_ERROR_SSL ? .eof : .error(error)
            }
            return .error(error)
        }
    }

    /// Sends close_notify.
    func sendCloseNotify() { _ = SSL_shutdown(ssl) }

    /// The raw socket, for bytes that bypass TLS.
    func sendRaw(_ bytes: [UInt8]) throws { try socket.send(bytes) }

    var version: String { String(cString: SSL_get_version(ssl)) }
    var isResumed: Bool { SSL_session_reused(ssl) == 1 }
    var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        CReactorTLS_alpn(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }
    var peerCommonName: String? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        var buffer = [CChar](repeating: 0, count: 256)
        X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, &buffer, 256)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    /// The session to resume with (retained; free with SSL_SESSION_free).
    var session: OpaquePointer? { SSL_get1_session(ssl) }
}

/// Answers each line with what the server's TLS layer knows about the connection:
/// `version alpn servername resumed peer-certificate-bytes\n`, and records why connections closed.
struct TLSInfoHandler: StreamHandler {
    final class Record: Sendable {
        let reasons = Locked<[CloseReason]>([])
    }
    let record = Record()

    func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
        while let newline = input.withUnsafeBytes({ $0.firstIndex(of: 0x0A) }) {
            input.consume(newline + 1)
            guard let tls = connection.tls else {
                connection.write("plain\n")
                continue
            }
            let line =
                "\(tls.protocolVersion) \(tls.negotiatedProtocol ?? "-") \(tls.serverName ?? "-") "
                + "\(tls.isSessionResumed) \(tls.peerCertificateDER?.count ?? 0)\n"
            connection.write(Array(line.utf8))
        }
    }

    func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
        record.reasons.withLock { $0.append(reason) }
    }
}
