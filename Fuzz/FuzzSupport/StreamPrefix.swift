#if canImport(Glibc)
    import Glibc
#endif

extension UnsafeRawBufferPointer {
    /// True when the first `count` bytes are exactly `bytes`.
    public func prefix(_ count: Int, equals bytes: [UInt8]) -> Bool {
        bytes.count == count && prefix(count, startsWith: bytes)
    }

    /// True when `bytes` is a prefix (possibly empty, possibly all) of the first `count` bytes.
    public func prefix(_ count: Int, startsWith bytes: [UInt8]) -> Bool {
        precondition(count <= self.count, "prefix longer than the buffer")
        guard bytes.count <= count else { return false }
        guard !bytes.isEmpty else { return true }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress!, baseAddress!, $0.count) == 0 }
    }
}
