import Histogram
import ReactorCore
import Synchronization

/// State every client loop shares with the driver: the request payloads, the phase, and the merged results.
final class LoadShared: Sendable {
    enum Phase: Int {
        case warmup = 0
        case measuring = 1
        case stopping = 2
    }

    /// Distinct payloads; request `n` on connection `c` carries `templates[(n + c) % count]` of the connection's
    /// set (see ``templates(forConnection:)``), so a reply from the wrong request or connection is caught by
    /// comparing bytes. One set of equal-sized payloads for the fixed scenarios; the soak's two mixes otherwise.
    let templateSets: [[[UInt8]]]
    /// The soak's plan; nil for the fixed scenarios.
    let plan: SoakPlan?
    let phase = Atomic<Int>(Phase.warmup.rawValue)
    let opened = Atomic<Int>(0)
    let completedForProgress = Atomic<Int>(0)
    /// Every verified reply, in any phase.
    let replies = Atomic<Int>(0)
    let mismatches = Atomic<Int>(0)
    let disconnects = Atomic<Int>(0)
    let merged = Mutex<(histogram: Histogram<UInt64>, measured: Int)>(
        (Histogram(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three), 0))
    /// Connections that closed after they had opened (with ``opened``: how many are open now).
    let closedAfterOpen = Atomic<Int>(0)

    // Soak only (``plan`` set): counted per request, so the driver can check that every request got its reply.

    /// Requests written.
    let requests = Atomic<Int>(0)
    /// Payload bytes of verified replies.
    let payloadBytes = Atomic<Int>(0)
    /// Requests whose replies can no longer arrive: their connection closed first (on purpose or not).
    let abandoned = Atomic<Int>(0)
    /// Connections that retired on schedule, and how many of them closed with replies still in flight.
    let retired = Atomic<Int>(0)
    let retiredWithRepliesInFlight = Atomic<Int>(0)
    /// Retired connections the driver has not replaced yet.
    let replacementsOwed = Atomic<Int>(0)
    /// Closes that were errors, by reason.
    let unexpectedCloses = Mutex<[CloseReason.Kind: Int]>([:])

    /// The fixed scenarios: `templateCount` payloads of `size` bytes.
    init(size: Int, templateCount: Int = 16) {
        templateSets = [(0..<templateCount).map { Self.template(size: size, seed: $0) }]
        plan = nil
    }

    /// The soak: one payload per entry of the plan's two size mixes.
    init(plan: SoakPlan) {
        templateSets = [plan.smallSizes, plan.bulkSizes].map { sizes in
            sizes.enumerated().map { Self.template(size: $0.element, seed: $0.offset) }
        }
        self.plan = plan
    }

    /// The payloads connection `offset` cycles through.
    func templates(forConnection offset: Int) -> [[UInt8]] {
        if let plan, plan.isBulk(offset) { return templateSets[1] }
        return templateSets[0]
    }

    /// Requests sent whose replies are neither verified nor abandoned (soak only).
    var outstanding: Int {
        requests.load(ordering: .relaxed) - replies.load(ordering: .relaxed) - abandoned.load(ordering: .relaxed)
    }

    /// Connections open now.
    var openConnections: Int { opened.load(ordering: .relaxed) - closedAfterOpen.load(ordering: .relaxed) }

    /// A payload of `size` bytes that differs from the other seeds' at the same size.
    static func template(size: Int, seed: Int) -> [UInt8] {
        let salt = seed &* 29 &+ (seed >> 8) &* 7
        return (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ salt &+ ($0 >> 7)) }
    }
}
