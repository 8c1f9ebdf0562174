import ReactorCore

/// One shard of a keyspace: its part of each of the 16 databases. Only touched while its keyspace says so (under
/// the shard's lock, or on the one loop of an unlocked keyspace).
public final class KeyspaceShard: @unchecked Sendable {
    /// Databases per keyspace, as redis's default `databases 16`.
    public static let databaseCount = 16

    let databases: [Database]
    /// Held while the shard is touched (``ShardedKeyspace``): a pthread mutex (ThreadSanitizer cannot see
    /// `Synchronization.Mutex`, built on raw futexes on Linux).
    fileprivate let lock = Lock(())

    init() {
        databases = (0..<Self.databaseCount).map { _ in Database() }
    }
}

/// Where the keys live, and how the loops share them: the store's handler is generic over it, so the choice costs
/// nothing per command.
///
/// A key belongs to the shard given by the top ``shardBits`` bits of its hash; within the shard its tables use
/// the remaining bits, so the whole keyspace is in hash order (SCAN's cursor is a position in it).
///
/// - ``ShardedKeyspace``: 64 shards, each behind its own lock (a pthread mutex), for any number of loops. A command on one key
///   locks one shard; a command on several keys (MSET, MGET, DEL, EXISTS) locks each shard it needs, in ascending
///   order, and holds them all while it runs, so it is atomic as in redis; KEYS, DBSIZE and FLUSHDB lock every
///   shard, in the same order, so no two commands can deadlock.
/// - ``UnlockedKeyspace``: one shard and no lock at all, for a server with exactly one loop (`--loops 1`).
public protocol Keyspace: AnyObject, Sendable {
    /// log2 of the number of shards.
    static var shardBits: Int { get }

    /// Runs `body` with shard `index`, locked.
    func withShard<Result>(_ index: Int, _ body: (KeyspaceShard) -> Result) -> Result

    /// Runs `body` with every shard whose bit is set in `shards` locked (taken in ascending order). `body` reaches
    /// them with ``shard(_:)``.
    func withShards<Result>(_ shards: UInt64, _ body: () -> Result) -> Result

    /// Shard `index`, without locking: only inside ``withShards(_:_:)`` for a shard it locked.
    func shard(_ index: Int) -> KeyspaceShard
}

extension Keyspace {
    /// Shards in the keyspace.
    @inline(__always)
    static var shardCount: Int { 1 << shardBits }

    /// Every shard's bit, for ``withShards(_:_:)``.
    @inline(__always)
    static var allShards: UInt64 { shardBits == 6 ? .max : (1 << UInt64(shardCount)) - 1 }

    /// The shard of a key with `hash`.
    @inline(__always)
    static func shardIndex(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> UInt64(64 - shardBits)) }

    /// The hash the shard's tables use for a key with `hash`: the bits below the shard's (never 0).
    @inline(__always)
    static func localHash(_ hash: UInt64) -> UInt64 { (hash << UInt64(shardBits)) | 1 }
}

/// 64 shards, each behind a lock: for any number of loops. See ``Keyspace``.
public final class ShardedKeyspace: Keyspace {
    public static let shardBits = 6

    private let shards: [KeyspaceShard]

    public init() {
        shards = (0..<Self.shardCount).map { _ in KeyspaceShard() }
    }

    @inline(__always)
    public func withShard<Result>(_ index: Int, _ body: (KeyspaceShard) -> Result) -> Result {
        let shard = shards[index]
        return shard.lock.whileLocked { body(shard) }
    }

    public func withShards<Result>(_ shards: UInt64, _ body: () -> Result) -> Result {
        if shards == 0 { return body() }
        var result: Result?
        self.shards[shards.trailingZeroBitCount].lock.whileLocked {
            result = withShards(shards & (shards - 1), body)
        }
        return result!
    }

    @inline(__always)
    public func shard(_ index: Int) -> KeyspaceShard { shards[index] }
}

/// One shard and no lock: for a server with a single loop, whose thread runs every command (and the expiry
/// sweep), so nothing runs concurrently. Never share it between loops. See ``Keyspace``.
public final class UnlockedKeyspace: Keyspace {
    public static let shardBits = 0

    private let only = KeyspaceShard()

    public init() {}

    @inline(__always)
    public func withShard<Result>(_ index: Int, _ body: (KeyspaceShard) -> Result) -> Result { body(only) }

    @inline(__always)
    public func withShards<Result>(_ shards: UInt64, _ body: () -> Result) -> Result { body() }

    @inline(__always)
    public func shard(_ index: Int) -> KeyspaceShard { only }
}

/// Another keyspace whose every shard the caller already holds (EXEC runs its queue inside
/// `withShards(allShards)`): reaches the shards without taking their locks again, so the queued commands run as one
/// atomic step. Only for the duration of that call, on its thread.
final class HeldKeyspace<Base: Keyspace>: Keyspace {
    static var shardBits: Int { Base.shardBits }

    private let base: Base

    init(_ base: Base) {
        self.base = base
    }

    @inline(__always)
    func withShard<Result>(_ index: Int, _ body: (KeyspaceShard) -> Result) -> Result { body(base.shard(index)) }

    @inline(__always)
    func withShards<Result>(_ shards: UInt64, _ body: () -> Result) -> Result { body() }

    @inline(__always)
    func shard(_ index: Int) -> KeyspaceShard { base.shard(index) }
}
