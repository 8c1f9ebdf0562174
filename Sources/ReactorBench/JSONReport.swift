import Foundation

/// The machine-readable results `--json FILE` writes and `--baseline FILE` reads.
struct JSONReport: Codable {
    struct Machine: Codable {
        var cores: Int
        var memoryBytes: Int
        var kernel: String
        var cpu: String
        var note: String

        enum CodingKeys: String, CodingKey {
            case cores, kernel, cpu, note
            case memoryBytes = "memory_bytes"
        }
    }

    struct Scenario: Codable {
        var name: String
        var server: String
        var connections: Int
        var size: Int
        var pipeline: Int
        var seconds: Double
        var messages: Int
        var msgsPerSecond: Double
        var mbPerSecond: Double
        var p50Microseconds: Double
        var p99Microseconds: Double
        var p999Microseconds: Double
        var maxMicroseconds: Double
        var allocationsPerMessage: Double?
        var serverAllocations: Int?
        var processAllocations: Int?
        var cpuMicrosecondsPerMessage: Double?
        var rssBytes: Int?
        var rssBytesPerIdleConnection: Double?
        /// The burst-memory scenario's figures (absent for the others).
        var burst: BurstFigures?
        var errors: Int
        var mismatches: Int
        var disconnects: Int
        var latencyDistribution: [LatencyPoint]

        enum CodingKeys: String, CodingKey {
            case name, server, connections, size, pipeline, seconds, messages, errors, mismatches, disconnects
            case msgsPerSecond = "msgs_per_s"
            case mbPerSecond = "mb_per_s"
            case p50Microseconds = "p50_us"
            case p99Microseconds = "p99_us"
            case p999Microseconds = "p999_us"
            case maxMicroseconds = "max_us"
            case allocationsPerMessage = "allocs_per_msg"
            case serverAllocations = "server_allocations"
            case processAllocations = "process_allocations"
            case cpuMicrosecondsPerMessage = "cpu_us_per_msg"
            case rssBytes = "rss_bytes"
            case rssBytesPerIdleConnection = "rss_per_idle_connection_bytes"
            case burst = "burst_memory"
            case latencyDistribution = "latency_distribution"
        }

        init(_ result: LoadResult, server: String) {
            name = result.spec.name
            self.server = server
            connections = result.spec.connections
            size = result.spec.size
            pipeline = result.spec.pipeline
            seconds = result.seconds
            messages = result.messages
            msgsPerSecond = result.messagesPerSecond
            mbPerSecond = result.megabytesPerSecond
            p50Microseconds = result.p50Microseconds
            p99Microseconds = result.p99Microseconds
            p999Microseconds = result.p999Microseconds
            maxMicroseconds = result.maxMicroseconds
            allocationsPerMessage = result.server?.allocationsPerMessage
            serverAllocations = result.server?.allocations
            processAllocations = result.server?.processAllocations
            cpuMicrosecondsPerMessage = result.server.map { $0.cpuMicrosecondsPerMessage }
            rssBytes = result.server?.residentBytes
            rssBytesPerIdleConnection = result.residentBytesPerIdleConnection
            burst = result.burst
            errors = result.errors
            mismatches = result.mismatches
            disconnects = result.disconnects
            latencyDistribution = result.latencyDistribution
        }

        /// Whether this is the idle-memory shape (no throughput or latency figures).
        var isIdle: Bool { rssBytesPerIdleConnection != nil }
    }

    var machine: Machine
    var scenarios: [Scenario]
    /// The soak's summary and per-second samples (`--scenario soak` only; absent otherwise).
    var soak: SoakReport?

    init(scenarios: [Scenario], soak: SoakReport? = nil) {
        self.machine = Self.thisMachine()
        self.scenarios = scenarios
        self.soak = soak
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    static func read(from path: String) throws -> JSONReport {
        try JSONDecoder().decode(JSONReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func thisMachine() -> Machine {
        let cpu =
            ProcessStats.read("/proc/cpuinfo")?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
            ?? "unknown"
        return Machine(
            cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: Int(ProcessInfo.processInfo.physicalMemory),
            kernel: ProcessStats.read("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines)
                ?? "unknown",
            cpu: cpu,
            note: "server and load driver share the machine's cores; compare ratios from one run")
    }
}
