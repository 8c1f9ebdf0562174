import Histogram
import ReactorCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Drives the `soak` scenario: the load driver's ``LoadHandler`` with a ``SoakPlan``, for a long time, while the
/// server's resident memory is sampled every second.
///
/// Every message counts from the first connection on (there is no separate measured window); the warm-up only
/// marks where the RSS must have levelled off. Connections retire on the plan's schedule and the driver replaces
/// each one, so connection setup and teardown are soaked along with the echo path. At the end no new request is
/// sent and every request still in flight must come back: one that does not is a lost reply, an error like a
/// mismatched byte, an unexpected close or a failed connect.
struct SoakRunner {
    let target: ReactorSocketAddress
    /// The server's process, whose RSS and CPU are observed; nil when it cannot be (an external server without a
    /// pid): the soak then checks errors only.
    let serverPID: Int32?
    /// The server's live heap (blocks, bytes), when it reports one (see ``ChildServer/liveHeap()``).
    var serverHeap: (() -> (allocations: Int, bytes: Int)?)? = nil
    /// The layer every connection speaks through (TLS); nil: plain TCP.
    var transport: (any ConnectionTransportProvider)? = nil

    func run(_ spec: LoadSpec) throws -> (result: LoadResult, report: SoakReport) {
        guard let plan = spec.soak else { preconditionFailure("SoakRunner needs a soak LoadSpec") }
        let shared = LoadShared(plan: plan)
        let client = LoadGenerator.client(for: spec, shared: shared, transport: transport)
        try client.start()
        defer { client.stop() }
        let printEvery = max(1, Int(spec.duration / 60))
        emit(
            "soak: \(spec.connections) connections for \(Format.fixed(spec.duration, 0)) s (RSS must be flat after "
                + "\(Format.fixed(spec.warmup, 0)) s); \(plan.description)")
        emit(
            "server RSS sampled every second "
                + (serverPID.map { "(pid \($0))" } ?? "(not observable: no server pid)")
                + "; a line every \(printEvery) s with rates over that window")
        emit(SoakReport.curveHeader())

        let probe = serverPID.map { ChildProcessProbe(pid: $0) }
        shared.phase.store(LoadShared.Phase.measuring.rawValue, ordering: .relaxed)
        let start = LoadHandler.now()
        probe?.begin()
        var connectFailures = 0
        var connects = 0
        func connect() {
            do {
                try client.connect(to: target, from: try LoadGenerator.source(index: connects, of: spec.connections))
            } catch {
                connectFailures += 1
            }
            connects += 1
        }
        func sample() -> SoakSample {
            let heap = serverHeap?()
            return SoakSample(
                seconds: Double(LoadHandler.now() - start) / 1e9, messages: shared.replies.load(ordering: .relaxed),
                payloadBytes: shared.payloadBytes.load(ordering: .relaxed),
                serverRSSBytes: serverPID.flatMap { ProcessStats.residentBytes(pid: "\($0)") },
                serverHeapAllocations: heap?.allocations, serverHeapBytes: heap?.bytes,
                driverRSSBytes: ProcessStats.residentBytes(), openConnections: shared.openConnections,
                retired: shared.retired.load(ordering: .relaxed),
                errors: shared.mismatches.load(ordering: .relaxed) + shared.disconnects.load(ordering: .relaxed)
                    + connectFailures)
        }

        var samples = [sample()]
        samples[0].seconds = 0
        for _ in 0..<spec.connections { connect() }
        let end = start + UInt64(spec.duration * 1e9)
        var nextSample = start + 1_000_000_000
        var printed = samples[0]
        var serverGone = false
        while !serverGone {
            let now = LoadHandler.now()
            if now >= end { break }
            if now >= nextSample {
                let current = sample()
                samples.append(current)
                if (samples.count - 1) % printEvery == 0 {
                    emit(SoakReport.curveLine(current, since: printed))
                    printed = current
                }
                if serverPID != nil && current.serverRSSBytes == nil {
                    emit("the server process is gone: stopping the soak")
                    serverGone = true
                }
                nextSample += 1_000_000_000
                continue
            }
            let owed = shared.replacementsOwed.exchange(0, ordering: .relaxed)
            for _ in 0..<owed { connect() }
            usleep(useconds_t(min(10_000_000, nextSample - now, end - now) / 1000))
        }
        shared.phase.store(LoadShared.Phase.stopping.rawValue, ordering: .relaxed)
        let seconds = Double(LoadHandler.now() - start) / 1e9
        var last = sample()
        if last.seconds - samples[samples.count - 1].seconds >= 0.5 {
            samples.append(last)
        } else {
            last = samples[samples.count - 1]
        }
        if printed.seconds < last.seconds { emit(SoakReport.curveLine(last, since: printed)) }

        // Every request still in flight must come back: the drain waits for the replies of the connections still
        // open (a retiring connection closes after its last one) and fails on any that never arrive.
        let drainDeadline = LoadHandler.now() + 30_000_000_000
        while shared.outstanding > 0 && LoadHandler.now() < drainDeadline { usleep(10_000) }
        let lostReplies = max(0, shared.outstanding)
        let serverFigures = probe?.end(messages: shared.replies.load(ordering: .relaxed))
        client.stop()

        let (histogram, measured) = shared.merged.withLock { ($0.histogram, $0.measured) }
        var result = LoadResult(
            spec: spec, messages: measured, seconds: seconds,
            p50Microseconds: Double(histogram.valueAtPercentile(50)) / 1000,
            p99Microseconds: Double(histogram.valueAtPercentile(99)) / 1000,
            p999Microseconds: Double(histogram.valueAtPercentile(99.9)) / 1000,
            maxMicroseconds: Double(histogram.max) / 1000,
            mismatches: shared.mismatches.load(ordering: .relaxed),
            disconnects: shared.disconnects.load(ordering: .relaxed), server: serverFigures)
        result.latencyDistribution =
            histogram.totalCount == 0
            ? []
            : histogram.percentiles(ticksPerHalfDistance: 5).map {
                LatencyPoint(percentile: $0.percentile, microseconds: Double($0.value) / 1000)
            }
        result.payloadBytes = shared.payloadBytes.load(ordering: .relaxed)
        result.lostReplies = lostReplies
        result.connectFailures = connectFailures

        let rssSamples = samples.compactMap { sample in sample.serverRSSBytes.map { (sample.seconds, $0) } }
        let heapSamples = samples.compactMap { sample in sample.serverHeapBytes.map { (sample.seconds, $0) } }
        var report = SoakReport(
            seconds: seconds, warmupSeconds: spec.warmup, connections: spec.connections, plan: plan.description,
            messages: shared.replies.load(ordering: .relaxed),
            payloadBytes: shared.payloadBytes.load(ordering: .relaxed),
            retired: shared.retired.load(ordering: .relaxed),
            retiredWithRepliesInFlight: shared.retiredWithRepliesInFlight.load(ordering: .relaxed),
            replacements: connects - spec.connections, mismatches: result.mismatches,
            unexpectedCloses: Dictionary(
                uniqueKeysWithValues: shared.unexpectedCloses.withLock { $0 }.map { ($0.key.description, $0.value) }),
            connectFailures: connectFailures, lostReplies: lostReplies, errors: result.errors,
            rss: MemoryTrend(samples: rssSamples, warmupSeconds: spec.warmup),
            heap: MemoryTrend(samples: heapSamples, warmupSeconds: spec.warmup), samples: samples)
        report.stoppedEarly = serverGone
        return (result, report)
    }
}
