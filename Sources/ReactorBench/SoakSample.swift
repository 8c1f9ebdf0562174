/// One reading of a running soak, taken every second: cumulative counters and the server's resident memory.
struct SoakSample: Sendable, Codable {
    /// Seconds since the soak started (0: before the first connection).
    var seconds: Double
    /// Verified replies so far.
    var messages: Int
    /// Payload bytes of the verified replies so far.
    var payloadBytes: Int
    /// The server process's resident memory; nil when it cannot be observed.
    var serverRSSBytes: Int?
    /// The server's live heap (blocks and bytes malloc'd and not freed since it started serving), when it reports
    /// it (`serve --count-allocations`): growth here is a leak, growth in RSS alone is memory the allocator kept.
    var serverHeapAllocations: Int?
    var serverHeapBytes: Int?
    /// The load driver's own resident memory (for telling its growth from the server's).
    var driverRSSBytes: Int?
    /// Connections open in the load driver.
    var openConnections: Int
    /// Connections that retired on schedule so far.
    var retired: Int
    /// Errors so far: mismatches, unexpected closes, connect failures.
    var errors: Int

    enum CodingKeys: String, CodingKey {
        case seconds, messages, retired, errors
        case payloadBytes = "payload_bytes"
        case serverRSSBytes = "server_rss_bytes"
        case serverHeapAllocations = "server_heap_allocations"
        case serverHeapBytes = "server_heap_bytes"
        case driverRSSBytes = "driver_rss_bytes"
        case openConnections = "open_connections"
    }
}
