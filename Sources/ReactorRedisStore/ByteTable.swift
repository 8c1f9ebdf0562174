/// The hash of a key or member: SipHash (Swift's `Hasher`, seeded at random per process, so a peer cannot choose
/// colliding keys), never 0 (0 marks an empty slot in a ``ByteTable``).
enum ByteHash {
    @inline(__always)
    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return UInt64(UInt(bitPattern: hasher.finalize())) | 1
    }
}

/// An open-addressing hash table from byte strings to `Payload`, probed with borrowed bytes: a lookup hashes the
/// request's argument in place and compares bytes, so it allocates nothing.
///
/// Linear probing, with a key's home slot taken from the **top** bits of its hash: slots are then in hash order,
/// which a resize keeps, so a scan cursor that is a position in hash space stays valid across resizes (SCAN's
/// guarantee, without redis's reverse-binary cursor). Deletion shifts the following entries back (no tombstones).
/// Load stays at most 3/4; a table that empties to under 1/8 shrinks. A slot keeps the top 32 bits of its key's hash
/// (enough for its home, and to skip nearly every other key without comparing bytes): 4 bytes a slot less than the
/// whole hash.
///
/// Not thread-safe: a keyspace shard's lock, or a value's key, guards it. A subclass adds per-table state (see
/// ``Database``); every member is `final`.
class ByteTable<Payload> {
    struct Slot {
        let key: ByteString
        var payload: Payload
    }

    /// Entries.
    final private(set) var count = 0
    /// Slots: 0 or a power of two.
    final private(set) var capacity = 0
    /// `64 - log2(capacity)`: a hash shifted right by this is its home slot.
    final private(set) var homeShift = 64
    /// A slot's stored hash (``stored(_:)``), or 0 if the slot is empty.
    private final var hashes: UnsafeMutablePointer<UInt32>?
    private final var slots: UnsafeMutablePointer<Slot>?

    init() {}

    deinit {
        releaseStorage()
    }

    // MARK: Lookup

    /// The slot holding `key` (whose hash is `hash`), or nil.
    @inline(__always)
    final func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        guard count > 0, let hashes, let slots else { return nil }
        let mask = capacity - 1
        let wanted = Self.stored(hash)
        var index = home(ofStored: wanted)
        while true {
            let stored = hashes[index]
            if stored == 0 { return nil }
            if stored == wanted && slots[index].key.equals(key) { return index }
            index = (index + 1) & mask
        }
    }

    /// The key in occupied slot `index`.
    @inline(__always)
    final func key(at index: Int) -> ByteString { slots.unsafelyUnwrapped[index].key }

    /// The hash of occupied slot `index`, as far as the slot keeps it (its top 32 bits): enough to find the key
    /// again here or in another table of the same hashes.
    @inline(__always)
    final func hash(at index: Int) -> UInt64 { UInt64(hashes.unsafelyUnwrapped[index]) << 32 }

    /// Whether slot `index` is occupied.
    @inline(__always)
    final func isOccupied(_ index: Int) -> Bool { hashes.unsafelyUnwrapped[index] != 0 }

    /// The payload in occupied slot `index`, read or changed in place.
    final subscript(payloadAt index: Int) -> Payload {
        @inline(__always) _read { yield slots.unsafelyUnwrapped[index].payload }
        @inline(__always) _modify { yield &slots.unsafelyUnwrapped[index].payload }
    }

    /// The home slot of `hash` (its top bits).
    @inline(__always)
    final func home(of hash: UInt64) -> Int { home(ofStored: Self.stored(hash)) }

    /// The home slot of a stored hash.
    @inline(__always)
    private final func home(ofStored stored: UInt32) -> Int {
        Int(truncatingIfNeeded: (UInt64(stored) << 32) &>> UInt64(homeShift))
    }

    /// What a slot keeps of `hash`: its top 32 bits, never 0 (the lowest of them set; a home never reaches that bit
    /// below 2^31 slots).
    @inline(__always)
    static func stored(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash &>> 32) | 1 }

    // MARK: Changes

    /// Adds `key`, which must not be in the table; returns its slot (valid until the next insertion or removal).
    @discardableResult
    final func insert(_ key: ByteString, hash: UInt64, payload: Payload) -> Int {
        precondition(hash != 0)
        if (count + 1) * 4 > capacity * 3 { resize(to: max(8, capacity * 2)) }
        let hashes = hashes.unsafelyUnwrapped
        let mask = capacity - 1
        let stored = Self.stored(hash)
        var index = home(ofStored: stored)
        while hashes[index] != 0 { index = (index + 1) & mask }
        hashes[index] = stored
        (slots.unsafelyUnwrapped + index).initialize(to: Slot(key: key, payload: payload))
        count += 1
        return index
    }

    /// Removes the entry in occupied slot `index` and returns it. Entries after it may move back into the freed
    /// slot, so a walk over the slots looks at `index` again. The table never shrinks here (see
    /// ``shrinkIfSparse()``), so slot numbers stay meaningful.
    @discardableResult
    final func remove(at index: Int) -> Slot {
        let hashes = hashes.unsafelyUnwrapped
        let slots = slots.unsafelyUnwrapped
        let removed = (slots + index).move()
        hashes[index] = 0
        count -= 1
        let mask = capacity - 1
        var hole = index
        var next = (index + 1) & mask
        while hashes[next] != 0 {
            // The entry at `next` may fill the hole unless its home lies cyclically after the hole.
            let home = home(ofStored: hashes[next])
            if (next &- home) & mask >= (next &- hole) & mask {
                hashes[hole] = hashes[next]
                (slots + hole).moveInitialize(from: slots + next, count: 1)
                hashes[next] = 0
                hole = next
            }
            next = (next + 1) & mask
        }
        return removed
    }

    /// Shrinks the table if it is under 1/8 full (after removals).
    final func shrinkIfSparse() {
        guard capacity > 8 && count * 8 < capacity else { return }
        var target = 8
        while target * 3 < count * 8 { target *= 2 }
        resize(to: target)
    }

    /// Removes every entry and gives the slots back.
    final func removeAll() {
        releaseStorage()
        count = 0
        capacity = 0
        homeShift = 64
    }

    // MARK: Walks

    /// The first occupied slot at or after `index`, or nil.
    final func nextOccupied(from index: Int) -> Int? {
        guard let hashes else { return nil }
        var index = index
        while index < capacity {
            if hashes[index] != 0 { return index }
            index += 1
        }
        return nil
    }

    /// Calls `body` with the slot of every entry whose home slot is in `homes` (a range of slot numbers), in slot
    /// order: the entries of that stretch of hash space. `body` must not change the table.
    final func forEachSlot(homedIn homes: Range<Int>, _ body: (Int) -> Void) {
        guard count > 0, let hashes else { return }
        let mask = capacity - 1
        // An entry sits at its home or after it (cyclically), before the next empty slot: walk from the first home
        // past the last one until a slot is empty.
        var position = homes.lowerBound
        while position - homes.lowerBound < capacity {
            let index = position & mask
            let stored = hashes[index]
            if stored == 0 {
                if position >= homes.upperBound { break }
            } else if homes.contains(home(ofStored: stored)) {
                body(index)
            }
            position += 1
        }
    }

    // MARK: Storage

    private final func resize(to newCapacity: Int) {
        let oldHashes = hashes
        let oldSlots = slots
        let oldCapacity = capacity
        let newHashes = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        newHashes.initialize(repeating: 0, count: newCapacity)
        let newSlots = UnsafeMutablePointer<Slot>.allocate(capacity: newCapacity)
        hashes = newHashes
        slots = newSlots
        capacity = newCapacity
        homeShift = 64 - newCapacity.trailingZeroBitCount
        guard let oldHashes, let oldSlots else { return }
        let mask = newCapacity - 1
        for old in 0..<oldCapacity where oldHashes[old] != 0 {
            let stored = oldHashes[old]
            var index = home(ofStored: stored)
            while newHashes[index] != 0 { index = (index + 1) & mask }
            newHashes[index] = stored
            (newSlots + index).moveInitialize(from: oldSlots + old, count: 1)
        }
        oldHashes.deallocate()
        oldSlots.deallocate()
    }

    private final func releaseStorage() {
        guard let hashes, let slots else { return }
        for index in 0..<capacity where hashes[index] != 0 { (slots + index).deinitialize(count: 1) }
        hashes.deallocate()
        slots.deallocate()
        self.hashes = nil
        self.slots = nil
    }
}
