public import ReactorCore
public import ReactorRESP

/// reactor-redis's stream handler for a server with one loop: `RESPStreamHandler(RedisCommandHandler(keyspace:
/// UnlockedKeyspace()))` (no lock at all), as a concrete type. See ``ShardedRedisHandler`` for any number of loops.
///
/// Why not the generic `RESPStreamHandler<RedisCommandHandler<UnlockedKeyspace>>` itself: the framework's loop
/// calls its handler through the `StreamHandler` conformance, and a generic type's conformance runs the generic
/// code, unspecialised (type metadata looked up, values retained and released on every request), however the type
/// was instantiated. A concrete type conforming in this module gets the whole command path specialised for its
/// keyspace (``ReactorRESP/RESPStreamHandler/onRead(_:state:connection:)`` is inlinable): about 1.3–1.9× the
/// requests per second at `redis-benchmark -c 50 -P 1` on this project's 2-core machine.
public struct UnlockedRedisHandler: ConcreteRedisHandler {
    public typealias ConnectionState = RESPStreamHandler<RedisCommandHandler<UnlockedKeyspace>>.ConnectionState
    /// The handler this one forwards to.
    public var base: RESPStreamHandler<RedisCommandHandler<UnlockedKeyspace>>

    /// A store of its own with `settings`, decoding with `decoder`.
    public init(settings: RedisSettings = RedisSettings(), decoder: RESPRequestDecoder = RESPRequestDecoder()) {
        base = RESPStreamHandler(
            RedisCommandHandler(keyspace: UnlockedKeyspace(), settings: settings), decoder: decoder)
    }
}

/// reactor-redis's stream handler for any number of loops: `RESPStreamHandler(RedisCommandHandler(keyspace:
/// ShardedKeyspace()))`, as a concrete type (see ``UnlockedRedisHandler`` for why).
public struct ShardedRedisHandler: ConcreteRedisHandler {
    public typealias ConnectionState = RESPStreamHandler<RedisCommandHandler<ShardedKeyspace>>.ConnectionState
    /// The handler this one forwards to.
    public var base: RESPStreamHandler<RedisCommandHandler<ShardedKeyspace>>

    /// A store of its own with `settings`, shared by every loop's copy, decoding with `decoder`.
    public init(settings: RedisSettings = RedisSettings(), decoder: RESPRequestDecoder = RESPRequestDecoder()) {
        base = RESPStreamHandler(RedisCommandHandler(keyspace: ShardedKeyspace(), settings: settings), decoder: decoder)
    }
}

/// A concrete handler that forwards to a `RESPStreamHandler` over one keyspace; the forwarding is inlined into each
/// conforming type's witnesses, so it is specialised there.
public protocol ConcreteRedisHandler: StreamHandler {
    associatedtype Space: Keyspace
    /// The handler this one forwards every event to.
    var base: RESPStreamHandler<RedisCommandHandler<Space>> { get set }
}

extension ConcreteRedisHandler
where ConnectionState == RESPStreamHandler<RedisCommandHandler<Space>>.ConnectionState {
    @inline(__always)
    public mutating func onOpen(connection: inout ConnectionContext) -> ConnectionState {
        base.onOpen(connection: &connection)
    }

    @inline(__always)
    public mutating func onRead(
        _ input: inout InboundBytes, state: inout ConnectionState, connection: inout ConnectionContext
    ) {
        base.onRead(&input, state: &state, connection: &connection)
    }

    @inline(__always)
    public mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason) {
        base.onClose(id, state: state, reason: reason)
    }
}
