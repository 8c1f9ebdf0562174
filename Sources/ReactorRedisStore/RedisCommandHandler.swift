public import ReactorCore
public import ReactorRESP
import Synchronization

/// An in-memory Redis: the ``ReactorRESP/RESPCommandHandler`` that answers strings, keys with expiry, lists, sets,
/// hashes and sorted sets in 16 databases, with replies byte-identical to redis 7.0.15's (RESP2).
///
/// ```swift
/// let handler = RedisCommandHandler(keyspace: ShardedKeyspace())
/// let server = Server(configuration: configuration, handler: RESPStreamHandler(handler))
/// ```
///
/// Each loop runs its own copy; the copies share `keyspace` (see ``Keyspace`` for how, and pick
/// ``UnlockedKeyspace`` only for a single loop) and the client counters. Each copy also runs the active expiry
/// sweep on its loop (``ExpirySweep``), started when the loop's first connection opens.
///
/// Commands run to completion under their shard's lock and write their reply there, straight from the stored
/// bytes: a GET, an INCR or a SET over a value at least as large allocate nothing. Keys and values are copied
/// into the store (the request's bytes are only borrowed).
public struct RedisCommandHandler<Space: Keyspace>: RESPCommandHandler {
    public typealias ConnectionState = RedisClient

    /// The keys, shared by every loop.
    public let keyspace: Space
    /// Limits and what CONFIG GET reports.
    public let settings: RedisSettings
    let clients = ClientCounters()
    private var sweep: ExpirySweep<Space>?

    public init(keyspace: Space, settings: RedisSettings = RedisSettings()) {
        self.keyspace = keyspace
        self.settings = settings
    }

    public mutating func onOpen(connection: inout ConnectionContext) -> RedisClient {
        if sweep == nil { sweep = ExpirySweep(keyspace: keyspace, loop: connection.eventLoop) }
        let id = clients.lastID.add(1, ordering: .relaxed).newValue
        if clients.connected.add(1, ordering: .relaxed).newValue > settings.maxClients {
            connection.writeError("ERR max number of clients reached")
            connection.close()
        }
        return RedisClient(id: id)
    }

    public mutating func onClose(_ id: ConnectionID, state: RedisClient?, reason: CloseReason) {
        if state != nil { clients.connected.subtract(1, ordering: .relaxed) }
    }

    public mutating func onCommand(
        _ command: borrowing RESPCommand, state: inout RedisClient, connection: inout ConnectionContext
    ) {
        guard let name = command.name, let spec = RedisCommands.table[name] else {
            replyUnknownCommand(command, &connection)
            return
        }
        guard spec.accepts(command.count) else {
            connection.writeArityError(spec.name)
            return
        }
        let database = state.database
        switch spec.id {
        // Strings
        case .get: get(command, database, &connection)
        case .set: set(command, database, &connection)
        case .incr: increment(command, database, by: 1, &connection)
        case .decr: increment(command, database, by: -1, &connection)
        case .incrby: incrementBy(command, database, negated: false, &connection)
        case .decrby: incrementBy(command, database, negated: true, &connection)
        case .getset: getSet(command, database, &connection)
        case .getdel: getDelete(command, database, &connection)
        case .append: append(command, database, &connection)
        case .strlen: stringLength(command, database, &connection)
        case .setnx: setIfAbsent(command, database, &connection)
        case .mget: multipleGet(command, database, &connection)
        case .mset: multipleSet(command, database, &connection)
        // Keys
        case .del: countKeys(command, database, deleting: true, &connection)
        case .exists: countKeys(command, database, deleting: false, &connection)
        case .expire: expire(command, database, milliseconds: false, &connection)
        case .pexpire: expire(command, database, milliseconds: true, &connection)
        case .ttl: timeToLive(command, database, milliseconds: false, &connection)
        case .pttl: timeToLive(command, database, milliseconds: true, &connection)
        case .persist: persist(command, database, &connection)
        case .type: type(command, database, &connection)
        case .keys: keys(command, database, &connection)
        case .scan: scan(command, database, &connection)
        case .dbsize: databaseSize(database, &connection)
        case .flushdb: flush(command, databases: database..<(database + 1), &connection)
        case .flushall: flush(command, databases: 0..<KeyspaceShard.databaseCount, &connection)
        // Lists
        case .lpush: push(command, database, atFront: true, &connection)
        case .rpush: push(command, database, atFront: false, &connection)
        case .lpop: pop(command, database, fromFront: true, &connection)
        case .rpop: pop(command, database, fromFront: false, &connection)
        case .lrange: listRange(command, database, &connection)
        case .llen: listLength(command, database, &connection)
        case .lindex: listIndex(command, database, &connection)
        // Sets
        case .sadd: setAdd(command, database, &connection)
        case .srem: setRemove(command, database, &connection)
        case .scard: setCardinality(command, database, &connection)
        case .smembers: setMembers(command, database, &connection)
        case .sismember: setIsMember(command, database, &connection)
        case .spop: setPop(command, database, &connection)
        // Hashes
        case .hset: hashSet(command, database, replyOK: false, &connection)
        case .hmset: hashSet(command, database, replyOK: true, &connection)
        case .hget: hashGet(command, database, &connection)
        case .hgetall: hashGetAll(command, database, &connection)
        case .hdel: hashDelete(command, database, &connection)
        case .hlen: hashLength(command, database, &connection)
        case .hexists: hashExists(command, database, &connection)
        // Sorted sets
        case .zadd: sortedSetAdd(command, database, increment: false, &connection)
        case .zincrby: sortedSetAdd(command, database, increment: true, &connection)
        case .zrange: sortedSetRange(command, database, &connection)
        case .zscore: sortedSetScore(command, database, &connection)
        case .zcard: sortedSetCardinality(command, database, &connection)
        case .zpopmin: sortedSetPop(command, database, highest: false, &connection)
        case .zpopmax: sortedSetPop(command, database, highest: true, &connection)
        case .zrem: sortedSetRemove(command, database, &connection)
        // Connection and server
        case .ping: ping(command, &connection)
        case .echo: connection.writeBulkString(command[1])
        case .quit:
            connection.writeSimpleString("OK")
            connection.close()
        case .select: select(command, &state, &connection)
        case .hello: hello(command, &state, &connection)
        case .client: client(command, &state, &connection)
        case .command: commandCommand(command, &connection)
        case .config: config(command, &connection)
        case .securityWarning: connection.close()  // redis drops a client that speaks HTTP to it, silently
        }
    }

    // MARK: Reaching the keys

    /// Runs `body` with the database that holds key argument `index`, the key, and its hash there, the key's
    /// shard locked.
    @inline(__always)
    func withKey<Result>(
        _ command: borrowing RESPCommand, _ index: Int, _ database: Int,
        _ body: (Database, UnsafeRawBufferPointer, UInt64) -> Result
    ) -> Result {
        command.withArgument(index) { key in
            let hash = ByteHash.of(key)
            return keyspace.withShard(Space.shardIndex(hash)) { shard in
                body(shard.databases[database], key, Space.localHash(hash))
            }
        }
    }

    /// Runs `body` with the key at argument 1 (its database, bytes, hash and slot, the shard locked) and its value
    /// as `extract` gives it: nil if there is no key. If the key holds another type (`extract` gives nil),
    /// WRONGTYPE is the reply and `body` is not called.
    @inline(__always)
    func withValue<Value>(
        _ command: borrowing RESPCommand, _ database: Int, _ extract: (RedisValue) -> Value?,
        _ connection: inout ConnectionContext, _ body: (KeyAccess, Value?, inout ConnectionContext) -> Void
    ) {
        withKey(command, 1, database) { db, key, hash in
            var now = Now()
            let access = KeyAccess(db: db, key: key, hash: hash, slot: db.lookup(key, hash: hash, now: &now))
            guard let slot = access.slot else {
                body(access, nil, &connection)
                return
            }
            guard let value = extract(db[payloadAt: slot].value) else {
                connection.writeError(RedisError.wrongType)
                return
            }
            body(access, value, &connection)
        }
    }

    /// SREM, HDEL and ZREM: removes the members (fields) named from argument 2 on with `remove` (given each one's
    /// bytes and hash), deletes the key if that leaves `count` at 0, and replies with how many were removed.
    func removeMembers<Value>(
        _ command: borrowing RESPCommand, _ database: Int, _ extract: (RedisValue) -> Value?,
        _ connection: inout ConnectionContext, remove: (Value, UnsafeRawBufferPointer, UInt64) -> Bool,
        count: (Value) -> Int
    ) {
        withValue(command, database, extract, &connection) { key, value, connection in
            guard let value else {
                connection.writeInteger(0)
                return
            }
            var removed = 0
            for index in 2..<command.count {
                command.withArgument(index) { if remove(value, $0, ByteHash.of($0)) { removed += 1 } }
            }
            if count(value) == 0 { key.delete() }
            connection.writeInteger(removed)
        }
    }

    /// The optional count of LPOP, RPOP, SPOP and ZPOPMIN (argument 2; 1 without it), which must be a
    /// non-negative integer (redis's `getPositiveLongFromObjectOrReply`); nil after replying with the error.
    func popCount(_ command: borrowing RESPCommand, _ connection: inout ConnectionContext) -> Int? {
        guard command.count == 3 else { return 1 }
        guard let count = command.integer(at: 2), count >= 0 else {
            connection.writeError(RedisError.notPositive)
            return nil
        }
        return count
    }

    /// Runs `body` with the shards of key arguments `first`, `first + step`, … locked; `body` reaches each key
    /// with ``lockedKey(_:_:)``.
    func withKeys<Result>(
        _ command: borrowing RESPCommand, from first: Int, step: Int = 1, _ body: () -> Result
    ) -> Result {
        var shards: UInt64 = 0
        for index in stride(from: first, to: command.count, by: step) {
            shards |= 1 << UInt64(command.withArgument(index) { Space.shardIndex(ByteHash.of($0)) })
        }
        return keyspace.withShards(shards, body)
    }

    /// Inside ``withKeys(_:from:step:_:)``: the database holding `key` and its hash there.
    @inline(__always)
    func lockedKey(_ key: UnsafeRawBufferPointer, _ database: Int) -> (Database, UInt64) {
        let hash = ByteHash.of(key)
        return (keyspace.shard(Space.shardIndex(hash)).databases[database], Space.localHash(hash))
    }

    // MARK: Errors

    /// redis's unknown-command error (`commandCheckExistence`): the name and the first arguments, each cut at a
    /// NUL and to 128 bytes in all; or, for a command with subcommands, the unknown subcommand's error.
    func replyUnknownCommand(_ command: borrowing RESPCommand, _ connection: inout ConnectionContext) {
        var message: [UInt8]
        if command.count >= 2, let container = command.name, RedisCommands.containers.contains(container) {
            message = Array("ERR unknown subcommand '".utf8) + command.withArgument(1) { Self.cString($0, limit: 128) }
            message += Array("'. Try \(container) HELP.".utf8)
        } else {
            var arguments: [UInt8] = []
            var index = 1
            while index < command.count && arguments.count < 128 {
                let room = 128 - arguments.count
                arguments += [UInt8(ascii: "'")] + command.withArgument(index) { Self.cString($0, limit: room) }
                arguments += Array("' ".utf8)
                index += 1
            }
            message = Array("ERR unknown command '".utf8) + command.withArgument(0) { Self.cString($0, limit: 128) }
            message += Array("', with args beginning with: ".utf8) + arguments
        }
        connection.writeError(bytes: message)
    }

    /// `bytes` as C's `%.*s` prints them: up to the first NUL, at most `limit` bytes.
    static func cString(_ bytes: UnsafeRawBufferPointer, limit: Int) -> [UInt8] {
        Array(bytes.prefix { $0 != 0 }.prefix(limit))
    }
}

/// A key inside ``RedisCommandHandler/withValue(_:_:_:_:_:)``: where it is, with its shard locked.
struct KeyAccess {
    let db: Database
    let key: UnsafeRawBufferPointer
    let hash: UInt64
    /// The key's slot, nil if it does not exist.
    let slot: Int?

    /// Adds the key (absent) with `value`.
    func create(_ value: RedisValue) { db.add(key, hash: hash, value: value) }

    /// Deletes the key (present).
    func delete() { db.delete(at: slot!) }
}

extension RedisValue {
    static func asList(_ value: RedisValue) -> RedisList? { if case .list(let list) = value { list } else { nil } }
    static func asSet(_ value: RedisValue) -> RedisSet? { if case .set(let set) = value { set } else { nil } }
    static func asHash(_ value: RedisValue) -> OrderedByteMap<ByteString>? {
        if case .hash(let fields) = value { fields } else { nil }
    }
    static func asSortedSet(_ value: RedisValue) -> SortedSet? {
        if case .sortedSet(let sortedSet) = value { sortedSet } else { nil }
    }
}

extension ConnectionContext {
    /// `-message\r\n` for a message that quotes the client's bytes: `\r` and `\n` become spaces, as redis makes
    /// them (`addReplyErrorFormat`); other bytes are kept as they are.
    mutating func writeError(bytes message: [UInt8]) {
        var line = [UInt8(ascii: "-")] + message + [0x0D, 0x0A]
        for index in 1..<(line.count - 2) where line[index] == 0x0D || line[index] == 0x0A { line[index] = 0x20 }
        write(line)
    }

    /// `-ERR wrong number of arguments for 'name' command`.
    mutating func writeArityError(_ name: StaticString) {
        write("-ERR wrong number of arguments for '" as StaticString)
        write(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        write("' command\r\n" as StaticString)
    }

    /// `+OK`.
    @inline(__always)
    mutating func writeOK() { write("+OK\r\n" as StaticString) }

    /// `*0`.
    @inline(__always)
    mutating func writeEmptyArray() { write("*0\r\n" as StaticString) }

    /// A bulk string of a stored value.
    @inline(__always)
    mutating func writeBulkString(_ value: ByteString) {
        value.withBytes { writeBulkString($0) }
    }

    /// `*count` and `count` bulk strings, `element(index)` giving each one's bytes (valid until the call returns),
    /// formatted into as few reservations of at most ``replyBatchLimit`` bytes as they fit in (a longer element
    /// gets its own write): one call per batch instead of one per element.
    mutating func writeBulkArray(count: Int, _ element: (Int) -> UnsafeRawBufferPointer) {
        writeArrayHeader(count: count)
        var first = 0
        while first < count {
            var end = first
            var size = 0
            while end < count {
                let needed = element(end).count + 24  // `$`, up to 20 digits, two CRLFs
                if end > first && size + needed > Self.replyBatchLimit { break }
                size += needed
                end += 1
            }
            if end == first + 1 && size > Self.replyBatchLimit {
                writeBulkString(element(first))
            } else {
                write(reserving: size) { buffer in
                    var offset = 0
                    for index in first..<end {
                        let bytes = element(index)
                        let start = buffer.baseAddress! + offset
                        start.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
                        var length = 1 + Numbers.storeDecimal(bytes.count, at: start + 1)
                        (start + length).storeBytes(of: 0x0A0D, as: UInt16.self)
                        length += 2
                        if bytes.count > 0 {
                            (start + length).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                        }
                        length += bytes.count
                        (start + length).storeBytes(of: 0x0A0D, as: UInt16.self)
                        offset += length + 2
                    }
                    return offset
                }
            }
            first = end
        }
    }

    /// Bytes formatted per reservation by ``writeBulkArray(count:_:)``.
    static var replyBatchLimit: Int { 16 * 1024 }

    /// A score as redis 7.0 replies with it in RESP2: a bulk string of `%.17g`, `inf` or `-inf`.
    mutating func writeScore(_ score: Double) {
        Numbers.withScore(score) { writeBulkString($0) }
    }
}
