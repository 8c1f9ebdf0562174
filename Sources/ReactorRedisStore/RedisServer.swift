public import ReactorCore
import ReactorRESP

/// reactor-redis: a ``ReactorCore/Server`` speaking RESP with a ``RedisCommandHandler``, its keyspace chosen by the
/// number of loops: ``UnlockedKeyspace`` (no lock at all) for one, ``ShardedKeyspace`` for more.
///
/// The framework's limits are set from the settings: a request must fit in what a connection may buffer, so that
/// is the longest bulk string plus ``requestHeadroom``; replies are not capped much below what a value can be (redis
/// does not cap a normal client's replies); requests have no deadline (redis has none) but idle clients the
/// `timeout` setting; and connections past `maxclients` are refused by the handler with redis's error, with a hard
/// cap in the framework ``overflowConnections`` above it.
public final class RedisServer: Sendable {
    /// Room in a connection's input buffer for the rest of a request next to one longest value (the command, a key,
    /// the headers).
    public static let requestHeadroom = 1 << 20
    /// Connections accepted past `maxclients` only to be told so, before the framework closes new ones unanswered.
    public static let overflowConnections = 1024

    private enum Running: Sendable {
        case oneLoop(Server<UnlockedRedisHandler>)
        case loops(Server<ShardedRedisHandler>)
    }

    private let running: Running

    /// A server for `configuration` (its address, loops, logger) and `settings`; the limits are set as described
    /// above. Nothing is bound until ``start()``.
    public init(configuration: ServerConfiguration, settings: RedisSettings) {
        let configuration = Self.configure(configuration, settings)
        let decoder = RESPRequestDecoder(maxBulkLength: settings.maxBulkLength)
        if configuration.subReactors == 1 {
            running = .oneLoop(
                Server(
                    configuration: configuration, handler: UnlockedRedisHandler(settings: settings, decoder: decoder)))
        } else {
            running = .loops(
                Server(configuration: configuration, handler: ShardedRedisHandler(settings: settings, decoder: decoder))
            )
        }
    }

    /// `configuration` with the limits reactor-redis needs for `settings`.
    public static func configure(_ configuration: ServerConfiguration, _ settings: RedisSettings) -> ServerConfiguration
    {
        var configuration = configuration
        configuration.limits.maxBufferedInput = settings.maxBulkLength + requestHeadroom
        configuration.limits.maxPendingWriteBytes = max(
            configuration.limits.maxPendingWriteBytes, 2 * settings.maxBulkLength + requestHeadroom)
        configuration.limits.readTimeout = nil
        configuration.idleTimeout = settings.idleTimeoutSeconds > 0 ? .seconds(settings.idleTimeoutSeconds) : nil
        configuration.maxConnections = settings.maxClients + overflowConnections
        return configuration
    }

    /// Binds, listens and starts the loops.
    public func start() throws {
        switch running {
        case .oneLoop(let server): try server.start()
        case .loops(let server): try server.start()
        }
    }

    /// Stops gracefully: answers what was received, flushes the replies, closes every connection.
    public func stop() {
        switch running {
        case .oneLoop(let server): server.stop()
        case .loops(let server): server.stop()
        }
    }

    /// The bound address (with the real port if the configuration asked for 0); nil unless running.
    public var localAddress: ReactorSocketAddress? {
        switch running {
        case .oneLoop(let server): server.localAddress
        case .loops(let server): server.localAddress
        }
    }

    /// The framework's counters.
    public func statistics() -> ReactorStatistics {
        switch running {
        case .oneLoop(let server): server.statistics()
        case .loops(let server): server.statistics()
        }
    }
}
