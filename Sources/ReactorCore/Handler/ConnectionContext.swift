/// What a handler can do with the connection an event belongs to: write replies, close it, ask its state.
///
/// Handed to the handler `inout` for the duration of one callback; it cannot be copied or kept.
public struct ConnectionContext: ~Copyable {
    // Unmanaged, used through `_withUnsafeGuaranteedRef`: the loop keeps both alive for the whole callback, and a
    // context never outlives it (it is ~Copyable and handed out inout), so the hot path does no retain/release.
    private let unmanagedConnection: Unmanaged<Connection>
    private let unmanagedIO: Unmanaged<LoopIO>

    init(connection: Connection, io: LoopIO) {
        self.unmanagedConnection = .passUnretained(connection)
        self.unmanagedIO = .passUnretained(io)
    }

    /// The connection (borrowed; the loop owns it).
    var connection: Connection { unmanagedConnection.takeUnretainedValue() }

    /// The connection's identity.
    public var id: ConnectionID { connection.id }

    /// The loop that owns the connection and runs every callback for it: schedule a ``LoopTimer`` on it to act on
    /// the connection later.
    public var eventLoop: EventLoop { unmanagedIO.takeUnretainedValue().loop }

    /// False while unsent bytes are above the high watermark (reading is paused until they drain).
    public var isWritable: Bool { !connection.flags.contains(.readPaused) }

    /// Bytes queued and not yet written to the socket.
    public var pendingWriteBytes: Int {
        let io = unmanagedIO.takeUnretainedValue()
        return connection.outbound.pendingBytes
            + (io.stagingOwner == ObjectIdentifier(connection) ? io.stagingCount : 0)
    }

    /// Queues one frame whose payload is `frame`'s bytes (the echo).
    public mutating func write(_ frame: FrameView) {
        writeFrame(payload: frame.base, count: frame.count)
    }

    /// Queues one frame with `payload`.
    public mutating func write(_ payload: UnsafeRawBufferPointer) {
        writeFrame(payload: payload.baseAddress, count: payload.count)
    }

    /// Queues one frame with `payload` (contiguous collections are copied without an intermediate buffer).
    public mutating func write(_ payload: some Collection<UInt8>) {
        let done: Void? = payload.withContiguousStorageIfAvailable { buffer in
            writeFrame(payload: UnsafeRawPointer(buffer.baseAddress), count: buffer.count)
        }
        if done == nil {
            let copy = Array(payload)
            copy.withUnsafeBytes { writeFrame(payload: $0.baseAddress, count: $0.count) }
        }
    }

    /// Closes the connection after every queued reply is written. No more frames are delivered.
    public mutating func close() {
        let connection = connection
        connection.flags.insert(.closeAfterFlush)
        if connection.pendingCloseReason == .peerClosed { connection.pendingCloseReason = .closedByHandler }
        unmanagedIO.takeUnretainedValue().markDirty(connection)
    }

    @inline(__always)
    func writeFrame(payload: UnsafeRawPointer?, count: Int) {
        unmanagedIO._withUnsafeGuaranteedRef { io in
            unmanagedConnection._withUnsafeGuaranteedRef { connection in
                io.appendFrame(payload: payload, count: count, to: connection)
            }
        }
    }
}
