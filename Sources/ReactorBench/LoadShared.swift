import Histogram
import Synchronization

/// State every client loop shares with the driver: the request payloads, the phase, and the merged results.
final class LoadShared: Sendable {
    enum Phase: Int {
        case warmup = 0
        case measuring = 1
        case stopping = 2
    }

    /// Distinct payloads of the request size; request `n` on connection `c` carries `templates[(n + c) % count]`,
    /// so a reply from the wrong request or connection is caught by comparing bytes.
    let templates: [[UInt8]]
    let phase = Atomic<Int>(Phase.warmup.rawValue)
    let opened = Atomic<Int>(0)
    let completedForProgress = Atomic<Int>(0)
    /// Every verified reply, in any phase.
    let replies = Atomic<Int>(0)
    let mismatches = Atomic<Int>(0)
    let disconnects = Atomic<Int>(0)
    let merged = Mutex<(histogram: Histogram<UInt64>, measured: Int)>(
        (Histogram(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three), 0))

    init(size: Int, templateCount: Int = 16) {
        templates = (0..<templateCount).map { seed in
            (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ seed &* 29 &+ ($0 >> 7)) }
        }
    }
}
