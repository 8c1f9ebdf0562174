public import CoreMetrics
public import ReactorCore

extension LoopMetrics {
    /// Reports every loop's counters to swift-metrics: `Counter`s for counts, `Gauge`s for levels, named as
    /// ``ReactorMetricName`` lists, each with a `("loop", "<index>")` dimension (and `("reason", "<kind>")` for
    /// closes), plus `dimensions`.
    ///
    /// Each loop creates its metrics once, on its own thread, when it starts (`22 + 12` per loop, and two for the
    /// acceptor on loop 0); every `interval` it adds the deltas since its last report to the counters (skipping
    /// zeros) and records the levels in the gauges. Nothing is counted per message here: the loops keep plain
    /// counters and this only reads them. The last report, when a loop stops, brings every counter to the server's
    /// final ``ReactorStatistics``.
    ///
    /// - Parameters:
    ///   - interval: How often each loop reports. Default 1 s.
    ///   - prefix: Replaces `reactor` at the start of every name (`reactor.connections.opened`...).
    ///   - dimensions: Added to every metric's dimensions (a server's name, when a process runs several).
    ///   - factory: The backend; nil (the default) uses the one bootstrapped in `MetricsSystem` when the loops start.
    public static func swiftMetrics(
        interval: Duration = .seconds(1), prefix: String = "reactor", dimensions: [(String, String)] = [],
        factory: (any MetricsFactory)? = nil
    ) -> LoopMetrics {
        LoopMetrics(interval: interval) { loop in
            SwiftMetricsLoopReporter(
                loop: loop, names: ReactorMetricName.Names(prefix: prefix), dimensions: dimensions,
                factory: factory ?? MetricsSystem.factory)
        }
    }
}

/// The names ``LoopMetrics/swiftMetrics(interval:prefix:dimensions:factory:)`` reports under (with the default
/// prefix `reactor`): dotted lower-case, as swift-metrics users (Hummingbird's `hb.requests`,
/// `http.server.active_requests`) and OpenTelemetry's conventions spell them. A Prometheus backend that wants
/// `reactor_connections_opened_total` maps them in its name sanitizer (swift-prometheus's
/// `PrometheusMetricsFactory.nameAndLabelSanitizer`).
///
/// Counters (totals since the server started), each with a `loop` dimension unless noted:
/// - `reactor.connections.opened`: connections opened (``ReactorStatistics/connectionsAccepted``).
/// - `reactor.connections.closed`: connections closed, with a `reason` dimension: every ``CloseReason/Kind``'s
///   description (`peerClosed`, `idleTimeout`...), all created up front so each series starts at 0.
/// - `reactor.connections.rejected`: connections refused at ``ServerConfiguration/maxConnections`` (server-wide,
///   reported by loop 0; no `loop` dimension).
/// - `reactor.accept.errors`: failed `accept4` calls (server-wide, likewise).
/// - `reactor.bytes.in`, `reactor.bytes.out`: bytes read from and written to sockets.
/// - `reactor.messages.in`, `reactor.messages.out`: messages decoded and frames queued (``ReactorStatistics/framesIn``,
///   ``ReactorStatistics/framesOut``).
/// - `reactor.backpressure.pauses`: times reading from a connection paused at the write high watermark.
/// - `reactor.loop.iterations`: returns from `epoll_wait`.
/// - `reactor.loop.wakeups`: iterations on which another thread had posted tasks to the loop.
///
/// Gauges (levels when the loop last reported), with a `loop` dimension:
/// - `reactor.connections.active`: connections open.
/// - `reactor.pool.bytes.reserved`, `reactor.pool.bytes.in_use`: the loop's buffer pool, held and handed out (bytes).
public enum ReactorMetricName {
    /// The dimension key of the loop index.
    public static let loopDimension = "loop"
    /// The dimension key of a close's reason.
    public static let reasonDimension = "reason"

    /// Every name under one prefix.
    struct Names {
        let opened, closed, active, rejected, acceptErrors, bytesIn, bytesOut, messagesIn, messagesOut: String
        let backpressurePauses, iterations, wakeups, poolReserved, poolInUse: String

        init(prefix: String) {
            opened = prefix + ".connections.opened"
            closed = prefix + ".connections.closed"
            active = prefix + ".connections.active"
            rejected = prefix + ".connections.rejected"
            acceptErrors = prefix + ".accept.errors"
            bytesIn = prefix + ".bytes.in"
            bytesOut = prefix + ".bytes.out"
            messagesIn = prefix + ".messages.in"
            messagesOut = prefix + ".messages.out"
            backpressurePauses = prefix + ".backpressure.pauses"
            iterations = prefix + ".loop.iterations"
            wakeups = prefix + ".loop.wakeups"
            poolReserved = prefix + ".pool.bytes.reserved"
            poolInUse = prefix + ".pool.bytes.in_use"
        }
    }
}

/// One loop's swift-metrics, created once when the loop starts, fed from its snapshots (loop thread only).
final class SwiftMetricsLoopReporter: LoopMetricsReporter {
    private let opened, bytesIn, bytesOut, messagesIn, messagesOut, pauses, iterations, wakeups: Counter
    /// By ``CloseReason/Kind/rawValue``.
    private let closed: [Counter]
    /// Loop 0 only: the acceptor's counters.
    private let rejected, acceptErrors: Counter?
    private let active, poolReserved, poolInUse: Gauge
    private var last: LoopMetricsSnapshot

    init(loop: Int, names: ReactorMetricName.Names, dimensions: [(String, String)], factory: any MetricsFactory) {
        let perLoop = dimensions + [(ReactorMetricName.loopDimension, String(loop))]
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: perLoop, factory: factory) }
        func gauge(_ label: String) -> Gauge { Gauge(label: label, dimensions: perLoop, factory: factory) }
        opened = counter(names.opened)
        bytesIn = counter(names.bytesIn)
        bytesOut = counter(names.bytesOut)
        messagesIn = counter(names.messagesIn)
        messagesOut = counter(names.messagesOut)
        pauses = counter(names.backpressurePauses)
        iterations = counter(names.iterations)
        wakeups = counter(names.wakeups)
        closed = CloseReason.Kind.allCases.sorted { $0.rawValue < $1.rawValue }.map { kind in
            Counter(
                label: names.closed,
                dimensions: perLoop + [(ReactorMetricName.reasonDimension, kind.description)], factory: factory)
        }
        if loop == 0 {
            rejected = Counter(label: names.rejected, dimensions: dimensions, factory: factory)
            acceptErrors = Counter(label: names.acceptErrors, dimensions: dimensions, factory: factory)
        } else {
            rejected = nil
            acceptErrors = nil
        }
        active = gauge(names.active)
        poolReserved = gauge(names.poolReserved)
        poolInUse = gauge(names.poolInUse)
        last = LoopMetricsSnapshot(loop: loop)
    }

    func report(_ snapshot: LoopMetricsSnapshot) {
        add(opened, snapshot.connectionsOpened, last.connectionsOpened)
        add(bytesIn, snapshot.bytesIn, last.bytesIn)
        add(bytesOut, snapshot.bytesOut, last.bytesOut)
        add(messagesIn, snapshot.messagesIn, last.messagesIn)
        add(messagesOut, snapshot.messagesOut, last.messagesOut)
        add(pauses, snapshot.backpressurePauses, last.backpressurePauses)
        add(iterations, snapshot.iterations, last.iterations)
        add(wakeups, snapshot.wakeups, last.wakeups)
        // By raw value, not `allCases` (which builds an array on every call).
        for index in closed.indices {
            let kind = CloseReason.Kind(rawValue: index).unsafelyUnwrapped
            add(closed[index], snapshot.closed(kind), last.closed(kind))
        }
        if let rejected { add(rejected, snapshot.connectionsRejected, last.connectionsRejected) }
        if let acceptErrors { add(acceptErrors, snapshot.acceptErrors, last.acceptErrors) }
        active.record(snapshot.connectionsOpen)
        poolReserved.record(snapshot.poolBytesReserved)
        poolInUse.record(snapshot.poolBytesInUse)
        last = snapshot
    }

    @inline(__always)
    private func add(_ counter: Counter, _ now: Int, _ before: Int) {
        if now > before { counter.increment(by: now - before) }
    }
}
