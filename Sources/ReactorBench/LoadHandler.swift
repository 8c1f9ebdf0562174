import Histogram
import ReactorCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The load driver's handler: keeps `pipeline` requests in flight per connection, checks every reply byte for
/// byte, and records each round trip's latency in a per-loop HdrHistogram merged into ``LoadShared`` on close.
///
/// With a ``SoakPlan`` in ``LoadShared`` it also follows the plan per connection (payload mix, depth, retirement)
/// and counts every request, so the driver can tell that each one got its reply or was knowingly abandoned.
struct LoadHandler: FrameHandler {
    /// One connection's bookkeeping: a ring of send timestamps (replies come back in order).
    /// Confined to the loop that owns the connection; `Sendable` only so the (empty) handler can be copied to loops.
    final class LoadConnection: @unchecked Sendable {
        let stamps: UnsafeMutablePointer<UInt64>
        let offset: Int
        /// Requests kept in flight.
        let depth: Int
        /// The payloads this connection cycles through.
        let templates: [[UInt8]]
        /// When the connection retires (monotonic ns); `UInt64.max` for never.
        let retireAt: UInt64
        /// On retiring, close as soon as our requests are written instead of waiting for the replies.
        let closesAbruptly: Bool
        var sent = 0
        var received = 0
        /// Sends no more requests; closes once its replies are in (or at once, see ``closesAbruptly``).
        var retiring = false

        init(depth: Int, offset: Int, templates: [[UInt8]], retireAt: UInt64, closesAbruptly: Bool) {
            stamps = .allocate(capacity: depth)
            self.offset = offset
            self.depth = depth
            self.templates = templates
            self.retireAt = retireAt
            self.closesAbruptly = closesAbruptly
        }

        deinit { stamps.deallocate() }
    }

    let shared: LoadShared
    let pipeline: Int
    /// Whether every request is counted (the soak).
    private let countsRequests: Bool
    private var states: [LoadConnection?] = []
    private var histogram = Histogram<UInt64>(
        highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var measured = 0
    private var unpublished = 0

    init(shared: LoadShared, pipeline: Int) {
        self.shared = shared
        self.pipeline = pipeline
        countsRequests = shared.plan != nil
    }

    mutating func onOpen(connection: inout ConnectionContext) {
        let fd = Int(connection.id.fd)
        if fd >= states.count { states.append(contentsOf: repeatElement(nil, count: fd + 1 - states.count)) }
        let offset = shared.opened.add(1, ordering: .relaxed).oldValue
        let state: LoadConnection
        if let plan = shared.plan {
            state = LoadConnection(
                depth: plan.depth(forConnection: offset), offset: offset,
                templates: shared.templates(forConnection: offset),
                retireAt: Self.now() + plan.lifetimeNanoseconds(forConnection: offset),
                closesAbruptly: plan.closesAbruptly(offset))
        } else {
            state = LoadConnection(
                depth: pipeline, offset: offset, templates: shared.templateSets[0], retireAt: .max,
                closesAbruptly: false)
        }
        states[fd] = state
        for _ in 0..<state.depth { send(on: state, connection: &connection) }
    }

    @inline(__always)
    private func send(on state: LoadConnection, connection: inout ConnectionContext) {
        let templates = state.templates
        state.stamps[state.sent % state.depth] = Self.now()
        connection.writeFrame(templates[(state.sent + state.offset) % templates.count])
        state.sent += 1
        if countsRequests { shared.requests.add(1, ordering: .relaxed) }
    }

    mutating func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        guard let state = states[Int(connection.id.fd)] else { return }
        guard state.received < state.sent else {
            shared.mismatches.add(1, ordering: .relaxed)  // a reply to no request
            return
        }
        let now = Self.now()
        let latency = now &- state.stamps[state.received % state.depth]
        let templates = state.templates
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
        if countsRequests { shared.payloadBytes.add(frame.count, ordering: .relaxed) }
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
        if state.retiring || (now >= state.retireAt && phase == LoadShared.Phase.measuring.rawValue) {
            retire(state, connection: &connection)
            return
        }
        if phase != LoadShared.Phase.stopping.rawValue { send(on: state, connection: &connection) }
    }

    /// A connection past its lifetime sends nothing more and closes once its replies are in, or, if it closes
    /// abruptly, as soon as nothing of ours is left to write (so the close cannot wait on a peer we stopped reading).
    private func retire(_ state: LoadConnection, connection: inout ConnectionContext) {
        state.retiring = true
        if state.received == state.sent || (state.closesAbruptly && connection.pendingWriteBytes == 0) {
            connection.close()
        }
    }

    mutating func onClose(_ id: ConnectionID, reason: CloseReason) {
        let phase = shared.phase.load(ordering: .relaxed)
        let state = Int(id.fd) < states.count ? states[Int(id.fd)] : nil
        if let state {
            shared.closedAfterOpen.add(1, ordering: .relaxed)
            if countsRequests { shared.abandoned.add(state.sent - state.received, ordering: .relaxed) }
        }
        if let state, state.retiring && reason.kind == .closedByHandler {
            shared.retired.add(1, ordering: .relaxed)
            if state.sent > state.received { shared.retiredWithRepliesInFlight.add(1, ordering: .relaxed) }
            shared.replacementsOwed.add(1, ordering: .relaxed)
        } else if phase != LoadShared.Phase.stopping.rawValue
            || (reason.kind != .shutdown && reason.kind != .closedByHandler)
        {
            shared.disconnects.add(1, ordering: .relaxed)
            if countsRequests { shared.unexpectedCloses.withLock { $0[reason.kind, default: 0] += 1 } }
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
