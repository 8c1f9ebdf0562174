public import CoreMetrics
import ReactorCore
import Synchronization

/// A small swift-metrics backend that keeps every metric's current value in memory and renders them as text, one
/// line per series: for examples, `reactor-bench serve --metrics` and the allocation benchmarks. Not a production
/// backend (use swift-prometheus or swift-otel for that).
///
/// Creating a metric takes a lock and allocates (once per name and dimensions; creating it again returns the same
/// series). Updating one is a relaxed atomic on its own value: no lock, no allocation. Counters keep their total,
/// gauges and recorders their last value, meters their value, timers their last duration in nanoseconds.
public final class TextMetricsFactory: MetricsFactory, Sendable {
    private let series = Lock<[String: TextMetric]>([:])

    /// An empty backend.
    public init() {}

    /// Every series, sorted by name, one per line: `name{key="value",...} value`.
    public func render() -> String {
        let all = series.withLock { $0 }
        return all.keys.sorted().map { key in "\(key) \(all[key]!.formattedValue)" }.joined(separator: "\n")
    }

    /// The value of the series `label` with exactly `dimensions` (in that order), nil if none was created.
    public func value(_ label: String, _ dimensions: [(String, String)] = []) -> Double? {
        let key = Self.key(label, dimensions)
        return series.withLock { $0[key] }?.value
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        if dimensions.isEmpty { return label }
        return label + "{" + dimensions.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    }

    private func make(_ label: String, _ dimensions: [(String, String)], integer: Bool) -> TextMetric {
        let key = Self.key(label, dimensions)
        return series.withLock { series in
            if let existing = series[key] { return existing }
            let metric = TextMetric(integer: integer)
            series[key] = metric
            return metric
        }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        make(label, dimensions, integer: true)
    }

    public func makeFloatingPointCounter(
        label: String, dimensions: [(String, String)]
    ) -> any FloatingPointCounterHandler {
        make(label, dimensions, integer: false)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        make(label, dimensions, integer: false)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        make(label, dimensions, integer: false)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        make(label, dimensions, integer: true)
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyMeter(_ handler: any MeterHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}
}

/// One series of a ``TextMetricsFactory``: an integer total, or a `Double` kept as its bit pattern.
final class TextMetric: CounterHandler, FloatingPointCounterHandler, RecorderHandler, MeterHandler, TimerHandler,
    Sendable
{
    /// Integer series (counters, timers) keep `Int64` bits, the others `Double` bits.
    private let integer: Bool
    private let bits = Atomic<UInt64>(0)

    init(integer: Bool) {
        self.integer = integer
        if !integer { bits.store(Double(0).bitPattern, ordering: .relaxed) }
    }

    var value: Double {
        let raw = bits.load(ordering: .relaxed)
        return integer ? Double(Int64(bitPattern: raw)) : Double(bitPattern: raw)
    }

    /// The value as text: integers without a fraction (also a gauge's whole-number value).
    var formattedValue: String {
        let raw = bits.load(ordering: .relaxed)
        if integer { return String(Int64(bitPattern: raw)) }
        let value = Double(bitPattern: raw)
        if value == value.rounded(), abs(value) < 0x1p53 { return String(Int64(value)) }
        return String(value)
    }

    private func update(_ body: (Double) -> Double) {
        var current = bits.load(ordering: .relaxed)
        while true {
            let next = body(Double(bitPattern: current)).bitPattern
            let (exchanged, original) = bits.compareExchange(
                expected: current, desired: next, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    // CounterHandler, TimerHandler (integer)
    func increment(by amount: Int64) { bits.wrappingAdd(UInt64(bitPattern: amount), ordering: .relaxed) }
    func reset() { bits.store(integer ? 0 : Double(0).bitPattern, ordering: .relaxed) }
    func recordNanoseconds(_ duration: Int64) { bits.store(UInt64(bitPattern: duration), ordering: .relaxed) }

    // FloatingPointCounterHandler, MeterHandler
    func increment(by amount: Double) { update { $0 + amount } }
    func decrement(by amount: Double) { update { $0 - amount } }

    // RecorderHandler, MeterHandler
    func record(_ value: Int64) { set(Double(value)) }
    func record(_ value: Double) { set(value) }
    func set(_ value: Int64) { set(Double(value)) }
    func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
}
