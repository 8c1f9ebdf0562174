import ReactorCore
public import ReactorRESP

/// reactor-redis's stream handler for a server with one loop: a ``RedisCommandHandler`` over an
/// ``UnlockedKeyspace`` (no lock at all), served by a `RESPStreamHandler` and specialised for it (see
/// ``ReactorRESP/RESPSpecializedHandler`` for why a concrete type). ``ShardedRedisHandler`` is for any number of
/// loops.
public struct UnlockedRedisHandler: RESPSpecializedHandler {
    /// The handler every event is forwarded to.
    public var base: RESPStreamHandler<RedisCommandHandler<UnlockedKeyspace>>

    /// A store of its own with `settings`, decoding with `decoder`.
    public init(settings: RedisSettings = RedisSettings(), decoder: RESPRequestDecoder = RESPRequestDecoder()) {
        base = RESPStreamHandler(
            RedisCommandHandler(keyspace: UnlockedKeyspace(), settings: settings), decoder: decoder)
    }
}

/// reactor-redis's stream handler for any number of loops: a ``RedisCommandHandler`` over a ``ShardedKeyspace``
/// (shared by every loop's copy), served by a `RESPStreamHandler` and specialised for it (see
/// ``ReactorRESP/RESPSpecializedHandler``).
public struct ShardedRedisHandler: RESPSpecializedHandler {
    /// The handler every event is forwarded to.
    public var base: RESPStreamHandler<RedisCommandHandler<ShardedKeyspace>>

    /// A store of its own with `settings`, decoding with `decoder`.
    public init(settings: RedisSettings = RedisSettings(), decoder: RESPRequestDecoder = RESPRequestDecoder()) {
        base = RESPStreamHandler(RedisCommandHandler(keyspace: ShardedKeyspace(), settings: settings), decoder: decoder)
    }
}
