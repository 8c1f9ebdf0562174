/// What a soak moved, the errors it saw and the server's memory curve: printed as a summary, written under `"soak"`
/// by `--json`, drawn by `--plot`.
struct SoakReport: Sendable, Codable {
    var seconds: Double
    var warmupSeconds: Double
    var connections: Int
    var plan: String
    /// Verified replies and their payload bytes (each byte also went the other way as the request).
    var messages: Int
    var payloadBytes: Int
    /// Connections that retired on schedule (and how many of those closed with replies in flight), and the
    /// replacements the driver opened for them.
    var retired: Int
    var retiredWithRepliesInFlight: Int
    var replacements: Int
    var mismatches: Int
    /// Closes that were not a retirement or the final shutdown, by reason.
    var unexpectedCloses: [String: Int]
    var connectFailures: Int
    var lostReplies: Int
    var errors: Int
    /// The observed server process disappeared before the planned end.
    var stoppedEarly: Bool?
    /// The server's own account when it ran as our child: its final statistics line, and allocations on its threads.
    var serverSummary: String?
    var serverFrames: Int?
    var serverAllocations: Int?
    /// What the server's buffer pools held when it stopped (`pool at exit: ...`).
    var serverPool: String?
    var rss: MemoryTrend?
    /// The server's live heap bytes (reported by `serve --count-allocations`): tells a leak from allocator retention.
    var heap: MemoryTrend?
    var samples: [SoakSample]

    enum CodingKeys: String, CodingKey {
        case seconds, connections, plan, messages, retired, replacements, mismatches, errors, rss, heap, samples
        case warmupSeconds = "warmup_s"
        case stoppedEarly = "stopped_early"
        case payloadBytes = "payload_bytes"
        case retiredWithRepliesInFlight = "retired_with_replies_in_flight"
        case unexpectedCloses = "unexpected_closes"
        case connectFailures = "connect_failures"
        case lostReplies = "lost_replies"
        case serverSummary = "server_summary"
        case serverFrames = "server_frames"
        case serverAllocations = "server_allocations"
        case serverPool = "server_pool"
    }

    /// Passed: no errors, the server lasted the whole run, its RSS was judged flat (a run too short to judge fails;
    /// only `load` without `--server-pid` has no RSS to judge), and its live heap is not growing.
    var passed: Bool {
        errors == 0 && messages > 0 && stoppedEarly != true && (rss.map { $0.verdict == .flat } ?? true)
            && heap?.verdict != .growing
    }

    var allocationsPerMessage: Double? {
        guard let serverAllocations, let serverFrames, serverFrames > 0 else { return nil }
        return Double(serverAllocations) / Double(serverFrames)
    }

    /// Takes in what `reactor-bench serve --count-allocations` printed on exit: the `served N connections,
    /// F frames; closed: ...` line and the `allocations while serving: A on reactor threads, ...` line.
    mutating func addServerOutput(_ text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.hasPrefix("served "), words.count > 3 {
                serverSummary = String(line)
                serverFrames = Int(words[3])
            } else if line.hasPrefix("allocations while serving: "), words.count > 3 {
                serverAllocations = Int(words[3])
            } else if line.hasPrefix("pool at exit: ") {
                serverPool = String(line.dropFirst("pool at exit: ".count))
            }
        }
    }

    /// The column header of the live curve.
    static func curveHeader() -> String {
        [
            Format.pad("time", 7), Format.pad("msgs/s", 9), Format.pad("MB/s", 8), Format.pad("moved", 10),
            Format.pad("conns", 6), Format.pad("retired", 8), Format.pad("errors", 7), Format.pad("server RSS", 11),
            Format.pad("heap", 9), Format.pad("blocks", 7), Format.pad("driver RSS", 11),
        ].joined(separator: " ")
    }

    /// One line of the live curve: `sample`, with rates over the time since `previous`.
    static func curveLine(_ sample: SoakSample, since previous: SoakSample) -> String {
        let span = max(0.001, sample.seconds - previous.seconds)
        let rate = Double(sample.messages - previous.messages) / span
        let megabytes = Double(sample.payloadBytes - previous.payloadBytes) / span / 1_000_000
        return [
            Format.pad(Format.fixed(sample.seconds, 0) + "s", 7), Format.pad(Format.count(rate), 9),
            Format.pad(Format.fixed(megabytes, 1), 8), Format.pad(gigabytes(sample.payloadBytes), 10),
            Format.pad("\(sample.openConnections)", 6), Format.pad("\(sample.retired)", 8),
            Format.pad("\(sample.errors)", 7), Format.pad(sample.serverRSSBytes.map(mebibytes) ?? "-", 11),
            Format.pad(sample.serverHeapBytes.map(mebibytes) ?? "-", 9),
            Format.pad(sample.serverHeapAllocations.map { "\($0)" } ?? "-", 7),
            Format.pad(sample.driverRSSBytes.map(mebibytes) ?? "-", 11),
        ].joined(separator: " ")
    }

    /// The summary printed after the run.
    func summaryLines() -> [String] {
        var lines = ["soak summary: \(Format.fixed(seconds, 0)) s, \(connections) connections; \(plan)"]
        let rate = seconds > 0 ? Double(messages) / seconds : 0
        lines.append(
            "  messages     \(Format.grouped(messages)) replies (\(Format.count(rate))/s), every byte compared with its request"
        )
        lines.append(
            "  bytes moved  \(Self.gigabytes(payloadBytes)) of payload echoed and verified "
                + "(\(Self.gigabytes(2 * payloadBytes)) through the server's sockets, plus 4-byte frame headers), "
                + "\(Format.fixed(seconds > 0 ? Double(payloadBytes) / seconds / 1_000_000 : 0, 1)) MB/s")
        lines.append(
            "  connections  \(connections) at the start + \(Format.grouped(replacements)) replacements; "
                + "\(Format.grouped(retired)) retired on schedule (\(Format.grouped(retiredWithRepliesInFlight)) "
                + "with replies still in flight)")
        let closes =
            unexpectedCloses.isEmpty
            ? "0" : unexpectedCloses.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.append(
            "  errors       \(errors) (mismatched replies \(mismatches), unexpected closes \(closes), "
                + "connect failures \(connectFailures), lost replies \(lostReplies))")
        if let serverSummary { lines.append("  server       \(serverSummary)") }
        if let serverPool { lines.append("  server pool  at exit: \(serverPool)") }
        if let serverAllocations, let allocationsPerMessage {
            lines.append(
                "  allocations  \(Format.fixed(allocationsPerMessage, 4)) per message on the server's threads "
                    + "(\(Format.grouped(serverAllocations)) over \(Format.grouped(serverFrames ?? 0)) frames and "
                    + "\(Format.grouped(connections + replacements)) connections)")
        }
        guard let rss else {
            lines.append("  server RSS   not sampled (no server process to observe)")
            return lines
        }
        lines.append(
            "  server RSS   \(Self.mebibytes(rss.idleBytes)) before connecting; after the \(Format.fixed(rss.warmupSeconds, 0)) s "
                + "warm-up: \(Self.mebibytes(rss.atWarmupEndBytes)) -> \(Self.mebibytes(rss.atEndBytes)) at the end, "
                + "min \(Self.mebibytes(rss.minimumBytes)), max \(Self.mebibytes(rss.maximumBytes)) "
                + "(max over the whole run \(Self.mebibytes(rss.overallMaximumBytes)))")
        lines.append(
            "               median of the first tenth \(Self.mebibytes(rss.startMedianBytes)) -> last tenth "
                + "\(Self.mebibytes(rss.endMedianBytes)) (\(Self.signedMebibytes(Double(rss.medianGrowthBytes)))); "
                + "least-squares slope \(Self.signedMebibytes(rss.slopeBytesPerMinute))/min "
                + "(\(Self.signedMebibytes(rss.fittedGrowthBytes)) over the window); "
                + "threshold \(Self.mebibytes(rss.thresholdBytes))")
        let verdict: String
        switch rss.verdict {
        case .flat: verdict = "flat"
        case .growing: verdict = "GROWING"
        case .tooShort:
            verdict = "too short to judge (fewer than \(MemoryTrend.minimumSamples) samples after the warm-up)"
        }
        lines.append("  RSS verdict  \(verdict)")
        if let heap {
            let steady = samples.filter { $0.seconds >= heap.warmupSeconds && $0.serverHeapAllocations != nil }
            let blocks = [steady.first, steady.last].map { $0?.serverHeapAllocations.map(Format.grouped) ?? "-" }
            let churned = (steady.last?.retired ?? 0) - (steady.first?.retired ?? 0)
            lines.append(
                "  server heap  live bytes (malloc'd, not freed, since the server started): "
                    + "\(Self.mebibytes(heap.atWarmupEndBytes)) after the warm-up -> \(Self.mebibytes(heap.atEndBytes)) "
                    + "at the end (min \(Self.mebibytes(heap.minimumBytes)), max \(Self.mebibytes(heap.maximumBytes))); "
                    + "slope \(Self.signedMebibytes(heap.slopeBytesPerMinute))/min; live blocks \(blocks[0]) -> "
                    + "\(blocks[1]) while \(Format.grouped(churned)) connections were replaced "
                    + "(\(heap.verdict == .growing ? "GROWING: a leak" : heap.verdict.rawValue))")
        }
        return lines
    }

    static func gigabytes(_ bytes: Int) -> String { Format.fixed(Double(bytes) / 1e9, 2) + " GB" }

    static func mebibytes(_ bytes: Int) -> String { Format.fixed(Double(bytes) / 1_048_576, 1) + " MiB" }

    static func signedMebibytes(_ bytes: Double) -> String {
        (bytes >= 0 ? "+" : "") + Format.fixed(bytes / 1_048_576, 2) + " MiB"
    }
}
