import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A lock-free, process-wide view of which connection currently holds each descriptor, for threads other than the
/// owning loop.
///
/// One word per descriptor: `generation << 32 | notWritable << 31 | (loop + 1)` while a connection is open on it,
/// 0 otherwise. Only the owning loop writes a slot (release, after the connection is registered; when its
/// writability changes; when it closes); any thread reads it (acquire) to tell whether a ``ConnectionID`` still
/// names an open connection, and whether it is writable, without posting to the loop.
/// Sized once from `RLIMIT_NOFILE`; descriptors beyond it are simply not tracked (lookups say "unknown").
final class ConnectionRegistry: @unchecked Sendable {
    // Invariant: `slots` holds `capacity` initialised atomics for the registry's whole life; never reallocated.
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    let capacity: Int

    init(capacity: Int = ConnectionRegistry.descriptorLimit) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        for index in 0..<capacity { (slots + index).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// The process's soft descriptor limit (what `accept` can ever return, plus one).
    static var descriptorLimit: Int {
        var limit = rlimit()
        guard getrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1 << 40 else {
            return 65536
        }
        return Int(min(limit.rlim_cur, 1 << 20))
    }

    /// Owning loop: `id` is open.
    @inline(__always)
    func publishOpen(_ id: ConnectionID) {
        let fd = Int(id.fd)
        guard fd < capacity else { return }
        slots[fd].store(UInt64(id.generation) << 32 | UInt64(id.loop + 1), ordering: .releasing)
    }

    /// Owning loop: `id` closed.
    @inline(__always)
    func publishClosed(_ id: ConnectionID) {
        let fd = Int(id.fd)
        guard fd < capacity else { return }
        slots[fd].store(0, ordering: .releasing)
    }

    /// Owning loop: `id`'s writability changed (unsent bytes crossed a watermark).
    @inline(__always)
    func publishWritability(_ id: ConnectionID, isWritable: Bool) {
        let fd = Int(id.fd)
        guard fd < capacity else { return }
        let open = UInt64(id.generation) << 32 | UInt64(id.loop + 1)
        slots[fd].store(isWritable ? open : open | Self.notWritableBit, ordering: .releasing)
    }

    private static let notWritableBit: UInt64 = 1 << 31

    /// Any thread: true if `id` is open, false if it closed, nil if its descriptor is beyond the tracked range.
    func isOpen(_ id: ConnectionID) -> Bool? {
        let fd = Int(id.fd)
        guard fd >= 0, fd < capacity else { return nil }
        return slots[fd].load(ordering: .acquiring) & ~Self.notWritableBit == UInt64(id.generation) << 32
            | UInt64(id.loop + 1)
    }

    /// Any thread: true if `id` is open and below its high watermark, false if it closed or is above it, nil if
    /// its descriptor is beyond the tracked range.
    func isWritable(_ id: ConnectionID) -> Bool? {
        let fd = Int(id.fd)
        guard fd >= 0, fd < capacity else { return nil }
        return slots[fd].load(ordering: .acquiring) == UInt64(id.generation) << 32 | UInt64(id.loop + 1)
    }
}
