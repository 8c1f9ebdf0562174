#if canImport(Glibc)
    import Glibc
#endif

/// What a key holds.
enum RedisValue {
    case string(ByteString)
    case list(RedisList)
    case hash(OrderedByteMap<ByteString>)
    case set(RedisSet)
    case sortedSet(SortedSet)

    /// TYPE's answer.
    var typeName: StaticString {
        switch self {
        case .string: "string"
        case .list: "list"
        case .hash: "hash"
        case .set: "set"
        case .sortedSet: "zset"
        }
    }
}

/// A set value: its members in insertion order, and whether redis 7.0 would still keep it as an intset (every
/// member an integer, at most 512 of them), in which case SMEMBERS answers in numeric order as redis does.
final class RedisSet {
    static let maxIntsetEntries = 512

    let members = OrderedByteMap<Void>()
    private(set) var isIntset = true

    /// Adds `member`; true if it was new.
    func add(_ member: UnsafeRawBufferPointer, hash: UInt64) -> Bool {
        guard members.set(member, hash: hash, value: ()) else { return false }
        if isIntset && (Numbers.integer(member) == nil || members.count > Self.maxIntsetEntries) { isIntset = false }
        return true
    }
}

/// A key's value and its expiry.
struct KeyEntry {
    var value: RedisValue
    /// Unix time in milliseconds after which the key is gone; 0 for none.
    var expiresAt: Int64
}

/// The current Unix time in milliseconds, read from the clock at most once per command and only if an expiry is
/// looked at.
struct Now {
    private var cached: Int64 = 0

    init() {}

    var milliseconds: Int64 {
        mutating get {
            if cached == 0 { cached = Self.read() }
            return cached
        }
    }

    static func read() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// One database (SELECT's number) of one keyspace shard: keys to values, with lazy expiry on access.
final class Database: ByteTable<KeyEntry> {
    /// Keys with an expiry.
    private(set) var volatileCount = 0
    /// Where the active expiry sweep continues.
    var sweepPosition = 0

    /// The slot of `key` if it exists and has not expired; an expired key is deleted on the way (redis's
    /// `expireIfNeeded`: a key is gone once the time is past its expiry).
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, hash: UInt64, now: inout Now) -> Int? {
        guard let slot = find(key, hash: hash) else { return nil }
        let expiresAt = self[payloadAt: slot].expiresAt
        if expiresAt != 0 && now.milliseconds > expiresAt {
            delete(at: slot)
            return nil
        }
        return slot
    }

    /// Whether the entry in `slot` has expired (without deleting it: for KEYS and SCAN, which only skip it).
    func isExpired(_ slot: Int, now: inout Now) -> Bool {
        let expiresAt = self[payloadAt: slot].expiresAt
        return expiresAt != 0 && now.milliseconds > expiresAt
    }

    /// Adds `key` (absent) with `value`; returns its slot.
    @discardableResult
    func add(_ key: UnsafeRawBufferPointer, hash: UInt64, value: RedisValue, expiresAt: Int64 = 0) -> Int {
        if expiresAt != 0 { volatileCount += 1 }
        return insert(ByteString.make(key), hash: hash, payload: KeyEntry(value: value, expiresAt: expiresAt))
    }

    /// Deletes the key in `slot`.
    func delete(at slot: Int) {
        deleteKeepingSize(at: slot)
        shrinkIfSparse()
    }

    /// Deletes the key in `slot` without shrinking the table (slot numbers stay valid for a walk).
    func deleteKeepingSize(at slot: Int) {
        if self[payloadAt: slot].expiresAt != 0 { volatileCount -= 1 }
        remove(at: slot)
    }

    /// Sets or clears (0) the expiry of the key in `slot`.
    func setExpiry(at slot: Int, _ expiresAt: Int64) {
        let had = self[payloadAt: slot].expiresAt != 0
        if had != (expiresAt != 0) { volatileCount += had ? -1 : 1 }
        self[payloadAt: slot].expiresAt = expiresAt
    }

    /// Removes every key.
    func flush() {
        removeAll()
        volatileCount = 0
        sweepPosition = 0
    }

    /// Looks at up to `limit` slots from where the last sweep stopped and deletes the keys that expired; returns
    /// (slots looked at, keys deleted).
    func sweep(limit: Int, now: inout Now) -> (examined: Int, expired: Int) {
        guard volatileCount > 0, capacity > 0 else { return (0, 0) }
        var position = sweepPosition < capacity ? sweepPosition : 0
        var examined = 0
        var expired = 0
        while examined < limit && volatileCount > 0 {
            if isOccupied(position) && isExpired(position, now: &now) {
                // The next entry may move into this slot: look at it again.
                deleteKeepingSize(at: position)
                expired += 1
            } else {
                position += 1
                if position == capacity { position = 0 }
            }
            examined += 1
        }
        sweepPosition = position
        shrinkIfSparse()
        return (examined, expired)
    }
}
