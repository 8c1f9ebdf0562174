import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// What a handler can do with the connection an event belongs to: write replies, close it, ask its state, take a
/// ``ConnectionHandle`` to reach it later from anywhere.
///
/// Handed to the handler `inout` for the duration of one callback; it is `~Copyable` with no public initialiser,
/// so it cannot be kept. Every write lands in the loop's staging buffer (during the connection's own read batch)
/// or in the connection's queue of pooled chunks; either way it leaves with one `send`/`writev` per connection per
/// loop iteration, subject to the watermarks and the hard cap of ``ConnectionLimits``. A write that would pass
/// ``ConnectionLimits/maxPendingWriteBytes`` closes the connection with
/// ``CloseReason/writeBufferOverflow(pendingBytes:limit:)``; writes after ``close()`` are dropped.
public struct ConnectionContext: ~Copyable {
    // Unmanaged, used through `_withUnsafeGuaranteedRef`: the loop keeps both alive for the whole callback, and a
    // context never outlives it (it is ~Copyable and handed out inout), so the hot path does no retain/release.
    private let unmanagedConnection: Unmanaged<Connection>
    private let unmanagedIO: Unmanaged<LoopIO>

    /// The connection's phase, read by the inlinable decode loops (``FrameHandler``'s) to stop at a close.
    @usableFromInline let phaseAddress: UnsafePointer<UInt8>

    init(connection: Connection, io: LoopIO) {
        self.unmanagedConnection = .passUnretained(connection)
        self.unmanagedIO = .passUnretained(io)
        self.phaseAddress = connection.phaseAddress
    }

    /// The connection (borrowed; the loop owns it).
    var connection: Connection { unmanagedConnection.takeUnretainedValue() }

    /// The server's or client's logger, which ``logger`` extends.
    var baseLogger: Logger { unmanagedIO.takeUnretainedValue().logger }

    @inline(__always)
    private func withIO<Result>(_ body: (LoopIO, Connection) -> Result) -> Result {
        unmanagedIO._withUnsafeGuaranteedRef { io in
            unmanagedConnection._withUnsafeGuaranteedRef { connection in body(io, connection) }
        }
    }

    // MARK: Identity and state

    /// The connection's identity.
    public var id: ConnectionID { connection.id }

    /// A `Sendable` handle on this connection, to write to it or close it later from any thread.
    public var handle: ConnectionHandle {
        let io = unmanagedIO.takeUnretainedValue()
        return ConnectionHandle(id: connection.id, io: io)
    }

    /// The loop that owns the connection and runs every callback for it: schedule a ``LoopTimer`` on it to act on
    /// the connection later.
    public var eventLoop: ReactorLoop { unmanagedIO.takeUnretainedValue().loop }

    /// The layer between the socket and this handler (TLS: `ReactorTLS` reads the negotiated protocol, version and
    /// peer certificate through it), or nil on a plain connection.
    public var transport: (any ConnectionTransport)? { connection.transport }

    /// The peer's address (`getpeername`; a system call, not for the hot path). Nil if the socket has none any more.
    public var peerAddress: ReactorSocketAddress? { try? Posix.peerAddress(connection.fd) }

    /// The local address the connection arrived on (`getsockname`). Nil if it cannot be read.
    public var localAddress: ReactorSocketAddress? { try? Posix.localAddress(connection.fd) }

    /// False once writes are dropped: the connection is closing (after ``close()``, the peer's FIN, a decoding
    /// error or a drain) or closed, or a write passed the hard cap.
    public var acceptsWrites: Bool { connection.acceptsWrites }

    /// False while unsent bytes are above the high watermark (reading is paused until they drain).
    public var isWritable: Bool { !connection.flags.contains(.readPaused) }

    /// Bytes queued and not yet written to the socket.
    public var pendingWriteBytes: Int {
        withIO { io, connection in
            connection.outbound.pendingBytes
                + (io.stagingOwner == ObjectIdentifier(connection) ? io.stagingCount : 0)
        }
    }

    /// False once the connection left its open phase (closing, or a write passed the hard cap): decode loops stop
    /// here.
    @inlinable
    var isTakingInput: Bool { phaseAddress.pointee == Self.openPhase }

    /// `Connection.Phase.open.rawValue` (checked against it when a connection is created).
    @inlinable
    static var openPhase: UInt8 { 0 }

    // MARK: Raw writes

    /// Queues `bytes` as they are (no header).
    @inline(__always)
    public mutating func write(_ bytes: RawSpan) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Queues `bytes` as they are (no header).
    @inline(__always)
    public mutating func write(_ bytes: UnsafeRawBufferPointer) {
        withIO { io, connection in io.write(bytes.baseAddress, count: bytes.count, to: connection) }
    }

    /// Queues `bytes` as they are (no header). Contiguous collections (`[UInt8]`, `ArraySlice`, `Data`…) are copied
    /// without an intermediate buffer; others are copied into an array first (allocates).
    public mutating func write(_ bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { write(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { write($0) } }
    }

    /// Queues the UTF-8 bytes of a string literal as they are.
    @inline(__always)
    public mutating func write(_ text: StaticString) {
        write(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A gathering write: queues `first` then `second`, as one run of bytes, without concatenating them first
    /// (a header and a body).
    @inline(__always)
    public mutating func write(_ first: RawSpan, _ second: RawSpan) {
        write(first)
        write(second)
    }

    /// A gathering write of three pieces (header, body, trailer).
    @inline(__always)
    public mutating func write(_ first: RawSpan, _ second: RawSpan, _ third: RawSpan) {
        write(first)
        write(second)
        write(third)
    }

    /// Formats up to `capacity` bytes straight into the outbound bytes: `body` gets a buffer of exactly `capacity`
    /// bytes (valid only during the call), fills a prefix of it and returns how many bytes it wrote (0...capacity).
    /// During the connection's read batch the buffer is the loop's staging buffer itself (no copy at all); otherwise
    /// a pooled chunk whose content is then appended to the queue. If the write is refused (closed, or over the
    /// hard cap) `body` is not called.
    @inlinable
    public mutating func write<Failure: Error>(
        reserving capacity: Int, _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Int
    ) throws(Failure) {
        // Inlinable over a non-generic entry: a caller in another module (a codec's reply writer) gets this
        // specialised for its `Failure` (usually `Never`), where a generic call would look up `Result<Void,
        // Failure>`'s metadata on every reply. A throwing `body` writes nothing.
        var failure: Failure? = nil
        formatOutbound(reserving: capacity) { buffer in
            do throws(Failure) {
                return try body(buffer)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
    }

    /// ``write(reserving:_:)`` for a body that cannot fail: through `withIO` (unretained: no retain/release per
    /// reply).
    @usableFromInline
    mutating func formatOutbound(reserving capacity: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        precondition(capacity >= 0, "negative reservation")
        withIO { io, connection in io.write(reserving: capacity, to: connection, body) }
    }

    // MARK: Length-prefixed writes (the length-field codec's encoder)

    /// Queues one frame: `prepender`'s length header for `payload`, then `payload` (default: 4-byte big-endian
    /// length, the framework's own format). The payload must fit the header (see
    /// ``LengthFieldEncoder/canEncode(payloadCount:)``).
    @inline(__always)
    public mutating func writeFrame(_ payload: RawSpan, using prepender: LengthFieldEncoder = .standard) {
        payload.withUnsafeBytes { writeFrame($0, using: prepender) }
    }

    /// Queues one frame with `payload` (see ``writeFrame(_:using:)-(RawSpan,_)``).
    @inline(__always)
    public mutating func writeFrame(
        _ payload: UnsafeRawBufferPointer, using prepender: LengthFieldEncoder = .standard
    ) {
        precondition(
            prepender.canEncode(payloadCount: payload.count),
            "payload of \(payload.count) bytes does not fit the length field")
        withIO { io, connection in
            io.writeFrame(payload.baseAddress, count: payload.count, prepender: prepender, to: connection)
        }
    }

    /// Queues one frame with `payload` (contiguous collections are copied without an intermediate buffer).
    public mutating func writeFrame(
        _ payload: some Collection<UInt8>, using prepender: LengthFieldEncoder = .standard
    ) {
        let done: Void? = payload.withContiguousStorageIfAvailable {
            writeFrame(UnsafeRawBufferPointer($0), using: prepender)
        }
        if done == nil { Array(payload).withUnsafeBytes { writeFrame($0, using: prepender) } }
    }

    /// Queues `frame` back as a frame of the default format (a frame is written as a frame: the echo). Same as
    /// `writeFrame` with the frame's payload.
    @inline(__always)
    public mutating func write(_ frame: FrameView) {
        withIO { io, connection in io.writeStandardFrame(frame.base, count: frame.count, to: connection) }
    }

    // MARK: Closing

    /// Closes the connection after every queued reply is written. No more input is delivered. The close is
    /// graceful: our FIN goes out after the last reply, and unread input is drained for up to
    /// ``ConnectionLimits/lingerTimeout`` so that a reset does not destroy replies the peer has not read yet.
    public mutating func close() {
        closeGracefully(reason: .closedByHandler)
    }

    /// Closes the connection like ``close()``, reporting ``CloseReason/frameTooLong(length:limit:)`` or
    /// ``CloseReason/decodingFailed(_:)`` for `error` (for a handler that found malformed input itself; write the
    /// protocol's own error reply first, it is delivered before the FIN).
    public mutating func close(dueTo error: MessageDecodingError) {
        switch error {
        case .frameTooLong(let length, let limit): closeGracefully(reason: .frameTooLong(length: length, limit: limit))
        default: closeGracefully(reason: .decodingFailed(error))
        }
    }

    private func closeGracefully(reason: CloseReason) {
        withIO { io, connection in
            // The flush at the end of the iteration sends what is queued, then the FIN (`SubReactor+Lifecycle`).
            if connection.beginClosing(reason) { io.markDirty(connection) }
        }
    }
}
