/// What a handler can do with the connection an event belongs to: write replies, close it, ask its state.
///
/// Handed to the handler `inout` for the duration of one callback; it cannot be copied or kept.
public struct ConnectionContext: ~Copyable {
    unowned(unsafe) let connection: Connection
    unowned(unsafe) let io: LoopIO

    init(connection: Connection, io: LoopIO) {
        self.connection = connection
        self.io = io
    }

    /// The connection's identity.
    public var id: ConnectionID { connection.id }

    /// False while unsent bytes are above the high watermark (reading is paused until they drain).
    public var isWritable: Bool { !connection.flags.contains(.readPaused) }

    /// Bytes queued and not yet written to the socket.
    public var pendingWriteBytes: Int { connection.outbound.pendingBytes }

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
        connection.flags.insert(.closeAfterFlush)
        if connection.pendingCloseReason == .peerClosed { connection.pendingCloseReason = .closedByHandler }
        io.markDirty(connection)
    }

    func writeFrame(payload: UnsafeRawPointer?, count: Int) {
        let connection = connection
        if connection.flags.contains(.closed) || connection.flags.contains(.overflowed) { return }
        let total = connection.outbound.pendingBytes + LengthFieldDecoder.headerLength + count
        if total > io.limits.maxPendingWriteBytes {
            connection.flags.insert(.overflowed)
            connection.pendingCloseReason = .writeBufferOverflow(
                pendingBytes: total, limit: io.limits.maxPendingWriteBytes)
            io.markDirty(connection)
            return
        }
        var header = UInt32(truncatingIfNeeded: count).bigEndian
        withUnsafeBytes(of: &header) { header in
            connection.outbound.append(
                header.baseAddress!, count: 4, pool: io.pool, sizeClass: io.outboundClass,
                chunkSize: io.outboundChunkSize)
        }
        if let payload, count > 0 {
            connection.outbound.append(
                payload, count: count, pool: io.pool, sizeClass: io.outboundClass, chunkSize: io.outboundChunkSize)
        }
        io.counters.framesOut += 1
        io.markDirty(connection)
    }
}
