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
        }
    }

    /// ``CloseReason`` without associated values.
    public enum Kind: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case peerClosed, truncatedFrame, peerReset, frameTooLong, writeBufferOverflow, idleTimeout, readTimeout
        case closedByHandler, shutdown, connectFailed, ioError, bufferedInputTooLarge, decodingFailed
        case peerStoppedReading

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
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif

extension CloseReason {
    /// The reason a connection closes with after a failed `read`/`send`: the peer's doing (reset, unreachable) or
    /// an unexpected I/O error.
    init(socketError error: SystemError) {
        switch error.errno.rawValue {
        case ECONNRESET, EPIPE, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH: self = .peerReset
        default: self = .ioError(error)
        }
    }
}
