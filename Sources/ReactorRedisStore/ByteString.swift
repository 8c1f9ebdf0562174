#if canImport(Glibc)
    import Glibc
#endif

/// Bytes the store owns (a key, a string value, a list element, a member): one allocation, the bytes inline after
/// a small header, so the store holds one reference per value.
///
/// A string value belongs to exactly one key and is never handed out (replies are written while the shard is
/// locked), so a command may change its bytes in place: SET of a value that fits, INCR and APPEND reuse the
/// allocation. Keys and members are never changed once stored.
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
                $0.update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            }
        }
        return string
    }

    /// A copy of `bytes`.
    static func make(_ bytes: [UInt8]) -> ByteString {
        bytes.withUnsafeBytes { make($0) }
    }

    var count: Int { Int(header.count) }

    /// Calls `body` with the bytes; the pointer must not escape it.
    @inline(__always)
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let count = Int(header.count)
        return try withUnsafeMutablePointerToElements { try body(UnsafeRawBufferPointer(start: $0, count: count)) }
    }

    /// Whether the bytes equal `other`.
    @inline(__always)
    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        let count = Int(header.count)
        guard count == other.count else { return false }
        if count == 0 { return true }
        return withUnsafeMutablePointerToElements { memcmp($0, other.baseAddress!, count) == 0 }
    }

    /// Replaces the bytes with `bytes` in place; false (and unchanged) if they do not fit.
    @inline(__always)
    func overwrite(with bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= Int(header.capacity) else { return false }
        header.count = Int32(bytes.count)
        if bytes.count > 0 {
            withUnsafeMutablePointerToElements {
                UnsafeMutableRawPointer($0).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
        }
        return true
    }

    /// Appends `bytes` in place; false (and unchanged) if they do not fit.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = Int(header.count)
        guard count + bytes.count <= Int(header.capacity) else { return false }
        header.count = Int32(count + bytes.count)
        if bytes.count > 0 {
            withUnsafeMutablePointerToElements {
                UnsafeMutableRawPointer($0 + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
        }
        return true
    }

    /// The bytes as an array (for replies built after the shard is unlocked: SCAN, KEYS).
    var array: [UInt8] { withBytes { Array($0) } }

    /// Orders by bytes (`memcmp`, a prefix first), as redis compares members (`sdscmp`).
    func compare(_ other: ByteString) -> Int {
        withBytes { mine in other.withBytes { Self.compare(mine, $0) } }
    }

    /// `memcmp` order of two byte strings, a prefix before its extensions: negative, zero or positive.
    static func compare(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Int {
        let common = min(left.count, right.count)
        if common > 0 {
            let order = memcmp(left.baseAddress!, right.baseAddress!, common)
            if order != 0 { return Int(order) }
        }
        return left.count - right.count
    }
}
