import SystemPackage

/// Why a connection was closed. Every close has exactly one, and every reason is counted.
public enum CloseReason: Sendable, Hashable, CustomStringConvertible {
    /// The peer shut down its side cleanly between frames; every reply was sent first.
    case peerClosed
    /// The peer shut down its side with `bufferedBytes` of input left unconsumed (the middle of a frame).
    case truncatedFrame(bufferedBytes: Int)
    /// The peer reset the connection (`ECONNRESET`, or `EPIPE` on write).
    case peerReset
    /// A length prefix exceeded the configured maximum: nothing was allocated for that frame, the replies to the
    /// frames before it were sent, then the connection was closed.
    case frameTooLong(length: Int, limit: Int)
    /// The handler kept more than ``ConnectionLimits/maxBufferedInput`` bytes unconsumed (a message that never
    /// completes, or a handler that never consumes): `bufferedBytes` were held when it was closed.
    case bufferedInputTooLarge(bufferedBytes: Int, limit: Int)
    /// A ``MessageDecoder`` found input that can never form a valid message (a line longer than its limit, an
    /// invalid length field), or a handler called ``ConnectionContext/close(dueTo:)``. The replies to the messages
    /// before it were sent first.
    case decodingFailed(MessageDecodingError)
    /// The peer made no progress (sent nothing and read none of the queued replies) for the idle timeout.
    case idleTimeout
    /// A frame started arriving but did not complete within the read timeout (`bufferedBytes` of it had arrived).
    case readTimeout(bufferedBytes: Int)
    /// The handler kept writing past the per-connection cap on unsent bytes.
    case writeBufferOverflow(pendingBytes: Int, limit: Int)
    /// The handler called ``ConnectionContext/close()``.
    case closedByHandler
    /// The server or client was stopped.
    case shutdown
    /// The connection was closing gracefully (for `closingFor`), but the peer stopped reading: it took none of the
    /// replies still queued for ``ConnectionLimits/lingerTimeout``, or, once all were written, had not acknowledged
    /// them when the linger ended. `unsentBytes` were dropped (our queue, or the kernel's send queue).
    case peerStoppedReading(unsentBytes: Int, closingFor: Kind)
    /// A client connection could not be established (refused, unreachable, timed out).
    case connectFailed(SystemError)
    /// An unexpected socket error.
    case ioError(SystemError)
    /// The TLS handshake failed (garbage, no common version, cipher or ALPN protocol, an alert from the peer):
    /// `code` is the TLS library's error.
    case tlsHandshakeFailed(code: TLSErrorCode)
    /// The TLS handshake did not complete within the transport's handshake timeout (a peer that stalls mid-way).
    case tlsHandshakeTimeout
    /// A peer spoke plain text (an HTTP request, RESP) to a TLS port.
    case tlsPlaintextPeer
    /// The peer's certificate was missing or failed verification (untrusted, expired) while client certificates are
    /// required: `code` is the TLS library's error.
    case tlsCertificateRejected(code: TLSErrorCode)
    /// A TLS record longer than the protocol allows (over 2^14 bytes of plaintext, RFC 8446 §5.1).
    case tlsRecordOverflow
    /// The peer tried to renegotiate (TLS 1.2); renegotiation is refused, and the connection closed gracefully.
    case tlsRenegotiationRefused
    /// The peer's TCP stream ended without TLS's close_notify: what arrived is authentic, but the peer may not have
    /// sent all it meant to (a truncation attack, or a client that does not send close_notify).
    case tlsTruncated
    /// A TLS record after the handshake was invalid (bad MAC, unexpected message, a fatal alert from the peer):
    /// `code` is the TLS library's error.
    case tlsProtocolError(code: TLSErrorCode)

    /// The reason without its details, for counting.
    public var kind: Kind {
        switch self {
        case .peerClosed: return .peerClosed
        case .truncatedFrame: return .truncatedFrame
        case .peerReset: return .peerReset
        case .frameTooLong: return .frameTooLong
        case .bufferedInputTooLarge: return .bufferedInputTooLarge
        case .decodingFailed: return .decodingFailed
        case .writeBufferOverflow: return .writeBufferOverflow
        case .idleTimeout: return .idleTimeout
        case .readTimeout: return .readTimeout
        case .closedByHandler: return .closedByHandler
        case .shutdown: return .shutdown
        case .peerStoppedReading: return .peerStoppedReading
        case .connectFailed: return .connectFailed
        case .ioError: return .ioError
        case .tlsHandshakeFailed: return .tlsHandshakeFailed
        case .tlsHandshakeTimeout: return .tlsHandshakeTimeout
        case .tlsPlaintextPeer: return .tlsPlaintextPeer
        case .tlsCertificateRejected: return .tlsCertificateRejected
        case .tlsRecordOverflow: return .tlsRecordOverflow
        case .tlsRenegotiationRefused: return .tlsRenegotiationRefused
        case .tlsTruncated: return .tlsTruncated
        case .tlsProtocolError: return .tlsProtocolError
        }
    }

    /// ``CloseReason`` without associated values.
    public enum Kind: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case peerClosed, truncatedFrame, peerReset, frameTooLong, writeBufferOverflow, idleTimeout, readTimeout
        case closedByHandler, shutdown, connectFailed, ioError, bufferedInputTooLarge, decodingFailed
        case peerStoppedReading
        case tlsHandshakeFailed, tlsHandshakeTimeout, tlsPlaintextPeer, tlsCertificateRejected, tlsRecordOverflow
        case tlsRenegotiationRefused, tlsTruncated, tlsProtocolError

        public var description: String {
            switch self {
            case .peerClosed: return "peerClosed"
            case .truncatedFrame: return "truncatedFrame"
            case .peerReset: return "peerReset"
            case .frameTooLong: return "frameTooLong"
            case .writeBufferOverflow: return "writeBufferOverflow"
            case .idleTimeout: return "idleTimeout"
            case .readTimeout: return "readTimeout"
            case .closedByHandler: return "closedByHandler"
            case .shutdown: return "shutdown"
            case .connectFailed: return "connectFailed"
            case .ioError: return "ioError"
            case .bufferedInputTooLarge: return "bufferedInputTooLarge"
            case .decodingFailed: return "decodingFailed"
            case .peerStoppedReading: return "peerStoppedReading"
            case .tlsHandshakeFailed: return "tlsHandshakeFailed"
            case .tlsHandshakeTimeout: return "tlsHandshakeTimeout"
            case .tlsPlaintextPeer: return "tlsPlaintextPeer"
            case .tlsCertificateRejected: return "tlsCertificateRejected"
            case .tlsRecordOverflow: return "tlsRecordOverflow"
            case .tlsRenegotiationRefused: return "tlsRenegotiationRefused"
            case .tlsTruncated: return "tlsTruncated"
            case .tlsProtocolError: return "tlsProtocolError"
            }
        }
    }

    public var description: String {
        switch self {
        case .peerClosed: return "peer closed"
        case .truncatedFrame(let bytes): return "peer closed mid-frame (\(bytes) bytes of it buffered)"
        case .peerReset: return "peer reset"
        case .frameTooLong(let length, let limit): return "frame too long (\(length) > \(limit) bytes)"
        case .writeBufferOverflow(let pending, let limit):
            return "write buffer overflow (\(pending) > \(limit) bytes unsent)"
        case .bufferedInputTooLarge(let bytes, let limit):
            return "buffered input too large (\(bytes) > \(limit) bytes unconsumed)"
        case .decodingFailed(let error): return "decoding failed: \(error)"
        case .idleTimeout: return "idle timeout"
        case .readTimeout(let bytes): return "read timeout (frame incomplete, \(bytes) bytes of it buffered)"
        case .closedByHandler: return "closed by handler"
        case .shutdown: return "shutdown"
        case .peerStoppedReading(let bytes, let closingFor):
            return "peer stopped reading while closing (\(closingFor)): \(bytes) bytes unsent"
        case .connectFailed(let error): return "connect failed: \(error)"
        case .ioError(let error): return "I/O error: \(error)"
        case .tlsHandshakeFailed(let code): return "TLS handshake failed (\(code))"
        case .tlsHandshakeTimeout: return "TLS handshake timeout"
        case .tlsPlaintextPeer: return "plain text on a TLS port"
        case .tlsCertificateRejected(let code): return "peer certificate rejected (\(code))"
        case .tlsRecordOverflow: return "TLS record too long"
        case .tlsRenegotiationRefused: return "TLS renegotiation refused"
        case .tlsTruncated: return "TLS input ended without close_notify"
        case .tlsProtocolError(let code): return "TLS protocol error (\(code))"
        }
    }
}

/// An error code of the TLS library (OpenSSL's packed `ERR_get_error()` value), carried by the TLS close reasons.
/// Its description is the hexadecimal form `openssl errstr` decodes; `ReactorTLS` adds OpenSSL's own text.
public struct TLSErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// The packed code (0: none recorded).
    public let rawValue: UInt64

    /// Wraps a packed code.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return "error:" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }
}

#if canImport(Glibc)
    import Glibc
#endif

extension CloseReason {
    /// The reason a connection closes with after a failed `read`/`send`: the peer's doing (reset, unreachable) or
    /// an unexpected I/O error.
    public init(socketError error: SystemError) {
        switch error.errno.rawValue {
        case ECONNRESET, EPIPE, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH: self = .peerReset
        default: self = .ioError(error)
        }
    }
}
