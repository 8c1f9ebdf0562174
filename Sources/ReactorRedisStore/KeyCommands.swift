import ReactorCore
import ReactorRESP

/// Commands on keys whatever they hold: DEL, EXISTS, the expiry commands, TYPE, KEYS, SCAN, DBSIZE, FLUSHDB and
/// FLUSHALL (redis's `src/db.c` and `src/expire.c`).
extension RedisCommandHandler {
    /// DEL (`deleting`) and EXISTS: how many of the keys exist (EXISTS counts a key named twice twice; DEL can
    /// delete it once). Every key's shard is locked for the whole command.
    func countKeys(
        _ command: borrowing RESPCommand, _ session: Session, deleting: Bool, _ connection: inout ConnectionContext
    ) {
        let found = withKeys(command, from: 1) {
            var now = Now()
            var found = 0
            for index in 1..<command.count {
                command.withArgument(index) { key in
                    let (db, hash) = lockedKey(key, session.database)
                    guard let slot = db.lookup(key, hash: hash, now: &now) else { return }
                    if deleting { db.delete(at: slot) }
                    found += 1
                }
            }
            return found
        }
        connection.writeInteger(found)
    }

    /// EXPIRE and PEXPIRE, with NX, XX, GT and LT (`expireGenericCommand`): a time not in the future deletes the
    /// key (and counts as set).
    func expire(
        _ command: borrowing RESPCommand, _ session: Session, milliseconds: Bool, _ connection: inout ConnectionContext
    ) {
        var ifNone = false
        var ifSome = false
        var ifGreater = false
        var ifLess = false
        for index in 3..<command.count {
            if command.argument(index, equalsIgnoringCase: "NX") {
                ifNone = true
            } else if command.argument(index, equalsIgnoringCase: "XX") {
                ifSome = true
            } else if command.argument(index, equalsIgnoringCase: "GT") {
                ifGreater = true
            } else if command.argument(index, equalsIgnoringCase: "LT") {
                ifLess = true
            } else {
                let option = command.withArgument(index) { Self.cString($0, limit: .max) }
                connection.writeError(bytes: Array("ERR Unsupported option ".utf8) + option)
                return
            }
        }
        if ifNone && (ifSome || ifGreater || ifLess) {
            connection.writeError("ERR NX and XX, GT or LT options at the same time are not compatible")
            return
        }
        if ifGreater && ifLess {
            connection.writeError("ERR GT and LT options at the same time are not compatible")
            return
        }
        guard var when = command.integer(at: 2) else {
            connection.writeError(RedisError.notInteger)
            return
        }
        var now = Now()
        let base = Int(now.milliseconds)
        let scaled = milliseconds || (when <= Int.max / 1000 && when >= Int.min / 1000)
        if scaled && !milliseconds { when *= 1000 }
        guard scaled && when <= Int.max - base else {
            connection.writeError(
                milliseconds
                    ? "ERR invalid expire time in 'pexpire' command" : "ERR invalid expire time in 'expire' command")
            return
        }
        when += base
        let reply = withKey(command, 1, session.database) { db, key, hash -> Int in
            guard let slot = db.lookup(key, hash: hash, now: &now) else { return 0 }
            let current = db.expiry(at: slot)  // 0: none, which GT takes as infinite
            if (ifNone && current != 0) || (ifSome && current == 0) || (ifGreater && (current == 0 || when <= current))
                || (ifLess && current != 0 && when >= current)
            {
                return 0
            }
            if when <= base {
                db.delete(at: slot)
            } else {
                db.setExpiry(at: slot, Int64(when))
            }
            return 1
        }
        connection.writeInteger(reply)
    }

    /// TTL and PTTL: -2 for no key, -1 for no expiry; TTL rounds to the nearest second.
    func timeToLive(
        _ command: borrowing RESPCommand, _ session: Session, milliseconds: Bool, _ connection: inout ConnectionContext
    ) {
        let reply = withKey(command, 1, session.database) { db, key, hash -> Int in
            var now = Now()
            guard let slot = db.lookup(key, hash: hash, now: &now) else { return -2 }
            let expiresAt = db.expiry(at: slot)
            if expiresAt == 0 { return -1 }
            let left = Int(max(0, expiresAt - now.milliseconds))
            return milliseconds ? left : (left + 500) / 1000
        }
        connection.writeInteger(reply)
    }

    func persist(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        let reply = withKey(command, 1, session.database) { db, key, hash -> Int in
            var now = Now()
            guard let slot = db.lookup(key, hash: hash, now: &now), db.expiry(at: slot) != 0 else { return 0 }
            db.setExpiry(at: slot, 0)
            return 1
        }
        connection.writeInteger(reply)
    }

    func type(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        let name = withKey(command, 1, session.database) { db, key, hash -> StaticString in
            var now = Now()
            guard let slot = db.lookup(key, hash: hash, now: &now) else { return "none" }
            return db[payloadAt: slot].value.typeName
        }
        connection.writeSimpleString(name)
    }

    /// KEYS: every key matching the glob, in hash order; expired keys are skipped (not deleted), as redis does.
    func keys(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        let found = command.withArgument(1) { pattern -> [ByteString] in
            let everything = pattern.count == 1 && pattern[0] == UInt8(ascii: "*")
            let glob = GlobPattern(pattern: pattern)
            return keyspace.withShards(Space.allShards) {
                var now = Now()
                var found: [ByteString] = []
                for shard in 0..<Space.shardCount {
                    let db = keyspace.shard(shard).databases[session.database]
                    var slot = db.nextOccupied(from: 0)
                    while let current = slot {
                        let key = db.key(at: current)
                        if (everything || key.withBytes(glob.matches)) && !db.isExpired(current, now: &now) {
                            found.append(key)
                        }
                        slot = db.nextOccupied(from: current + 1)
                    }
                }
                return found
            }
        }
        // Keys never change once stored, so they can be written after the shards are unlocked.
        connection.writeBulkArray(count: found.count) { found[$0].bytes }
    }

    /// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] (`scanGenericCommand`).
    ///
    /// The cursor is a position in the keyspace's hash order (the shard in its top bits, then the slot's hash
    /// bits), which no resize reorders: a key present for the whole iteration is returned at least once.
    func scan(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        guard let cursor = command.withArgument(1, Numbers.cursor) else {
            connection.writeError("ERR invalid cursor")
            return
        }
        var count = 10
        var patternIndex: Int?
        var typeIndex: Int?
        var index = 2
        while index < command.count {
            let hasValue = command.count - index >= 2
            if command.argument(index, equalsIgnoringCase: "COUNT") && hasValue {
                guard let given = command.integer(at: index + 1) else {
                    connection.writeError(RedisError.notInteger)
                    return
                }
                guard given >= 1 else {
                    connection.writeError(RedisError.syntax)
                    return
                }
                count = given
            } else if command.argument(index, equalsIgnoringCase: "MATCH") && hasValue {
                let isEverything = command.withArgument(index + 1) { $0.count == 1 && $0[0] == UInt8(ascii: "*") }
                patternIndex = isEverything ? nil : index + 1
            } else if command.argument(index, equalsIgnoringCase: "TYPE") && hasValue {
                typeIndex = index + 1
            } else {
                connection.writeError(RedisError.syntax)
                return
            }
            index += 2
        }
        var found: [ByteString] = []
        var walk = ScanWalk(cursor: cursor, budget: count > Int.max / 10 ? Int.max : count * 10, wanted: count)
        while !walk.isFinished {
            let shard = walk.shard(shardBits: Space.shardBits)
            keyspace.withShard(shard) { shard in
                var now = Now()
                walk.step(shard.databases[session.database], shardBits: Space.shardBits) { db, slot in
                    guard !db.isExpired(slot, now: &now) else { return }
                    let key = db.key(at: slot)
                    if let typeIndex {
                        let type = db[payloadAt: slot].value.typeName
                        let wanted = command.withArgument(typeIndex) {
                            Self.equalIgnoringCase(
                                $0, UnsafeRawBufferPointer(start: type.utf8Start, count: type.utf8CodeUnitCount))
                        }
                        if !wanted { return }
                    }
                    if let patternIndex {
                        let matches = command.withArgument(patternIndex) { pattern in
                            key.withBytes(GlobPattern(pattern: pattern).matches)
                        }
                        if !matches { return }
                    }
                    found.append(key)
                }
            }
        }
        connection.writeArrayHeader(count: 2)
        Array(String(walk.cursor).utf8).withUnsafeBytes { connection.writeBulkString($0) }
        connection.writeBulkArray(count: found.count) { found[$0].bytes }
    }

    /// Whether two byte strings are equal ignoring ASCII case (C's `strcasecmp` on names).
    static func equalIgnoringCase(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        guard left.count == right.count else { return false }
        func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }
        for index in 0..<left.count where lower(left[index]) != lower(right[index]) { return false }
        return true
    }

    func databaseSize(_ database: Int, _ connection: inout ConnectionContext) {
        let size = keyspace.withShards(Space.allShards) {
            (0..<Space.shardCount).reduce(0) { $0 + keyspace.shard($1).databases[database].count }
        }
        connection.writeInteger(size)
    }

    /// FLUSHDB and FLUSHALL, with an optional SYNC or ASYNC (both run at once here).
    func flush(_ command: borrowing RESPCommand, databases: Range<Int>, _ connection: inout ConnectionContext) {
        guard
            command.count == 1
                || command.count == 2
                    && (command.argument(1, equalsIgnoringCase: "SYNC")
                        || command.argument(1, equalsIgnoringCase: "ASYNC"))
        else {
            connection.writeError(RedisError.syntax)
            return
        }
        keyspace.withShards(Space.allShards) {
            for shard in 0..<Space.shardCount {
                for database in databases { keyspace.shard(shard).databases[database].flush() }
            }
        }
        connection.writeOK()
    }
}

/// SCAN's walk over the keyspace in hash order, from a cursor, a stretch of slots at a time, until it has visited
/// `wanted` keys or `budget` slots (redis's COUNT and its ten-times-COUNT bucket limit), or reached the end.
struct ScanWalk {
    /// Where the next call continues (0 once the walk is complete).
    private(set) var cursor: UInt64
    private var budget: Int
    private let wanted: Int
    private var visited = 0
    private(set) var isFinished = false

    init(cursor: UInt64, budget: Int, wanted: Int) {
        self.cursor = cursor
        self.budget = budget
        self.wanted = wanted
    }

    /// The shard the cursor is in.
    func shard(shardBits: Int) -> Int { Int(truncatingIfNeeded: cursor >> UInt64(64 - shardBits)) }

    /// Visits slots of `db` (the cursor's shard's database) from the cursor, calling `visit` with each occupied
    /// one, and moves the cursor past them.
    mutating func step(_ db: Database, shardBits: Int, _ visit: (Database, Int) -> Void) {
        let shard = UInt64(self.shard(shardBits: shardBits))
        let local = cursor << UInt64(shardBits)
        var first = db.count == 0 ? db.capacity : db.home(of: local)
        while first < db.capacity && visited < wanted && budget > 0 {
            // As a distance first: `first + budget` overflows for a COUNT near Int.max (found by RedisCommandFuzzer).
            let last = first + min(db.capacity - first, max(1, min(budget, wanted - visited)))
            db.forEachSlot(homedIn: first..<last) { slot in
                visited += 1
                visit(db, slot)
            }
            budget -= last - first
            first = last
        }
        if first < db.capacity {
            let position = UInt64(first) << UInt64(db.homeShift)
            cursor = shardBits == 0 ? position : (shard << UInt64(64 - shardBits)) | (position >> UInt64(shardBits))
            isFinished = true
        } else if shard + 1 < UInt64(1) << UInt64(shardBits) {
            cursor = (shard + 1) << UInt64(64 - shardBits)
            isFinished = visited >= wanted || budget <= 0
        } else {
            cursor = 0
            isFinished = true
        }
    }
}
