#if canImport(Glibc)
    import Glibc
#endif

/// Bytes the store owns (a key, a string value, a list element, a member): one allocation, the bytes inline after
/// a small header, so the store holds one reference per value.
///
/// A string value belongs to exactly one key and is never handed out (replies are written while the shard is
/// locked), so a command may change its bytes in place: SET of a value that fits, INCR and APPEND reuse the
/// allocation. Keys and members are never changed once stored.
///
/// The header is reached through its pointer, not the `header` property, whose every access the runtime would
/// check for exclusivity.
final class ByteString: ManagedBuffer<ByteString.Header, UInt8> {
    struct Header {
        var count: Int32
        var capacity: Int32
    }

    /// A copy of `bytes`, with room for at least `capacity` bytes.
    static func make(_ bytes: UnsafeRawBufferPointer, capacity: Int = 0) -> ByteString {
        let room = max(bytes.count, capacity)
        let object = create(minimumCapacity: room) { _ in Header(count: Int32(bytes.count), capacity: Int32(room)) }
        let string = unsafeDowncast(object, to: ByteString.self)
        if bytes.count > 0 {
            string.withUnsafeMutablePointerToElements {
                UnsafeMutableRawPointer($0).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
        }
        return string
    }

    /// A copy of `bytes`.
    static func make(_ bytes: [UInt8]) -> ByteString {
        bytes.withUnsafeBytes { make($0) }
    }

    var count: Int { withUnsafeMutablePointerToHeader { Int($0.pointee.count) } }

    /// The bytes, in place: valid while the string is alive and unchanged (the elements of a `ManagedBuffer` stay
    /// where they were allocated). For replies written while the shard is locked.
    var bytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            withUnsafeMutablePointers { header, elements in
                UnsafeRawBufferPointer(start: elements, count: Int(header.pointee.count))
            }
        }
    }

    /// Calls `body` with the bytes; the pointer must not escape it.
    @inline(__always)
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(bytes)
    }

    /// Whether the bytes equal `other`.
    @inline(__always)
    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        let mine = bytes
        guard mine.count == other.count else { return false }
        return mine.count == 0 || memcmp(mine.baseAddress!, other.baseAddress!, mine.count) == 0
    }

    /// Replaces the bytes with `other` in place; false (and unchanged) if they do not fit, or if they would leave
    /// more than half of the room (and over 64 bytes) unused.
    @inline(__always)
    func overwrite(with other: UnsafeRawBufferPointer) -> Bool {
        withUnsafeMutablePointers { header, elements in
            // Room for it, and not much more: a large value overwritten by a small one goes, with its memory (a
            // SET of a few bytes over a 100 MB value must not keep the 100 MB).
            let capacity = Int(header.pointee.capacity)
            guard other.count <= capacity, capacity <= 2 * other.count + 64 else { return false }
            header.pointee.count = Int32(other.count)
            if other.count > 0 {
                UnsafeMutableRawPointer(elements).copyMemory(from: other.baseAddress!, byteCount: other.count)
            }
            return true
        }
    }

    /// Appends `other` in place; false (and unchanged) if it does not fit.
    func append(_ other: UnsafeRawBufferPointer) -> Bool {
        withUnsafeMutablePointers { header, elements in
            let count = Int(header.pointee.count)
            guard count + other.count <= Int(header.pointee.capacity) else { return false }
            header.pointee.count = Int32(count + other.count)
            if other.count > 0 {
                UnsafeMutableRawPointer(elements + count).copyMemory(from: other.baseAddress!, byteCount: other.count)
            }
            return true
        }
    }

    /// `memcmp` order of two byte strings, a prefix before its extensions: negative, zero or positive (redis's
    /// `sdscmp`, which orders sorted-set members).
    static func compare(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Int {
        let common = min(left.count, right.count)
        if common > 0 {
            let order = memcmp(left.baseAddress!, right.baseAddress!, common)
            if order != 0 { return Int(order) }
        }
        return left.count - right.count
    }
}
