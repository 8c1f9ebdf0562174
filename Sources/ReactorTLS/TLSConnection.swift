import CReactorTLS
public import ReactorCore
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// One connection's TLS session: the ``ConnectionTransport`` the loop reads, writes and handshakes through, and what
/// a handler can ask about the session (``ConnectionContext/tls``).
///
/// **Why a socket BIO (as `SSL_set_fd` has it) and not memory BIOs.** OpenSSL reads and writes the socket itself,
/// as nginx has it: with read-ahead one `read(2)` brings every record that has arrived into OpenSSL's record buffer,
/// and `SSL_read` decrypts them straight into the loop's read buffer (or the connection's chunk), where the handler
/// decodes the plaintext in place exactly as on a plain connection; a write encrypts a contiguous run of queued
/// plaintext (the staging buffer of a read batch: one `SSL_write` per batch) into OpenSSL's write buffer and sends
/// each record from there. Memory BIOs would add a copy of every byte each way (socket to our buffer to OpenSSL's)
/// and a second buffer per direction, for no gain here: the loop already owns the descriptor and its readiness, and
/// the socket BIO reports `EAGAIN` as a retry. The cost of this choice is one `send(2)` per record (up to 16 KiB of
/// plaintext) rather than one `writev` for a whole queue, the same as nginx. The BIO is the shim's own (CReactorTLS.c)
/// rather than OpenSSL's `BIO_s_socket`, whose `write(2)` raises `SIGPIPE` when the peer has gone: ours sends with
/// `MSG_NOSIGNAL`, like the rest of ReactorCore, so a vanished peer is an `EPIPE` for its connection only.
///
/// Touched only on the connection's loop thread.
public final class TLSConnection: ConnectionTransport {
    /// Which end this is.
    public let role: TransportRole
    let ssl: OpaquePointer
    private let descriptor: CInt
    /// The context that made the session (keeps its `SSL_CTX` and its callbacks' argument alive).
    private let owner: AnyObject
    /// Server side: whether the first byte of the peer's hello has been looked at (to tell plain text from TLS).
    private var firstByteSeen: Bool
    /// The last read stopped because OpenSSL needed more from the socket: what it holds then is an incomplete
    /// record, which the socket's next readiness completes.
    private var readNeedsSocket = true

    init(ssl: OpaquePointer, descriptor: CInt, role: TransportRole, owner: AnyObject) {
        self.ssl = ssl
        self.descriptor = descriptor
        self.role = role
        self.owner = owner
        self.firstByteSeen = role == .client
    }

    deinit {
        SSL_free(ssl)
    }

    // MARK: ConnectionTransport

    public func handshake() -> TransportProgress {
        if !firstByteSeen, let early = lookAtFirstByte() { return early }
        var detail: UInt = 0
        let status = CReactorTLS_handshake(ssl, &detail)
        switch status {
        case CReactorTLS_OK: return TransportProgress(.completed)
        case CReactorTLS_WANT_READ: return TransportProgress(.wantsRead)
        case CReactorTLS_WANT_WRITE: return TransportProgress(.wantsWrite)
        case CReactorTLS_CLOSED, CReactorTLS_EOF: return TransportProgress(.inputEnded)
        case CReactorTLS_SYSCALL: return TransportProgress(.failed(socketFailure(detail, "SSL_do_handshake")))
        default:
            let code = TLSErrorCode(rawValue: UInt64(detail))
            switch code.reason {
            case CReactorTLS_R_CERTIFICATE_VERIFY_FAILED, CReactorTLS_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
                return TransportProgress(.failed(.tlsCertificateRejected(code: code)))
            case CReactorTLS_R_HTTP_REQUEST, CReactorTLS_R_HTTPS_PROXY_REQUEST:
                return TransportProgress(.failed(.tlsPlaintextPeer))
            default:
                if Self.isRecordOverflow(code) { return TransportProgress(.failed(.tlsRecordOverflow)) }
                return TransportProgress(.failed(.tlsHandshakeFailed(code: code)))
            }
        }
    }

    @inline(__always)
    public func read(into buffer: UnsafeMutableRawPointer, count: Int) -> TransportProgress {
        var bytes = 0
        var detail: UInt = 0
        let status = CReactorTLS_read(ssl, buffer, count, &bytes, &detail)
        // Waiting for the socket either way: readable again, or writable (a TLS 1.3 KeyUpdate to answer). Then what
        // OpenSSL holds is read when the socket is ready, not again at once (that spun the loop: `key-update-spin`).
        readNeedsSocket = status == CReactorTLS_WANT_READ || status == CReactorTLS_WANT_WRITE
        switch status {
        case CReactorTLS_OK: return TransportProgress(bytes: bytes, .completed)
        case CReactorTLS_WANT_READ: return TransportProgress(bytes: bytes, .wantsRead)
        default: return TransportProgress(bytes: bytes, readStopped(status, detail))
        }
    }

    @inline(__always)
    public func write(from buffer: UnsafeRawPointer, count: Int) -> TransportProgress {
        var bytes = 0
        var detail: UInt = 0
        let status = CReactorTLS_write(ssl, buffer, count, &bytes, &detail)
        switch status {
        case CReactorTLS_OK: return TransportProgress(bytes: bytes, .completed)
        case CReactorTLS_WANT_WRITE: return TransportProgress(bytes: bytes, .wantsWrite)
        default: return TransportProgress(bytes: bytes, writeStopped(status, detail))
        }
    }

    public var hasBufferedInput: Bool { !readNeedsSocket && CReactorTLS_has_pending(ssl) != 0 }

    public func sendCloseNotify() -> Bool {
        CReactorTLS_send_close_notify(ssl) == 1
    }

    // MARK: Failures

    @inline(never)
    private func readStopped(_ status: CReactorTLS_Status, _ detail: UInt) -> TransportProgress.Status {
        switch status {
        case CReactorTLS_WANT_WRITE: return .wantsWrite
        case CReactorTLS_CLOSED: return .inputEnded
        case CReactorTLS_EOF: return .failed(.tlsTruncated)
        case CReactorTLS_RENEGOTIATION: return .failed(.tlsRenegotiationRefused)
        case CReactorTLS_SYSCALL: return .failed(socketFailure(detail, "SSL_read"))
        default:
            let code = TLSErrorCode(rawValue: UInt64(detail))
            return .failed(Self.isRecordOverflow(code) ? .tlsRecordOverflow : .tlsProtocolError(code: code))
        }
    }

    @inline(never)
    private func writeStopped(_ status: CReactorTLS_Status, _ detail: UInt) -> TransportProgress.Status {
        switch status {
        case CReactorTLS_SYSCALL: return .failed(socketFailure(detail, "SSL_write"))
        case CReactorTLS_CLOSED, CReactorTLS_EOF: return .failed(.peerReset)
        case CReactorTLS_PROTOCOL: return .failed(.tlsProtocolError(code: TLSErrorCode(rawValue: UInt64(detail))))
        default:
            // WANT_READ: a write that must read first happens only in a renegotiation, which is refused both ways;
            // waiting for writability would spin, so the connection closes instead.
            return .failed(.tlsProtocolError(code: TLSErrorCode(rawValue: 0)))
        }
    }

    private func socketFailure(_ errno: UInt, _ call: String) -> CloseReason {
        CloseReason(socketError: SystemError(syscall: call, errno: Errno(rawValue: CInt(truncatingIfNeeded: errno))))
    }

    /// Reasons OpenSSL gives for a record longer than TLS allows (RFC 8446 §5.1, §5.2), or the peer's alert saying
    /// we sent one.
    private static func isRecordOverflow(_ code: TLSErrorCode) -> Bool {
        switch code.reason {
        case CReactorTLS_R_ENCRYPTED_LENGTH_TOO_LONG, CReactorTLS_R_DATA_LENGTH_TOO_LONG,
            CReactorTLS_R_PACKET_LENGTH_TOO_LONG, CReactorTLS_R_RECORD_OVERFLOW:
            return true
        default: return false
        }
    }

    /// Server side, before the first handshake step: a first byte that cannot start a TLS record (a handshake
    /// record is 0x16; 0x80 and up may be an SSLv2-format hello, left to OpenSSL) but is printable is a plain-text
    /// client (an HTTP request, a RESP command), told apart from a broken TLS client. Nil: go on with the handshake.
    private func lookAtFirstByte() -> TransportProgress? {
        var byte: UInt8 = 0
        let got = recv(descriptor, &byte, 1, CInt(MSG_PEEK) | CInt(MSG_DONTWAIT))
        if got < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return TransportProgress(.wantsRead) }
            return TransportProgress(.failed(socketFailure(UInt(errno), "recv")))
        }
        if got == 0 { return TransportProgress(.inputEnded) }
        firstByteSeen = true
        if byte != 0x16 && byte >= 0x20 && byte < 0x7F { return TransportProgress(.failed(.tlsPlaintextPeer)) }
        return nil
    }

    // MARK: What a handler can ask

    /// The ALPN protocol agreed on (`"http/1.1"`), or nil if none was.
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        CReactorTLS_alpn(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The protocol version in use (`"TLSv1.3"`).
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// The cipher suite in use (`"TLS_AES_256_GCM_SHA384"`), or nil before the handshake.
    public var cipherSuite: String? {
        guard let cipher = SSL_get_current_cipher(ssl) else { return nil }
        return String(cString: SSL_CIPHER_get_name(cipher))
    }

    /// The server name the client sent (SNI), if any.
    public var serverName: String? { CReactorTLS_servername(ssl).map { String(cString: $0) } }

    /// Whether the session was resumed from a ticket rather than a full handshake.
    public var isSessionResumed: Bool { SSL_session_reused(ssl) == 1 }

    /// The peer's certificate in DER form (a server sees one only when it asks for client certificates), or nil.
    public var peerCertificateDER: [UInt8]? {
        let size = CReactorTLS_peer_certificate_der(ssl, nil, 0)
        guard size > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(size))
        guard CReactorTLS_peer_certificate_der(ssl, &der, size) == size else { return nil }
        return der
    }
}

extension ConnectionContext {
    /// The connection's TLS session, or nil on a plain connection.
    public var tls: TLSConnection? { transport as? TLSConnection }
}
