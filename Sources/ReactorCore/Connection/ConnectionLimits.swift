/// The per-connection limits and buffer sizes a loop enforces.
public struct ConnectionLimits: Sendable, Hashable {
    /// The largest frame payload accepted; a larger length prefix closes the connection with
    /// ``CloseReason/frameTooLong(length:limit:)`` before anything is allocated for it. Default 1 MiB.
    public var maxFrameLength: Int = 1 << 20
    /// The most unconsumed input a connection may hold between two handler calls (a message still arriving, or
    /// bytes a handler declined to consume). Past it the connection closes with
    /// ``CloseReason/bufferedInputTooLarge(bufferedBytes:limit:)``. Buffered memory only grows with bytes that
    /// arrived: an ``InboundBytes/expect(atLeast:)`` beyond this is never allocated, and reads are cut so that no
    /// connection ever holds more. Default: ``maxFrameLength`` + 64 (one frame with room for any length-field
    /// header: up to 8 length bytes after an offset), following ``maxFrameLength`` unless set.
    public var maxBufferedInput: Int {
        get { explicitMaxBufferedInput ?? maxFrameLength + 64 }
        set { explicitMaxBufferedInput = newValue }
    }
    private var explicitMaxBufferedInput: Int?
    /// Bytes of the loop's read buffer; complete frames in it are decoded in place. Default 64 KiB.
    public var readBufferSize: Int = 64 * 1024
    /// The most bytes read from one connection per wakeup, so one fast peer cannot starve the others. Default 256 KiB.
    public var maxReadBytesPerWakeup: Int = 256 * 1024
    /// Size of the pooled chunks replies are queued in. Default 16 KiB.
    public var outboundChunkSize: Int = 16 * 1024
    /// Above this many unsent bytes the connection stops being read and the handler is told it is not writable.
    /// Default 1 MiB.
    public var writeHighWatermark: Int = 1 << 20
    /// Once unsent bytes fall to this, reading resumes and the handler is told it is writable again. Default 256 KiB.
    public var writeLowWatermark: Int = 256 * 1024
    /// A write that would take unsent bytes past this closes the connection with
    /// ``CloseReason/writeBufferOverflow(pendingBytes:limit:)``. Default 16 MiB.
    public var maxPendingWriteBytes: Int = 16 << 20

    /// A connection on which the peer makes no progress (sends nothing, and takes none of the queued replies) for
    /// this long is closed with ``CloseReason/idleTimeout``. `nil` turns it off. Default `nil`.
    public var idleTimeout: Duration? = nil
    /// A frame must arrive completely within this long of its first byte, or the connection is closed with
    /// ``CloseReason/readTimeout(bufferedBytes:)``: a peer cannot hold a half-sent frame (and its buffer) open
    /// forever by trickling bytes (slowloris). Not counted while reading is paused by backpressure. `nil` turns it
    /// off. Default 30 s.
    public var readTimeout: Duration? = .seconds(30)

    /// Bounds a graceful close (after ``ConnectionContext/close()`` or during a drain) twice over. While replies
    /// are still going out, a peer that takes none of them for this long gets the connection closed with
    /// ``CloseReason/peerStoppedReading(unsentBytes:closingFor:)``. Once they are out, unless the peer already
    /// acknowledged them all and sent nothing unread, the loop sends its FIN and reads and drops input until the
    /// peer's FIN (or, if it sent nothing more, until it acknowledged every byte) for at most this long before
    /// closing: closing a socket with unread input, or receiving input after the close, sends a reset, which can
    /// destroy replies the peer has not read yet. Replies still unacknowledged then are reported the same way. `.zero` turns both off
    /// (close at once once flushed; no bound on the flush but the drain timeout). Default 2 s.
    public var lingerTimeout: Duration = .seconds(2)

    /// Default limits.
    public init() {}

    func validated() -> ConnectionLimits {
        precondition(maxFrameLength >= 0 && maxFrameLength <= Int(UInt32.max), "maxFrameLength out of range")
        precondition(maxBufferedInput >= 1 && maxBufferedInput <= 1 << 40, "maxBufferedInput out of range")
        precondition(readBufferSize >= 4096, "readBufferSize must be at least 4 KiB")
        precondition(outboundChunkSize >= 4096, "outboundChunkSize must be at least 4 KiB")
        precondition(writeLowWatermark <= writeHighWatermark, "writeLowWatermark must not exceed writeHighWatermark")
        precondition(writeHighWatermark <= maxPendingWriteBytes, "writeHighWatermark must not exceed the hard cap")
        precondition(idleTimeout.map { $0 > .zero } ?? true, "idleTimeout must be positive (nil turns it off)")
        precondition(readTimeout.map { $0 > .zero } ?? true, "readTimeout must be positive (nil turns it off)")
        precondition(lingerTimeout >= .zero, "lingerTimeout must not be negative")
        return self
    }
}
