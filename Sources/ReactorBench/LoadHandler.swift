import Histogram
import ReactorCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The load driver's handler: keeps `pipeline` requests in flight per connection, checks every reply byte for
/// byte, and records each round trip's latency in a per-loop HdrHistogram merged into ``LoadShared`` on close.
struct LoadHandler: FrameHandler {
    /// One connection's bookkeeping: a ring of send timestamps (replies come back in order).
    /// Confined to the loop that owns the connection; `Sendable` only so the (empty) handler can be copied to loops.
    final class ConnectionState: @unchecked Sendable {
        let stamps: UnsafeMutablePointer<UInt64>
        let offset: Int
        var sent = 0
        var received = 0

        init(pipeline: Int, offset: Int) {
            stamps = .allocate(capacity: pipeline)
            self.offset = offset
        }

        deinit { stamps.deallocate() }
    }

    let shared: LoadShared
    let pipeline: Int
    private var states: [ConnectionState?] = []
    private var histogram = Histogram<UInt64>(
        highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var measured = 0
    private var unpublished = 0

    init(shared: LoadShared, pipeline: Int) {
        self.shared = shared
        self.pipeline = pipeline
    }

    mutating func onOpen(connection: inout ConnectionContext) {
        let fd = Int(connection.id.fd)
        if fd >= states.count { states.append(contentsOf: repeatElement(nil, count: fd + 1 - states.count)) }
        let state = ConnectionState(pipeline: pipeline, offset: shared.opened.add(1, ordering: .relaxed).oldValue)
        states[fd] = state
        for _ in 0..<pipeline { send(on: state, connection: &connection) }
    }

    @inline(__always)
    private func send(on state: ConnectionState, connection: inout ConnectionContext) {
        let templates = shared.templates
        state.stamps[state.sent % pipeline] = Self.now()
        connection.write(templates[(state.sent + state.offset) % templates.count])
        state.sent += 1
    }

    mutating func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        guard let state = states[Int(connection.id.fd)] else { return }
        let latency = Self.now() &- state.stamps[state.received % pipeline]
        let templates = shared.templates
        let expected = templates[(state.received + state.offset) % templates.count]
        state.received += 1
        let matches =
            frame.count == expected.count
            && expected.withUnsafeBytes { wanted in
                frame.withUnsafeBytes { got in
                    got.count == 0 || memcmp(got.baseAddress!, wanted.baseAddress!, got.count) == 0
                }
            }
        if !matches { shared.mismatches.add(1, ordering: .relaxed) }
        shared.replies.add(1, ordering: .relaxed)
        let phase = shared.phase.load(ordering: .relaxed)
        if phase == LoadShared.Phase.measuring.rawValue {
            _ = histogram.record(latency)
            measured += 1
            unpublished += 1
            if unpublished == 256 {
                shared.completedForProgress.add(unpublished, ordering: .relaxed)
                unpublished = 0
            }
        }
        if phase != LoadShared.Phase.stopping.rawValue { send(on: state, connection: &connection) }
    }

    mutating func onClose(_ id: ConnectionID, reason: CloseReason) {
        let phase = shared.phase.load(ordering: .relaxed)
        if phase != LoadShared.Phase.stopping.rawValue || (reason.kind != .shutdown && reason.kind != .closedByHandler)
        {
            shared.disconnects.add(1, ordering: .relaxed)
        }
        if Int(id.fd) < states.count { states[Int(id.fd)] = nil }
        let histogram = self.histogram
        let measured = self.measured
        if measured > 0 {
            shared.merged.withLock {
                $0.histogram.add(histogram)
                $0.measured += measured
            }
            self.histogram.reset()
            self.measured = 0
        }
    }

    @inline(__always)
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
