/// What the `burst-memory` scenario measured: the server's resident memory before a burst of peers that write
/// without reading, at its peak, and for a while after the peers reset. Printed under the result row, written
/// under `"burst_memory"` by `--json`.
struct BurstFigures: Sendable, Codable {
    /// One reading of the server's RSS.
    struct Sample: Sendable, Codable {
        /// Seconds since the resets (negative during the burst).
        var seconds: Double
        var rssBytes: Int

        enum CodingKeys: String, CodingKey {
            case seconds
            case rssBytes = "rss_bytes"
        }
    }

    var peers: Int
    /// Bytes the kernel took from the peers, all of them together (each tried to write `bytesPerPeer`).
    var sentBytes: Int
    var bytesPerPeer: Int
    /// How long the peers wrote: until each had sent its share, or the burst's time was up.
    var burstSeconds: Double
    /// Peers whose sends still blocked when the burst ended: the server had stopped reading them.
    var stalledPeers: Int
    /// Before the burst (after a warm-up), the highest reading from the burst's start on, the last reading.
    var rssBeforeBytes: Int
    var rssPeakBytes: Int
    var rssAfterBytes: Int
    /// How long after the resets the RSS was read for (the last reading is `rssAfterBytes`).
    var settleWindowSeconds: Double
    /// How far above `rssBeforeBytes` the RSS may be and still count as given back.
    var retainedLimitBytes: Int
    /// Seconds after the resets from which on every reading was within `retainedLimitBytes` of before; nil: the
    /// last reading was not (not given back within the window).
    var settledSeconds: Double?
    var peakGrowthMiB: Double
    var retainedMiB: Double
    /// Every reading, 100 ms apart, from the burst's start to the end of the window.
    var samples: [Sample]

    enum CodingKeys: String, CodingKey {
        case peers, samples
        case sentBytes = "sent_bytes"
        case bytesPerPeer = "bytes_per_peer"
        case burstSeconds = "burst_s"
        case stalledPeers = "stalled_peers"
        case rssBeforeBytes = "rss_before_bytes"
        case rssPeakBytes = "rss_peak_bytes"
        case rssAfterBytes = "rss_after_bytes"
        case settleWindowSeconds = "settle_window_s"
        case retainedLimitBytes = "retained_limit_bytes"
        case settledSeconds = "settled_s"
        case peakGrowthMiB = "peak_growth_mib"
        case retainedMiB = "retained_mib"
    }

    init(
        peers: Int, sentBytes: Int, bytesPerPeer: Int, burstSeconds: Double, stalledPeers: Int,
        settleWindowSeconds: Double, retainedLimitBytes: Int, rssBeforeBytes: Int, samples: [Sample]
    ) {
        self.peers = peers
        self.sentBytes = sentBytes
        self.bytesPerPeer = bytesPerPeer
        self.burstSeconds = burstSeconds
        self.stalledPeers = stalledPeers
        self.settleWindowSeconds = settleWindowSeconds
        self.retainedLimitBytes = retainedLimitBytes
        self.rssBeforeBytes = rssBeforeBytes
        self.samples = samples
        rssPeakBytes = samples.map(\.rssBytes).max() ?? rssBeforeBytes
        rssAfterBytes = samples.last?.rssBytes ?? rssBeforeBytes
        peakGrowthMiB = Double(rssPeakBytes - rssBeforeBytes) / 1_048_576
        retainedMiB = Double(rssAfterBytes - rssBeforeBytes) / 1_048_576
        let afterResets = samples.filter { $0.seconds >= 0 }
        let lastAbove = afterResets.lastIndex { $0.rssBytes - rssBeforeBytes >= retainedLimitBytes }
        switch lastAbove {
        case nil: settledSeconds = afterResets.first?.seconds
        case let index? where index + 1 < afterResets.count: settledSeconds = afterResets[index + 1].seconds
        default: settledSeconds = nil
        }
    }

    /// `back within 8 MiB 2.4 s after the resets`, or `not back within 8 MiB in 10 s`.
    var settledText: String {
        let limit = Format.bytes(Double(retainedLimitBytes))
        guard let settledSeconds else { return "not back within \(limit) in \(Format.seconds(settleWindowSeconds))" }
        return "back within \(limit) \(Format.seconds(settledSeconds)) after the resets"
    }

    /// The line under the result row.
    var summaryLine: String {
        "  burst: \(peers) peers wrote \(Format.bytes(Double(sentBytes))) in \(Format.seconds(burstSeconds)) "
            + "without reading (\(stalledPeers) stalled), then reset; server RSS before "
            + "\(Format.bytes(Double(rssBeforeBytes))), peak \(Format.bytes(Double(rssPeakBytes))) "
            + "(\(Self.signed(peakGrowthMiB)) MiB), after \(Format.seconds(settleWindowSeconds)) "
            + "\(Format.bytes(Double(rssAfterBytes))) (\(Self.signed(retainedMiB)) MiB), \(settledText)"
    }

    /// `+1.2`, `-0.3`, `+0.0` (one decimal, always signed).
    static func signed(_ value: Double) -> String {
        let text = Format.fixed(value, 1)
        return text.hasPrefix("-") && text != "-0.0" ? text : "+" + text.drop { $0 == "-" }
    }
}
