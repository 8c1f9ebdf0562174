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

/// A key's value (its expiry, if any, is in ``Database/expiries``).
struct KeyEntry {
    var value: RedisValue
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
///
/// Expiry times live in a second table, ``expiries``, keyed by the same key objects and hashes (redis's `expires`
/// dict): a key without one costs nothing there (16 bytes a key less than an expiry in every slot: 1,000,000 keys
/// took 178 bytes each with it), and a lookup looks there only while some key of the database has one.
final class Database: ByteTable<KeyEntry> {
    /// Unix time in milliseconds after which each key that has one is gone.
    let expiries = ByteTable<Int64>()
    /// Where the active expiry sweep continues (a slot of ``expiries``).
    var sweepPosition = 0

    /// Keys with an expiry.
    var volatileCount: Int { expiries.count }

    /// The slot of `key` if it exists and has not expired; an expired key is deleted on the way (redis's
    /// `expireIfNeeded`: a key is gone once the time is past its expiry).
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, hash: UInt64, now: inout Now) -> Int? {
        guard let slot = find(key, hash: hash) else { return nil }
        if expiries.count > 0, let entry = expiries.find(key, hash: hash),
            now.milliseconds > expiries[payloadAt: entry]
        {
            delete(at: slot)
            return nil
        }
        return slot
    }

    /// The expiry of the key in `slot` (Unix milliseconds), or 0 for none.
    @inline(__always)
    func expiry(at slot: Int) -> Int64 {
        guard let entry = expiryEntry(at: slot) else { return 0 }
        return expiries[payloadAt: entry]
    }

    /// The slot in ``expiries`` of the key in `slot`, if it has an expiry.
    @inline(__always)
    private func expiryEntry(at slot: Int) -> Int? {
        guard expiries.count > 0 else { return nil }
        return expiries.find(key(at: slot).bytes, hash: hash(at: slot))
    }

    /// Whether the entry in `slot` has expired (without deleting it: for KEYS and SCAN, which only skip it).
    func isExpired(_ slot: Int, now: inout Now) -> Bool {
        let expiresAt = expiry(at: slot)
        return expiresAt != 0 && now.milliseconds > expiresAt
    }

    /// Adds `key` (absent) with `value` and, unless 0, an expiry; returns its slot.
    @discardableResult
    func add(_ key: UnsafeRawBufferPointer, hash: UInt64, value: RedisValue, expiresAt: Int64 = 0) -> Int {
        let stored = ByteString.make(key)
        if expiresAt != 0 { expiries.insert(stored, hash: hash, payload: expiresAt) }
        return insert(stored, hash: hash, payload: KeyEntry(value: value))
    }

    /// Deletes the key in `slot`.
    func delete(at slot: Int) {
        deleteKeepingSize(at: slot)
        shrinkIfSparse()
        expiries.shrinkIfSparse()
    }

    /// Deletes the key in `slot` without shrinking the tables (slot numbers stay valid for a walk).
    func deleteKeepingSize(at slot: Int) {
        if let entry = expiryEntry(at: slot) { expiries.remove(at: entry) }
        remove(at: slot)
    }

    /// Sets or clears (0) the expiry of the key in `slot`.
    @inline(__always)
    func setExpiry(at slot: Int, _ expiresAt: Int64) {
        if expiresAt == 0 && expiries.count == 0 { return }  // SET of a key in a database without expiries
        if let entry = expiryEntry(at: slot) {
            if expiresAt == 0 {
                expiries.remove(at: entry)
                expiries.shrinkIfSparse()
            } else {
                expiries[payloadAt: entry] = expiresAt
            }
        } else if expiresAt != 0 {
            expiries.insert(key(at: slot), hash: hash(at: slot), payload: expiresAt)
        }
    }

    /// Removes every key.
    func flush() {
        removeAll()
        expiries.removeAll()
        sweepPosition = 0
    }

    /// Looks at up to `limit` slots of ``expiries`` from where the last sweep stopped and deletes the keys that
    /// expired; returns (slots looked at, keys deleted).
    func sweep(limit: Int, now: inout Now) -> (examined: Int, expired: Int) {
        guard expiries.count > 0 else { return (0, 0) }
        var position = sweepPosition < expiries.capacity ? sweepPosition : 0
        var examined = 0
        var expired = 0
        while examined < limit && expiries.count > 0 {
            if expiries.isOccupied(position) && now.milliseconds > expiries[payloadAt: position] {
                // Deleting the key removes this entry; the next one may move into its slot: look at it again.
                let key = expiries.key(at: position)
                if let slot = find(key.bytes, hash: expiries.hash(at: position)) {
                    deleteKeepingSize(at: slot)
                } else {
                    expiries.remove(at: position)  // an expiry without its key (never expected): drop it, not trap
                }
                expired += 1
            } else {
                position += 1
                if position == expiries.capacity { position = 0 }
            }
            examined += 1
        }
        sweepPosition = position
        shrinkIfSparse()
        expiries.shrinkIfSparse()
        return (examined, expired)
    }
}
