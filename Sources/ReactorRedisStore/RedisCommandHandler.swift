public import ReactorCore
public import ReactorRESP
import Synchronization

/// An in-memory Redis: the ``ReactorRESP/RESPCommandHandler`` that answers strings, keys with expiry, lists, sets,
/// hashes and sorted sets in 16 databases, with replies byte-identical to redis 7.0.15's, in RESP2 or (after
/// `HELLO 3`) RESP3.
///
/// ```swift
/// let handler = RedisCommandHandler(keyspace: ShardedKeyspace())
/// let server = Server(configuration: configuration, handler: RESPStreamHandler(handler))
/// ```
///
/// Each loop runs its own copy; the copies share `keyspace` (see ``Keyspace`` for how, and pick
/// ``UnlockedKeyspace`` only for a single loop) and the client counters. Each copy also runs the active expiry
/// sweep on its loop (see `ExpirySweep`), started when the loop's first connection opens.
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
    let clients: ClientCounters
    private var sweep: ExpirySweep<Space>?

    public init(keyspace: Space, settings: RedisSettings = RedisSettings()) {
        self.init(keyspace: keyspace, settings: settings, clients: ClientCounters())
    }

    /// A handler sharing `clients` with another (EXEC's, over the same keys).
    init(keyspace: Space, settings: RedisSettings, clients: ClientCounters) {
        self.keyspace = keyspace
        self.settings = settings
        self.clients = clients
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
            refuseInTransaction(&state)
            replyUnknownCommand(command, &connection)
            return
        }
        guard spec.accepts(command.count) else {
            refuseInTransaction(&state)
            if spec.id == .exec { return execRefused(&state, &connection) }
            connection.writeArityError(spec.name)
            return
        }
        if state.transaction != nil && !spec.runsInTransaction {
            queue(command, &state, &connection)
            return
        }
        execute(spec.id, command, &state, &connection)
    }

    /// Runs a command that passed the name and arity checks.
    @inline(__always)
    mutating func execute(
        _ id: CommandID, _ command: borrowing RESPCommand, _ state: inout RedisClient,
        _ connection: inout ConnectionContext
    ) {
        let session = Session(database: state.database, resp3: state.resp3)
        switch id {
        // Strings
        case .get: get(command, session, &connection)
        case .set: set(command, session, &connection)
        case .incr: increment(command, session, by: 1, &connection)
        case .decr: increment(command, session, by: -1, &connection)
        case .incrby: incrementBy(command, session, negated: false, &connection)
        case .decrby: incrementBy(command, session, negated: true, &connection)
        case .getset: getSet(command, session, &connection)
        case .getdel: getDelete(command, session, &connection)
        case .append: append(command, session, &connection)
        case .strlen: stringLength(command, session, &connection)
        case .setnx: setIfAbsent(command, session, &connection)
        case .mget: multipleGet(command, session, &connection)
        case .mset: multipleSet(command, session, &connection)
        // Keys
        case .del: countKeys(command, session, deleting: true, &connection)
        case .exists: countKeys(command, session, deleting: false, &connection)
        case .expire: expire(command, session, milliseconds: false, &connection)
        case .pexpire: expire(command, session, milliseconds: true, &connection)
        case .ttl: timeToLive(command, session, milliseconds: false, &connection)
        case .pttl: timeToLive(command, session, milliseconds: true, &connection)
        case .persist: persist(command, session, &connection)
        case .type: type(command, session, &connection)
        case .keys: keys(command, session, &connection)
        case .scan: scan(command, session, &connection)
        case .dbsize: databaseSize(state.database, &connection)
        case .flushdb: flush(command, databases: state.database..<(state.database + 1), &connection)
        case .flushall: flush(command, databases: 0..<KeyspaceShard.databaseCount, &connection)
        // Lists
        case .lpush: push(command, session, atFront: true, &connection)
        case .rpush: push(command, session, atFront: false, &connection)
        case .lpop: pop(command, session, fromFront: true, &connection)
        case .rpop: pop(command, session, fromFront: false, &connection)
        case .lrange: listRange(command, session, &connection)
        case .llen: listLength(command, session, &connection)
        case .lindex: listIndex(command, session, &connection)
        // Sets
        case .sadd: setAdd(command, session, &connection)
        case .srem: setRemove(command, session, &connection)
        case .scard: setCardinality(command, session, &connection)
        case .smembers: setMembers(command, session, &connection)
        case .sismember: setIsMember(command, session, &connection)
        case .spop: setPop(command, session, &connection)
        // Hashes
        case .hset: hashSet(command, session, replyOK: false, &connection)
        case .hmset: hashSet(command, session, replyOK: true, &connection)
        case .hget: hashGet(command, session, &connection)
        case .hgetall: hashGetAll(command, session, &connection)
        case .hdel: hashDelete(command, session, &connection)
        case .hlen: hashLength(command, session, &connection)
        case .hexists: hashExists(command, session, &connection)
        // Sorted sets
        case .zadd: sortedSetAdd(command, session, increment: false, &connection)
        case .zincrby: sortedSetAdd(command, session, increment: true, &connection)
        case .zrange: sortedSetRange(command, session, &connection)
        case .zscore: sortedSetScore(command, session, &connection)
        case .zcard: sortedSetCardinality(command, session, &connection)
        case .zpopmin: sortedSetPop(command, session, highest: false, &connection)
        case .zpopmax: sortedSetPop(command, session, highest: true, &connection)
        case .zrem: sortedSetRemove(command, session, &connection)
        // Connection and server
        case .ping: ping(command, &connection)
        case .echo: connection.writeBulkString(command[1])
        case .quit:
            connection.writeSimpleString("OK")
            connection.close()
        case .select: select(command, &state, &connection)
        case .hello: hello(command, &state, &connection)
        case .client: client(command, &state, &connection)
        case .command: commandCommand(command, session, &connection)
        case .config: config(command, session, &connection)
        case .securityWarning: connection.close()  // redis drops a client that speaks HTTP to it, silently
        // Transactions
        case .multi: multi(&state, &connection)
        case .exec: exec(&state, &connection)
        case .discard: discard(&state, &connection)
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

/// What a command needs to know of its connection: the selected database and the protocol replies are in.
struct Session {
    let database: Int
    /// RESP3 (after `HELLO 3`): nulls, maps, sets and doubles have their own types.
    let resp3: Bool
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

/// The aggregate types replies use: RESP2 sends all three as arrays.
enum Aggregate {
    case array, set, map
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

    /// The empty aggregate of `kind` (`*0`, and in RESP3 `~0` or `%0`).
    mutating func writeEmpty(_ kind: Aggregate, _ session: Session) {
        writeHeader(kind, count: 0, resp3: session.resp3)
    }

    /// A bulk string of a stored value.
    @inline(__always)
    mutating func writeBulkString(_ value: ByteString) {
        value.withBytes { writeBulkString($0) }
    }

    /// An aggregate's header: `*count`; in RESP3 a set is `~count` and a map `%pairs` (`count` counts keys and
    /// values), where RESP2 has a flat array for both.
    mutating func writeHeader(_ kind: Aggregate, count: Int, resp3: Bool) {
        let marker: UInt8
        switch kind {
        case .array: marker = UInt8(ascii: "*")
        case .set: marker = resp3 ? UInt8(ascii: "~") : UInt8(ascii: "*")
        case .map: marker = resp3 ? UInt8(ascii: "%") : UInt8(ascii: "*")
        }
        let shown = kind == .map && resp3 ? count / 2 : count
        write(reserving: 24) { buffer in
            buffer[0] = marker
            let length = 1 + RESPFormat.storeDecimal(shown, at: buffer.baseAddress! + 1)
            (buffer.baseAddress! + length).storeBytes(of: 0x0A0D, as: UInt16.self)
            return length + 2
        }
    }

    /// The null: `$-1` in RESP2 (`*-1` where an array was expected, `null array`), `_` in RESP3.
    mutating func writeNull(_ session: Session, array: Bool = false) {
        if session.resp3 {
            write("_\r\n" as StaticString)
        } else if array {
            writeNullArray()
        } else {
            writeNullBulkString()
        }
    }

    /// An aggregate of `count` bulk strings (see ``writeHeader(_:count:resp3:)``), `element(index)` giving each
    /// one's bytes (valid until the call returns), formatted into as few reservations of at most
    /// ``replyBatchLimit`` bytes as they fit in (a longer element gets its own write): one call per batch instead
    /// of one per element.
    mutating func writeBulkArray(
        count: Int, as kind: Aggregate = .array, resp3: Bool = false, _ element: (Int) -> UnsafeRawBufferPointer
    ) {
        writeHeader(kind, count: count, resp3: resp3)
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
                        var length = 1 + RESPFormat.storeDecimal(bytes.count, at: start + 1)
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

    /// A score as redis 7.0 replies with it: `%.17g`, `inf` or `-inf`, as a bulk string in RESP2 and a double
    /// (`,…`) in RESP3.
    mutating func writeScore(_ score: Double, _ session: Session) {
        Numbers.withScore(score) { text in
            if session.resp3 {
                write(reserving: text.count + 3) { buffer in
                    buffer[0] = UInt8(ascii: ",")
                    UnsafeMutableRawBufferPointer(rebasing: buffer[1...]).copyMemory(from: text)
                    (buffer.baseAddress! + 1 + text.count).storeBytes(of: 0x0A0D, as: UInt16.self)
                    return text.count + 3
                }
            } else {
                writeBulkString(text)
            }
        }
    }
}
