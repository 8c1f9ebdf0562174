/// Byte-string keys to values, iterated in insertion order: a hash's fields (HGETALL answers in the order the
/// fields were first set, as redis 7.0 does for the small hashes it keeps as a listpack) and a set's members.
///
/// The entries sit in an array in insertion order; a ``ByteTable`` maps each key to its position. A removal leaves
/// a hole that later compaction closes, so a position is stable until then.
final class OrderedByteMap<Value> {
    struct Entry {
        let key: ByteString
        var value: Value
    }

    private let positions = ByteTable<Int>()
    private var entries: [Entry?] = []
    private var holes = 0

    var count: Int { positions.count }

    /// The position of `key`, or nil.
    @inline(__always)
    func position(of key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        positions.find(key, hash: hash).map { positions[payloadAt: $0] }
    }

    /// The entry at a position `position(of:hash:)` returned, or that ``forEach(_:)`` is visiting.
    subscript(position: Int) -> Entry {
        _read { yield entries[position].unsafelyUnwrapped }
    }

    /// Sets the value of `key`: replaced in place if present (the order stays), appended if not. True if added.
    @discardableResult
    func set(_ key: UnsafeRawBufferPointer, hash: UInt64, value: Value) -> Bool {
        if let slot = positions.find(key, hash: hash) {
            entries[positions[payloadAt: slot]]!.value = value
            return false
        }
        let stored = ByteString.make(key)
        positions.insert(stored, hash: hash, payload: entries.count)
        entries.append(Entry(key: stored, value: value))
        return true
    }

    /// Removes `key`; true if it was there.
    @discardableResult
    func remove(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Bool {
        guard let slot = positions.find(key, hash: hash) else { return false }
        removeEntry(slot: slot)
        return true
    }

    /// Removes the entry at `position` (which holds an entry) and returns it.
    @discardableResult
    func remove(at position: Int) -> Entry {
        let entry = entries[position].unsafelyUnwrapped
        let found = entry.key.withBytes { positions.find($0, hash: ByteHash.of($0)) }
        removeEntry(slot: found!)
        return entry
    }

    /// Every entry, in insertion order.
    var inOrder: LazyMapSequence<LazyFilterSequence<LazySequence<[Entry?]>.Elements>, Entry> {
        entries.lazy.filter { $0 != nil }.map { $0.unsafelyUnwrapped }
    }

    /// A position holding an entry, chosen uniformly at random. Needs `count > 0`.
    func randomPosition() -> Int {
        while true {
            let position = Int.random(in: 0..<entries.count)
            if entries[position] != nil { return position }
        }
    }

    private func removeEntry(slot: Int) {
        let position = positions.remove(at: slot).payload
        positions.shrinkIfSparse()
        entries[position] = nil
        holes += 1
        if positions.count == 0 {
            entries.removeAll()
            holes = 0
        } else if holes > 16 && holes > positions.count {
            compact()
        }
    }

    /// Closes the holes, renumbering the positions.
    private func compact() {
        entries.removeAll { $0 == nil }
        holes = 0
        for (position, entry) in entries.enumerated() {
            let slot = entry!.key.withBytes { positions.find($0, hash: ByteHash.of($0)) }!
            positions[payloadAt: slot] = position
        }
    }
}
