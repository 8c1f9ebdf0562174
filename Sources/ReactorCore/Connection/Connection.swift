/// One connection's state, owned by its loop: the unconsumed input, the unsent replies, the epoll interest, its phase
/// (`ConnectionLifecycle.swift`) and flags. Touched only on the owning loop's thread.
///
/// An idle connection (no unconsumed input, nothing unsent) holds no buffer: only this object and its table slot.
/// It is its own timer: the loop's connection timer heap holds it directly (see `SubReactor+Timeouts`). The handler's
/// per-connection state lives in the ``StatefulConnection`` subclass the loop creates, inline in the same object.
@_spi(Benchmarks) public class Connection: TimerHeapElement {
    /// Conditions orthogonal to the ``Phase`` (see `ConnectionLifecycle.swift`).
    struct Flags: OptionSet {
        let rawValue: UInt16
        /// Queued in the loop's list of connections to flush.
        static let dirty = Flags(rawValue: 1 << 0)
        /// The peer shut down its write side (read returned 0); no more input.
        static let inputClosed = Flags(rawValue: 1 << 1)
        /// Reading is paused because unsent bytes passed the high watermark.
        static let readPaused = Flags(rawValue: 1 << 2)
        /// A client connection whose non-blocking connect has not completed yet.
        static let connecting = Flags(rawValue: 1 << 3)
        /// Accepted by a server: counts against `maxConnections` until it closes.
        static let admitted = Flags(rawValue: 1 << 4)
        /// Writability came back while unconsumed input was kept: offer it to the handler again at the next flush,
        /// since the peer may be waiting for replies and send nothing that would trigger a read.
        static let redeliverInput = Flags(rawValue: 1 << 5)
        /// Lingering, and the peer sent input after our close began: wait for its FIN (or the linger timeout), as a
        /// reset could reach a peer whose stack drops unread data on a reset.
        static let lingerSawInput = Flags(rawValue: 1 << 6)
        /// The connection's ``ConnectionTransport`` has not completed its handshake: the handler has not been told
        /// of the connection yet, and queued bytes wait (`SubReactor+Handshake.swift`).
        static let handshaking = Flags(rawValue: 1 << 7)
        /// The transport's last step needs the socket writable (a handshake step, or a read that must send): armed
        /// as `EPOLLOUT` and retried then.
        static let transportWantsWrite = Flags(rawValue: 1 << 8)
        /// The connection has a ``ConnectionTransport`` (TLS): the hot path tests this bit, never the existential,
        /// so a plain connection pays one bit test and no retain for the transport's existence.
        static let hasTransport = Flags(rawValue: 1 << 9)
        /// The transport's last write could not finish (TLS: a record partly sent, which OpenSSL must finish before
        /// it may read: a TLS 1.3 KeyUpdate it would answer while reading could not be written then). Input waits,
        /// like backpressure, until a write through the transport completes (`WritePath.swift`).
        static let transportWritePending = Flags(rawValue: 1 << 10)

        /// An open connection is not read while any is set (spelled with `rawValue` so it folds to a constant even in
        /// debug builds, where an array literal would allocate on every test).
        static let notReadingWhileOpen = Flags(
            rawValue: readPaused.rawValue | inputClosed.rawValue | transportWritePending.rawValue)

        /// Not ready for traffic yet: a connect or a handshake in progress (spelled with `rawValue` to fold to a
        /// constant).
        static let notReadyForTraffic = Flags(rawValue: connecting.rawValue | handshaking.rawValue)
        /// Events for these take the slow path in `handleEvent`.
        static let slowEvents = Flags(rawValue: notReadyForTraffic.rawValue | transportWantsWrite.rawValue)

    }

    final let id: ConnectionID
    /// Bytes received and not consumed by the handler yet (a pooled chunk, or nothing).
    @exclusivity(unchecked) final var inbound = InboundBuffer()
    @exclusivity(unchecked) final var outbound = OutboundBuffer()
    /// The events currently registered with epoll.
    @exclusivity(unchecked) final var interest: UInt32 = 0
    @exclusivity(unchecked) final var flags: Flags = []
    /// The ``Phase``'s raw value (read through ``phase``; changed only by the transitions in
    /// `ConnectionLifecycle.swift`). Stored raw so inlinable code can read it through ``phaseAddress``.
    @exclusivity(unchecked) final var phaseStorage = Phase.open.rawValue
    /// Why the connection is closing: set when it leaves ``Phase/open`` for good (the first reason stands), reported
    /// when the close happens.
    final var closeReason: CloseReason = .peerClosed
    /// When the peer last made progress (a read, or a write that drained queued bytes); loop time, nanoseconds.
    @exclusivity(unchecked) final var lastActivity: UInt64 = 0
    /// When the unconsumed input now buffered began waiting (restarted whenever the handler consumes); 0 when none.
    @exclusivity(unchecked) final var partialFrameSince: UInt64 = 0
    final var timerDeadline: UInt64 = 0
    /// While handshaking: when the handshake must have completed. While lingering: when the close happens whatever
    /// the peer does. Loop time, nanoseconds; the two phases never overlap.
    final var phaseDeadline: UInt64 = 0
    /// The layer between the socket and the handler (TLS), if the server or client has one; released at the close.
    final var transport: (any ConnectionTransport)?
    final var timerIndex = -1
    /// Where the handler's state is stored inline (``StatefulConnection``), computed once: the hot path hands the
    /// state `inout` through this address instead of unwrapping the generic optional, which costs runtime calls
    /// (the associated type's metadata, its enum-tag witness) on every read when the handler type is not
    /// specialised. Valid while the connection is open (between `onOpen` and `onClose`), when the state is set.
    @exclusivity(unchecked) final var stateAddress: UnsafeMutableRawPointer?
    /// The connection's logger, built the first time a handler asks for ``ConnectionContext/logger`` (nil until
    /// then: a connection that never logs pays one pointer for it).
    final var logger: ConnectionLogger?

    @inline(__always) var fd: CInt { id.fd }

    /// Where the phase is stored, for ``ConnectionContext/isTakingInput`` in inlinable code (which cannot name this
    /// class); the object never moves.
    final var phaseAddress: UnsafePointer<UInt8> { UnsafePointer(phasePointer) }
    private final var phasePointer: UnsafeMutablePointer<UInt8>! = nil

    @_spi(Benchmarks) public init(id: ConnectionID) {
        self.id = id
        assert(Phase.open.rawValue == ConnectionContext.openPhase)
        phasePointer = withUnsafeMutablePointer(to: &phaseStorage) { $0 }
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
