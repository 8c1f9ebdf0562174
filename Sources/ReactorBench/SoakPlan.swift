#if canImport(Glibc)
    import Glibc
#endif

/// The shape of the `soak` scenario beyond a ``LoadSpec``'s fixed fields: which payload sizes the connections cycle
/// through, how deep each connection pipelines, and when each connection retires and is replaced.
///
/// Everything is a deterministic function of a connection's offset (the order it opened in, see ``LoadShared``), so
/// two soaks with the same parameters send the same byte streams:
///
/// - Payloads cycle through ``smallSizes`` (a fixed mix from 0 B to 64 KiB: the size-class, chunk and read-buffer
///   boundaries plus a log-uniform spread); every ``bulkEvery``-th connection cycles through ``bulkSizes`` instead,
///   the same mix with a few frames between 64 KiB and the 1 MiB frame limit spread through it. Keeping the large
///   frames on a few connections bounds how many can be in flight at once, so the server's memory has a fixed
///   ceiling and a leak is not hidden in the noise of large frames coming and going.
/// - A connection keeps 1 to ``maximumDepth`` requests in flight.
/// - A connection retires after a lifetime between ``shortestLifetime`` and ``longestLifetime`` seconds: it stops
///   sending, and closes once its replies are in; every ``abruptEvery``-th connection instead closes as soon as its
///   own requests are written, with replies still on the way, so the server sees a reset mid-echo. The driver opens
///   a new connection for each one that retired.
struct SoakPlan: Sendable {
    /// Payload sizes for most connections, in the order a connection cycles through them.
    let smallSizes: [Int]
    /// Payload sizes for the bulk connections: ``smallSizes`` with large frames spread through it.
    let bulkSizes: [Int]
    /// Every this-many-th connection is a bulk connection.
    let bulkEvery: Int
    /// Requests in flight per connection are 1 ... this.
    let maximumDepth: Int
    /// Connection lifetimes are spread evenly over this range, in seconds.
    let shortestLifetime: Double
    let longestLifetime: Double
    /// Every this-many-th connection closes with replies still in flight when it retires.
    let abruptEvery: Int

    /// The largest payload any connection sends.
    var largestSize: Int { max(smallSizes.max() ?? 0, bulkSizes.max() ?? 0) }

    /// The standard soak: sizes up to `largestFrame` (the server's frame limit, 1 MiB by default).
    static func standard(largestFrame: Int = 1 << 20) -> SoakPlan {
        let small = mixedSizes(count: 1021, largest: 64 * 1024)
        // Three large frames a third of the cycle apart: never two in flight on one connection.
        var bulk = small
        let large = [largestFrame, min(largestFrame, 300_000), min(largestFrame, 100_000)]
        for (index, size) in large.enumerated() { bulk.insert(size, at: index * (bulk.count + 1) / large.count) }
        return SoakPlan(
            smallSizes: small, bulkSizes: bulk, bulkEvery: 50, maximumDepth: 4, shortestLifetime: 5,
            longestLifetime: 55, abruptEvery: 4)
    }

    /// `count` sizes from 0 to `largest`: every boundary that matters to the server's buffers (the 4-byte length
    /// prefix, the 4 KiB smallest pool chunk, the 16 KiB outbound chunk less its 16-byte link, the 32 KiB
    /// direct-read threshold, the 64 KiB read buffer), the rest log-uniform, shuffled by a fixed generator.
    static func mixedSizes(count: Int, largest: Int) -> [Int] {
        let boundaries = [
            0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 63, 64, 65, 127, 128, 255, 256, 511, 512, 1000, 1024, 1460, 1500,
            4076, 4092, 4096, 4100, 8192, 16_352, 16_364, 16_368, 16_380, 16_384, 16_388, 32_764, 32_768, 32_772,
            65_500, 65_532, 65_536,
        ].filter { $0 <= largest }
        var random = SplitMix(seed: 0x50A4)
        var sizes = boundaries
        let logLargest = log2(Double(largest + 1))
        while sizes.count < count {
            let size = Int(pow(2, random.unit() * logLargest)) - 1
            sizes.append(min(largest, max(0, size)))
        }
        for index in stride(from: sizes.count - 1, to: 0, by: -1) {
            sizes.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        return sizes
    }

    /// Whether connection `offset` sends the large frames.
    func isBulk(_ offset: Int) -> Bool { offset % bulkEvery == bulkEvery - 1 }

    /// Requests connection `offset` keeps in flight.
    func depth(forConnection offset: Int) -> Int { 1 + Int(SplitMix.mix(UInt64(offset)) % UInt64(maximumDepth)) }

    /// How long connection `offset` lives before it retires, in nanoseconds.
    func lifetimeNanoseconds(forConnection offset: Int) -> UInt64 {
        // A fixed stride through the range (golden-ratio steps), so consecutive connections retire far apart.
        let fraction = (Double(offset) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1)
        return UInt64((shortestLifetime + fraction * (longestLifetime - shortestLifetime)) * 1e9)
    }

    /// Whether connection `offset` closes with replies still in flight when it retires.
    func closesAbruptly(_ offset: Int) -> Bool { (SplitMix.mix(UInt64(offset)) >> 32) % UInt64(abruptEvery) == 0 }

    /// The mean payload over every connection's cycle, for the results table.
    var meanSize: Double {
        let small = Double(smallSizes.reduce(0, +)) / Double(max(1, smallSizes.count))
        let bulk = Double(bulkSizes.reduce(0, +)) / Double(max(1, bulkSizes.count))
        return (small * Double(bulkEvery - 1) + bulk) / Double(bulkEvery)
    }

    /// One line describing the plan.
    var description: String {
        "payloads \(smallSizes.count) sizes 0 B-\(Format.bytes(Double(smallSizes.max() ?? 0))) "
            + "(every \(bulkEvery)th connection also \(Format.bytes(Double(bulkSizes.filter { $0 > 65_536 }.min() ?? 0)))"
            + "-\(Format.bytes(Double(largestSize)))), depth 1-\(maximumDepth), lifetimes "
            + "\(Format.fixed(shortestLifetime, 0))-\(Format.fixed(longestLifetime, 0)) s "
            + "(every \(abruptEvery)th closes with replies in flight)"
    }
}
