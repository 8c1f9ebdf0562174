import Synchronization

/// The server settings the store knows about (redis-server's where they exist): CONFIG GET answers with them,
/// and the handler enforces `maxclients`.
public struct RedisSettings: Sendable {
    /// Most clients connected at once; one more is told `-ERR max number of clients reached` and closed
    /// (redis's `maxclients`, default 10000).
    public var maxClients = 10_000
    /// The longest bulk string in a request, and the longest string value APPEND may make (redis's
    /// `proto-max-bulk-len`, default 512 MiB).
    public var maxBulkLength = 512 << 20
    /// Seconds a client may stay idle before it is closed; 0 for never (redis's `timeout`). The server enforces it
    /// (``RedisServer`` sets the framework's idle timeout from it); CONFIG GET reports it.
    public var idleTimeoutSeconds = 0
    /// The port and address CONFIG GET reports.
    public var port = 6379
    public var bind = "127.0.0.1"

    /// redis's defaults.
    public init() {}
}

/// Per-connection state: the selected database, the client's id and name.
public struct RedisClient: Sendable {
    /// SELECT's database.
    public internal(set) var database = 0
    /// CLIENT ID's answer: connections are numbered from 1 in the order they open.
    public let id: Int
    /// CLIENT SETNAME's name, nil when none is set.
    var name: [UInt8]?
    /// Whether replies are RESP3 (after `HELLO 3`) rather than RESP2.
    var resp3 = false
    /// The commands queued since MULTI; nil outside a transaction.
    var transaction: RedisTransaction?
}

/// Counters all loops share: connected clients (for `maxclients`) and the last client id given.
final class ClientCounters: Sendable {
    let connected = Atomic<Int>(0)
    let lastID = Atomic<Int>(0)
}
