#if canImport(Glibc)
    import Glibc
#endif

/// Whether `a` and `b` hold the same bytes, compared with `memcmp`.
///
/// The targets compare large payloads this way rather than element by element in Swift: the fuzzer build traces
/// every comparison in Swift code (`-sanitize=fuzzer`), which makes a byte loop over tens of KiB cost more than the
/// code under test.
public func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0, let left = a.baseAddress, let right = b.baseAddress else { return true }
    return memcmp(left, right, a.count) == 0
}

/// Whether `a` and `b` hold the same bytes (``sameBytes(_:_:)`` on their storage).
public func sameBytes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    a.withUnsafeBytes { a in b.withUnsafeBytes { b in sameBytes(a, b) } }
}
