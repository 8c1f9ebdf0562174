/// Drives a sub-reactor's real connection path on the calling thread, without its loop thread: for fuzzing.
///
/// A ``StreamHandlerHarness`` (a ``SubReactor`` that is never started, the harness playing both the peer and the
/// loop thread, one end of a `socketpair(AF_UNIX, SOCK_STREAM)` per connection) running a recording handler of its
/// own. ``runLoopIteration()`` does what one turn of the loop does: a non-blocking `epoll_wait`, each event through
/// the reactor's own event dispatch (read → handler → staged replies → flush), then the flush of every dirty
/// connection.
///
/// The handler works in one of two modes, chosen per connection (``Mode``):
///
/// - ``Mode/frames``: a ``FrameHandler`` (the default length-field format, decoded by the framework) that echoes
///   every frame one or more times and records it;
/// - ``Mode/records(_:)``: a raw ``StreamHandler`` that consumes the stream itself, record by record (the format is
///   on ``Mode/records(_:)``), with ``InboundBytes/consume(_:)``, ``InboundBytes/expect(atLeast:)`` and
///   ``InboundBytes/skip(_:)``, echoes exactly the bytes it consumed and records them, and checks the
///   ``InboundBytes/newBytesOffset`` it is handed against the bytes it was shown before.
///
/// In both it records how the connection closed (and that ``StreamHandler/onClose(_:state:reason:)`` got the
/// connection's own state), and it can close the connection itself after a given number of frames or records.
///
/// One harness serves any number of connections, one at a time:
/// ``connect(mode:repliesPerFrame:closeAfterFrames:serverSendBuffer:peerSendBuffer:)``, then ``send(_:)``,
/// ``runLoopIteration()`` and ``drainReplies(into:)`` in any order, then ``disconnect()``. Not thread-safe.
@_spi(Fuzzing) public final class ReadPathHarness {
    /// The reactor, the peer's socket and the loop, around the recording handler.
    private let harness: StreamHandlerHarness<Recorder>

    /// The limits the reactor enforces (validated).
    @_spi(Fuzzing) public var limits: ConnectionLimits { harness.limits }

    /// A reactor with `limits` (its registry tracks the first 4,096 descriptors); no connection yet.
    @_spi(Fuzzing) public init(limits: ConnectionLimits) throws(SystemError) {
        harness = try StreamHandlerHarness(handler: Recorder(), limits: limits)
    }

    // MARK: Connections

    /// Opens a connection: a fresh socket pair, one end handed to the reactor (through its task queue, as the
    /// acceptor does) and registered by running the posted task here.
    ///
    /// - Parameters:
    ///   - mode: what the handler does with the bytes: decode and echo frames (the default), or consume records.
    ///   - repliesPerFrame: how many copies of each frame (or complete record) the handler writes back (more than one
    ///     makes replies outgrow requests, so queues, watermarks and the unsent-bytes cap are reached with small
    ///     inputs).
    ///   - closeAfterFrames: when above 0, the handler calls ``ConnectionContext/close()`` after that many frames
    ///     (or complete records).
    ///   - serverSendBuffer: `SO_SNDBUF` of the reactor's end (replies); small ones force partial writes.
    ///   - peerSendBuffer: `SO_SNDBUF` of the peer's end (requests).
    @_spi(Fuzzing) public func connect(
        mode: Mode = .frames, repliesPerFrame: Int = 1, closeAfterFrames: Int = 0, serverSendBuffer: Int? = nil,
        peerSendBuffer: Int? = nil
    ) throws(SystemError) {
        harness.handler.reset(
            mode: mode, replies: repliesPerFrame, closeAfter: closeAfterFrames,
            maxBufferedInput: limits.maxBufferedInput)
        try harness.connect(serverSendBuffer: serverSendBuffer, peerSendBuffer: peerSendBuffer)
    }

    /// Closes the peer's end. A connection the reactor still has open is closed first, as a shutdown would.
    @_spi(Fuzzing) public func disconnect() { harness.disconnect() }

    /// Writes as much of `bytes` as the peer's socket takes without blocking; returns how many, or nil when the
    /// reactor's end is gone (`EPIPE`/`ECONNRESET`).
    @_spi(Fuzzing) public func send(_ bytes: UnsafeRawBufferPointer) -> Int? { harness.send(bytes) }

    /// Shuts the peer's write side: after the bytes already sent, the reactor reads end-of-stream.
    @_spi(Fuzzing) public func shutdownPeerOutput() { harness.shutdownPeerOutput() }

    /// Reads every reply the peer has received so far onto `replies`; returns false once the reactor's end has
    /// closed (end of stream, or `ECONNRESET` after the last byte) and nothing more can come.
    @_spi(Fuzzing) public func drainReplies(into replies: inout [UInt8]) -> Bool {
        harness.drainReplies(into: &replies)
    }

    /// Sends `bytes` as one piece of the peer's stream, running the loop and reading replies as needed
    /// (``StreamHandlerHarness/sendPiece(_:collectingReplies:)``); returns the bytes written.
    @_spi(Fuzzing) public func sendPiece(
        _ bytes: UnsafeRawBufferPointer, collectingReplies replies: inout [UInt8]
    ) -> Int {
        harness.sendPiece(bytes, collectingReplies: &replies)
    }

    /// Ends the peer's stream, reads the replies and waits for the close
    /// (``StreamHandlerHarness/endPeerStream(collectingReplies:)``); returns whether the connection closed.
    @_spi(Fuzzing) public func endPeerStream(collectingReplies replies: inout [UInt8]) -> Bool {
        harness.endPeerStream(collectingReplies: &replies)
    }

    // MARK: The loop

    /// One turn of the loop on the calling thread (``StreamHandlerHarness/runLoopIteration()``). Returns the number
    /// of events.
    @_spi(Fuzzing) @discardableResult public func runLoopIteration() -> Int { harness.runLoopIteration() }

    // MARK: What happened

    /// True while the reactor has the current connection open.
    @_spi(Fuzzing) public var isConnectionOpen: Bool { harness.isConnectionOpen }

    /// The first breach of the connection lifecycle the harness saw on the current connection, or nil: a phase that
    /// went back, a lingering connection still holding bytes, a closing one still reading.
    @_spi(Fuzzing) public var phaseViolation: String? { harness.phaseViolation }

    /// Why the current connection closed, or nil while it is open (or never opened).
    @_spi(Fuzzing) public var closeReason: CloseReason? { harness.closeReason }

    /// How many frames the handler was handed on the current connection (``Mode/frames``).
    @_spi(Fuzzing) public var receivedFrameCount: Int { harness.handler.frames.frames }

    /// Every frame the handler was handed on the current connection, re-encoded (4-byte big-endian length, payload)
    /// and concatenated (once each, whatever `repliesPerFrame`): for an intact stream, exactly the bytes the peer sent
    /// for those frames (``Mode/frames``).
    @_spi(Fuzzing) public var receivedFrames: [UInt8] { harness.handler.frames.received }

    /// How many records the handler completed on the current connection (``Mode/records(_:)``; a skip record is
    /// complete once its header is consumed and the skip asked for).
    @_spi(Fuzzing) public var completedRecordCount: Int { harness.handler.records }

    /// Every byte the handler consumed on the current connection, in order, once each (``Mode/records(_:)``): the
    /// stream without the bytes it skipped and without what was left unconsumed.
    @_spi(Fuzzing) public var consumedBytes: [UInt8] { harness.handler.consumed }

    /// The first breach of the stream contract the handler saw on the current connection, or nil
    /// (``Mode/records(_:)``): an ``InboundBytes/newBytesOffset`` other than the number of unconsumed bytes the
    /// previous call was shown.
    @_spi(Fuzzing) public var contractViolation: String? { harness.handler.contractViolation }

    /// Whether ``StreamHandler/onClose(_:state:reason:)`` got the state ``StreamHandler/onOpen(connection:)`` made
    /// for this connection (false while it is open).
    @_spi(Fuzzing) public var closeGotConnectionState: Bool { harness.closeGotConnectionState }

    /// Bytes of the reactor's buffer pool handed out and not returned (0 once every connection is closed).
    @_spi(Fuzzing) public var poolBytesInUse: Int { harness.poolBytesInUse }

    /// Connections in the reactor's table.
    @_spi(Fuzzing) public var openConnections: Int { harness.openConnections }

    /// Server connections counted against `maxConnections` and not yet released.
    @_spi(Fuzzing) public var admittedConnections: Int { harness.admittedConnections }
}

extension ReadPathHarness {
    /// What the harness's handler does with a connection's bytes.
    @_spi(Fuzzing) public enum Mode: Hashable, Sendable {
        /// A ``FrameHandler``: the framework decodes the default length-field format; every frame is echoed
        /// (`repliesPerFrame` times) and recorded.
        case frames
        /// A raw ``StreamHandler`` that consumes the stream record by record. At the front of the unconsumed bytes,
        /// a header byte `h` (kind `h >> 6`, `v = h & 0x3F`) starts a record:
        ///
        /// - kind 0: data, a 1-byte header and `v` payload bytes;
        /// - kind 1: data, a 2-byte header (`v << 8 | second byte`: the payload length) and the payload;
        /// - kind 2: skip, a 2-byte header; the handler consumes the header and calls
        ///   ``InboundBytes/skip(_:)`` for the length, which may reach past the bytes received so far;
        /// - kind 3: stream, a 2-byte header and the payload, consumed (and echoed) piece by piece as it arrives.
        ///
        /// A data record is consumed only once complete; until then the handler consumes nothing and waits as
        /// ``RecordPolicy`` says. Every complete data record and every skip and stream header is echoed
        /// `repliesPerFrame` times, a stream payload once as it is consumed. At the end of the input
        /// (``StreamHandler/onInputEnded(_:state:connection:)``) the same rule runs once more, without waiting.
        case records(RecordPolicy)
    }

    /// How the record handler waits for the rest of an incomplete record.
    @_spi(Fuzzing) public struct RecordPolicy: Hashable, Sendable {
        /// For an incomplete data record.
        @_spi(Fuzzing) public enum Wait: Int, Hashable, Sendable, CaseIterable {
            /// Consume nothing and ask for nothing: called again after the next read.
            case none
            /// ``InboundBytes/expect(atLeast:)`` the record's length.
            case exact
            /// Expect more than the record (up to `1 + (payload % 16) × 64` bytes more, at most
            /// ``ConnectionLimits/maxBufferedInput``, at least the record): the record is handled with later bytes or
            /// at the end of the input.
            case beyond
            /// One of the above by record: `payload length % 3`.
            case mixed
        }

        /// Whether an incomplete 2-byte header is waited for with ``InboundBytes/expect(atLeast:)`` (else: nothing).
        public var waitsForHeader: Bool
        /// How an incomplete data record is waited for.
        public var wait: Wait

        public init(waitsForHeader: Bool = false, wait: Wait = .none) {
            self.waitsForHeader = waitsForHeader
            self.wait = wait
        }
    }

    /// The harness's frame handler: echoes every frame (the bench's echo server, `repliesPerFrame` times) and
    /// records it.
    struct FrameRecorder: FrameHandler {
        var repliesPerFrame = 1
        var closeAfterFrames = 0
        var frames = 0
        var received: [UInt8] = []

        mutating func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
            frames += 1
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: frame.count).bigEndian) { received.append(contentsOf: $0) }
            frame.withUnsafeBytes { received.append(contentsOf: $0) }
            for _ in 0..<repliesPerFrame { connection.write(frame) }
            if frames == closeAfterFrames { connection.close() }
        }
    }

    /// The harness's handler: the ``FrameRecorder`` or the record handler, by ``Mode``. (The harness records the
    /// close.)
    struct Recorder: StreamHandler {
        /// Per connection, inline in the loop's connection object.
        struct State {
            /// Payload bytes of the current stream record not consumed yet.
            var streamRemaining = 0
            /// Unconsumed bytes the last call was shown (what the next call's `newBytesOffset` must be).
            var shownRemaining = 0
        }

        var mode = Mode.frames
        var frames = FrameRecorder()
        var replies = 1
        var closeAfter = 0
        var maxBufferedInput = 0
        var records = 0
        var consumed: [UInt8] = []
        var contractViolation: String?

        /// Ready for a new connection; keeps the recording buffers' capacity.
        mutating func reset(mode: Mode, replies: Int, closeAfter: Int, maxBufferedInput: Int) {
            self.mode = mode
            self.replies = replies
            self.closeAfter = closeAfter
            self.maxBufferedInput = maxBufferedInput
            frames.repliesPerFrame = replies
            frames.closeAfterFrames = closeAfter
            frames.frames = 0
            frames.received.removeAll(keepingCapacity: true)
            records = 0
            consumed.removeAll(keepingCapacity: true)
            contractViolation = nil
        }

        mutating func onOpen(connection: inout ConnectionContext) -> State { State() }

        mutating func onRead(_ input: inout InboundBytes, state: inout State, connection: inout ConnectionContext) {
            switch mode {
            case .frames:
                var none: Void = ()
                frames.onRead(&input, state: &none, connection: &connection)
            case .records(let policy):
                readRecords(&input, state: &state, connection: &connection, policy: policy, ended: false)
            }
        }

        mutating func onInputEnded(
            _ input: inout InboundBytes, state: inout State, connection: inout ConnectionContext
        ) {
            if case .records(let policy) = mode {
                readRecords(&input, state: &state, connection: &connection, policy: policy, ended: true)
            }
        }

        /// Consumes every record at the front of `input` that can be handled now (see ``Mode/records(_:)``).
        private mutating func readRecords(
            _ input: inout InboundBytes, state: inout State, connection: inout ConnectionContext,
            policy: RecordPolicy, ended: Bool
        ) {
            if input.newBytesOffset != state.shownRemaining && contractViolation == nil {
                contractViolation =
                    "\(ended ? "onInputEnded" : "onRead") got newBytesOffset \(input.newBytesOffset) with "
                    + "\(input.count) bytes, but the previous call left \(state.shownRemaining) unconsumed"
            }
            defer { state.shownRemaining = input.count }
            while true {
                if state.streamRemaining > 0 {
                    let count = min(state.streamRemaining, input.count)
                    if count == 0 { return }
                    take(count, repeats: 1, from: &input, connection: &connection)
                    state.streamRemaining -= count
                    if state.streamRemaining == 0 && completeRecord(&connection) { return }
                    continue
                }
                let count = input.count
                if count == 0 { return }
                let (header, second) = input.withUnsafeBytes { ($0[0], $0.count > 1 ? $0[1] : 0) }
                let kind = header >> 6
                let headerLength = kind == 0 ? 1 : 2
                if count < headerLength {
                    if policy.waitsForHeader && !ended { input.expect(atLeast: headerLength) }
                    return
                }
                let length = kind == 0 ? Int(header & 0x3F) : Int(header & 0x3F) << 8 | Int(second)
                switch kind {
                case 0, 1:
                    let total = headerLength + length
                    if count < total {
                        if !ended { wait(for: total, payload: length, policy: policy, input: &input) }
                        return
                    }
                    take(total, repeats: replies, from: &input, connection: &connection)
                case 2:
                    take(2, repeats: replies, from: &input, connection: &connection)
                    input.skip(length)
                default:
                    take(2, repeats: replies, from: &input, connection: &connection)
                    state.streamRemaining = length
                    if length > 0 { continue }
                }
                if completeRecord(&connection) { return }
            }
        }

        private func wait(for total: Int, payload: Int, policy: RecordPolicy, input: inout InboundBytes) {
            var wait = policy.wait
            if wait == .mixed { wait = [.none, .exact, .beyond][payload % 3] }
            switch wait {
            case .none, .mixed: break
            case .exact: input.expect(atLeast: total)
            case .beyond: input.expect(atLeast: max(total, min(total + 1 + (payload % 16) * 64, maxBufferedInput)))
            }
        }

        /// Consumes the first `count` bytes, records them and echoes them `repeats` times.
        private mutating func take(
            _ count: Int, repeats: Int, from input: inout InboundBytes, connection: inout ConnectionContext
        ) {
            input.withUnsafeBytes { bytes in
                let taken = UnsafeRawBufferPointer(rebasing: bytes[0..<count])
                consumed.append(contentsOf: taken)
                for _ in 0..<repeats { connection.write(taken) }
            }
            input.consume(count)
        }

        /// Counts a complete record; closes the connection (and returns true) after the chosen one.
        private mutating func completeRecord(_ connection: inout ConnectionContext) -> Bool {
            records += 1
            guard records == closeAfter else { return false }
            connection.close()
            return true
        }
    }
}
