/// A layer between a connection's socket and its ``StreamHandler`` that changes the bytes both ways: TLS
/// (`ReactorTLS`'s `TLSConnection`). The handler reads and writes plaintext exactly as on a plain connection.
///
/// The loop drives it: ``handshake()`` until it completes (the handler's ``StreamHandler/onOpen(connection:)`` runs
/// only then), then ``read(into:count:)`` wherever a plain connection would `read(2)` and ``write(from:count:)`` for
/// each contiguous run of queued bytes wherever it would `send(2)`/`writev(2)`. The transport does its own system
/// calls on the descriptor it was made for. Every call happens on the connection's loop thread; none may block.
/// The transport is released when the connection closes (after ``sendCloseNotify()`` on a graceful close).
public protocol ConnectionTransport: AnyObject {
    /// One step of the handshake: `.completed` once it is done (then the connection is open for traffic),
    /// `.wantsRead`/`.wantsWrite` until the socket is ready for it, `.failed` to close the connection.
    func handshake() -> TransportProgress
    /// Reads plaintext into `buffer` (at most `count` bytes): ``TransportProgress/bytes`` arrived (deliver them
    /// before acting on the status), then `.completed` (the buffer is full: call again), `.wantsRead` (nothing more
    /// for now), `.wantsWrite` (call again once the socket is writable), `.inputEnded` (the peer ended its output
    /// cleanly) or `.failed`.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> TransportProgress
    /// Writes the `count` plaintext bytes at `buffer`: ``TransportProgress/bytes`` were taken (drop exactly those
    /// from the queue; the rest must be offered again, starting with the same bytes), then `.completed` (all of
    /// them), `.wantsWrite` (the socket is full) or `.failed`.
    func write(from buffer: UnsafeRawPointer, count: Int) -> TransportProgress
    /// Plaintext already received and decrypted but not yet read: the socket will not report it, so the loop reads
    /// again instead of waiting for an event.
    var hasBufferedInput: Bool { get }
    /// Ends our output at the transport's level (TLS's close_notify) before a graceful close's FIN: true once it is
    /// sent (or there was nothing to send), false while the socket is full (the loop calls again when it is
    /// writable, bounded by the linger timeout).
    func sendCloseNotify() -> Bool
}

/// What one ``ConnectionTransport`` step did: how many bytes it moved, and what comes next.
public struct TransportProgress: Sendable {
    /// Plaintext bytes moved by the step (0 for a handshake step).
    public var bytes: Int
    /// What the step ended with.
    public var status: Status

    /// Creates a progress report.
    @inlinable
    public init(bytes: Int = 0, _ status: Status) {
        self.bytes = bytes
        self.status = status
    }

    /// What a ``ConnectionTransport`` step ended with.
    public enum Status: Sendable {
        /// Done: the handshake completed, or every byte asked for was moved.
        case completed
        /// Waits for the socket to become readable.
        case wantsRead
        /// Waits for the socket to become writable.
        case wantsWrite
        /// The peer ended its output cleanly (TLS close_notify).
        case inputEnded
        /// The connection must close for this reason (the transport already sent whatever alert its protocol
        /// sends).
        case failed(CloseReason)
    }
}

extension TransportProgress.Status {
    /// Whether a read that ended so stops the read loop (anything but `.completed`).
    var isStop: Bool {
        if case .completed = self { return false }
        return true
    }
}

/// Which end of the connection a transport plays.
public enum TransportRole: Sendable, Hashable {
    /// Accepted by a ``Server``.
    case server
    /// Opened by a ``Client``.
    case client
}

/// Makes the ``ConnectionTransport`` for each new connection: set ``ServerConfiguration/transport`` or
/// ``ClientConfiguration/transport`` to one (`ReactorTLS`'s `TLSServerContext`, `TLSClientContext`). Shared by
/// every loop, so it must be thread-safe.
public protocol ConnectionTransportProvider: Sendable {
    /// How long a connection may take to complete its handshake before it is closed with
    /// ``CloseReason/tlsHandshakeTimeout``; nil for no limit.
    var handshakeTimeout: Duration? { get }
    /// A transport for the connection on `descriptor` (already non-blocking and registered with the loop), or a
    /// reason to close it at once.
    func makeTransport(descriptor: CInt, role: TransportRole) -> TransportSetup
}

/// What ``ConnectionTransportProvider/makeTransport(descriptor:role:)`` gives.
public enum TransportSetup {
    /// The connection's transport; its handshake starts at once.
    case ready(any ConnectionTransport)
    /// No transport could be made (out of memory in the TLS library): the connection closes for this reason.
    case refused(CloseReason)
}
