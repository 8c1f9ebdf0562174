/// One connection's state, owned by its loop: the unconsumed input, the unsent replies, the epoll interest and the
/// lifecycle flags. Touched only on the owning loop's thread.
///
/// An idle connection (no unconsumed input, nothing unsent) holds no buffer: only this object and its table slot.
/// It is its own timer: the loop's connection timer heap holds it directly (see `SubReactor+Timeouts`). The handler's
/// per-connection state lives in the ``StatefulConnection`` subclass the loop creates, inline in the same object.
@_spi(Benchmarks) public class Connection: TimerHeapElement {
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
        /// Writability came back while unconsumed input was kept: offer it to the handler again at the next flush,
        /// since the peer may be waiting for replies and send nothing that would trigger a read.
        static let redeliverInput = Flags(rawValue: 1 << 9)
        /// Lingering, and the peer sent input after our close began: wait for its FIN (or the linger timeout), as a
        /// reset could reach a peer whose stack drops unread data on a reset.
        static let lingerSawInput = Flags(rawValue: 1 << 10)

        // Combinations the hot path tests, spelled with `rawValue` so they fold to constants even in debug builds
        // (an array literal there would allocate on every test).
        /// No more frames are taken: a deferred close or an overflow.
        static let notTakingInput = Flags(rawValue: closeAfterFlush.rawValue | overflowed.rawValue)
        /// Not taking input, or paused by backpressure.
        static let backpressuredOrClosing = Flags(rawValue: notTakingInput.rawValue | readPaused.rawValue)
        /// Reading is off: everything above, or the peer's input has ended.
        static let notReading = Flags(rawValue: backpressuredOrClosing.rawValue | inputClosed.rawValue)
        /// Closed, or not reading for any of the reasons above.
        static let closedOrNotReading = Flags(rawValue: notReading.rawValue | closed.rawValue)
        /// Writes are dropped: closed, overflowed, or closing (after ``ConnectionContext/close()``, a decoding
        /// error, the peer's FIN or a drain: the FIN follows the bytes queued before, nothing after them).
        static let notWritable = Flags(rawValue: closed.rawValue | overflowed.rawValue | closeAfterFlush.rawValue)
    }

    final let id: ConnectionID
    /// Bytes received and not consumed by the handler yet (a pooled chunk, or nothing).
    @exclusivity(unchecked) final var inbound = InboundBuffer()
    @exclusivity(unchecked) final var outbound = OutboundBuffer()
    /// The events currently registered with epoll.
    @exclusivity(unchecked) final var interest: UInt32 = 0
    @exclusivity(unchecked) final var flags: Flags = []
    /// The reason to report once a deferred close (after flush) happens.
    final var pendingCloseReason: CloseReason = .peerClosed
    /// When the peer last made progress (a read, or a write that drained queued bytes); loop time, nanoseconds.
    @exclusivity(unchecked) final var lastActivity: UInt64 = 0
    /// When the unconsumed input now buffered began waiting (restarted whenever the handler consumes); 0 when none.
    @exclusivity(unchecked) final var partialFrameSince: UInt64 = 0
    final var timerDeadline: UInt64 = 0
    /// While lingering: when the close happens whatever the peer does (loop time, nanoseconds).
    final var lingerDeadline: UInt64 = 0
    final var timerIndex = -1
    /// Where the handler's state is stored inline (``StatefulConnection``), computed once: the hot path hands the
    /// state `inout` through this address instead of unwrapping the generic optional, which costs runtime calls
    /// (the associated type's metadata, its enum-tag witness) on every read when the handler type is not
    /// specialised. Valid while the connection is open (between `onOpen` and `onClose`), when the state is set.
    @exclusivity(unchecked) final var stateAddress: UnsafeMutableRawPointer?

    @inline(__always) var fd: CInt { id.fd }

    /// Where ``flags`` is stored, for ``ConnectionContext/isTakingInput`` in inlinable code (which cannot name this
    /// class); the object never moves.
    final var flagsAddress: UnsafePointer<UInt16> { UnsafePointer(flagsStorage) }
    private final var flagsStorage: UnsafeMutablePointer<UInt16>! = nil

    @_spi(Benchmarks) public init(id: ConnectionID) {
        self.id = id
        assert(Flags.notTakingInput.rawValue == ConnectionContext.notTakingInputMask)
        flagsStorage = withUnsafeMutablePointer(to: &flags) {
            UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt16.self)
        }
    }
}

/// A connection with the handler's per-connection state stored inline (no side table, no lookup per message).
/// `state` is nil until the handler's `onOpen` returned it, and again once `onClose` took it back.
final class StatefulConnection<State>: Connection {
    @exclusivity(unchecked) var state: State?

    override init(id: ConnectionID) {
        super.init(id: id)
        // The payload of an `Optional` lives at the start of its storage; the object never moves.
        stateAddress = withUnsafeMutablePointer(to: &state) { UnsafeMutableRawPointer($0) }
    }
}
