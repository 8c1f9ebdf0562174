/// One connection's state, owned by its loop: the decoder's partial frame, the unsent replies, the epoll interest
/// and the lifecycle flags. Touched only on the owning loop's thread.
///
/// An idle connection (no partial frame, nothing unsent) holds no buffer: only this object and its table slot.
/// It is its own timer: the loop's connection timer heap holds it directly (see `SubReactor+Timeouts`).
@_spi(Benchmarks) public final class Connection: TimerHeapElement {
    /// Lifecycle and scheduling flags.
    struct Flags: OptionSet {
        let rawValue: UInt16
        /// Queued in the loop's list of connections to flush.
        static let dirty = Flags(rawValue: 1 << 0)
        /// The peer shut down its write side (read returned 0); no more input.
        static let inputClosed = Flags(rawValue: 1 << 1)
        /// Close as soon as every queued byte is written.
        static let closeAfterFlush = Flags(rawValue: 1 << 2)
        /// Reading is paused because unsent bytes passed the high watermark.
        static let readPaused = Flags(rawValue: 1 << 3)
        /// Closed; the object is only waiting to be released.
        static let closed = Flags(rawValue: 1 << 4)
        /// A write exceeded the hard cap; close with `.writeBufferOverflow`.
        static let overflowed = Flags(rawValue: 1 << 5)
        /// A client connection whose non-blocking connect has not completed yet.
        static let connecting = Flags(rawValue: 1 << 6)
        /// Accepted by a server: counts against `maxConnections` until it closes.
        static let admitted = Flags(rawValue: 1 << 7)
        /// Every reply is out and our FIN is sent; input is read and dropped until the peer's FIN (or the linger
        /// timeout), so that unread input does not turn the close into a reset that could destroy those replies.
        static let lingering = Flags(rawValue: 1 << 8)

        // Combinations the hot path tests, spelled with `rawValue` so they fold to constants even in debug builds
        // (an array literal there would allocate on every test).
        /// No more frames are taken: a deferred close or an overflow.
        static let notTakingInput = Flags(rawValue: closeAfterFlush.rawValue | overflowed.rawValue)
        /// Not taking input, or paused by backpressure.
        static let backpressuredOrClosing = Flags(rawValue: notTakingInput.rawValue | readPaused.rawValue)
        /// Reading is off: everything above, or the peer's input has ended.
        static let notReading = Flags(rawValue: backpressuredOrClosing.rawValue | inputClosed.rawValue)
        /// Writes are dropped.
        static let notWritable = Flags(rawValue: closed.rawValue | overflowed.rawValue)
    }

    let id: ConnectionID
    @exclusivity(unchecked) var decoder: LengthFieldDecoder
    @exclusivity(unchecked) var outbound = OutboundBuffer()
    /// The events currently registered with epoll.
    @exclusivity(unchecked) var interest: UInt32 = 0
    @exclusivity(unchecked) var flags: Flags = []
    /// The reason to report once a deferred close (after flush) happens.
    var pendingCloseReason: CloseReason = .peerClosed
    /// When the peer last made progress (a read, or a write that drained queued bytes); loop time, nanoseconds.
    @exclusivity(unchecked) var lastActivity: UInt64 = 0
    /// When the incomplete frame now buffered began arriving; 0 when the decoder is between frames.
    @exclusivity(unchecked) var partialFrameSince: UInt64 = 0
    var timerDeadline: UInt64 = 0
    var timerIndex = -1

    @inline(__always) var fd: CInt { id.fd }

    @_spi(Benchmarks) public init(id: ConnectionID, maxFrameLength: Int) {
        self.id = id
        self.decoder = LengthFieldDecoder(maxFrameLength: maxFrameLength)
    }
}
