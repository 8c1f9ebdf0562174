/// A connection's unconsumed input between two handler calls: at most one pooled chunk holding the bytes the
/// handler left, always starting at the chunk's first byte, plus what the handler asked for next.
///
/// Most reads never touch it: the loop reads into its shared read buffer and the handler consumes everything there.
/// Only a tail the handler left is copied here, once. A large remainder (more than half the read buffer kept, or
/// an ``InboundBytes/expect(atLeast:)`` that far ahead) is read straight into the chunk, sized once for what is
/// expected, so a big message is not copied piece by piece. An empty buffer holds no chunk: idle connections cost
/// nothing here. Loop thread only.
struct InboundBuffer {
    private(set) var chunk: UnsafeMutableRawPointer?
    private var sizeClass = 0
    private(set) var capacity = 0
    /// Unconsumed bytes, at `chunk[0..<count]`.
    var count = 0
    /// The handler's last ``InboundBytes/expect(atLeast:)`` (0: call it with any bytes).
    var expected = 0
    /// Bytes still to drop from the stream before the handler sees any (``InboundBytes/skip(_:)``).
    var skipping = 0

    /// Whether the next read should go straight into the chunk rather than through the loop's read buffer.
    @inline(__always)
    func readsDirectly(readBufferSize: Int) -> Bool {
        count > readBufferSize / 2 || expected - count >= readBufferSize / 2
    }

    /// Makes room to read into the chunk: at least what is expected, and at least 4 KiB or the bytes kept so far
    /// (doubling). Never grows past the class holding `limit`; returns false when `count` already reached `limit`.
    @inline(__always)
    mutating func makeRoom(limit: Int, pool: SlabPool) -> Bool {
        if count >= limit { return false }
        if capacity - count >= 4096 && capacity >= expected { return true }
        var wanted = max(expected, count * 2, count + 4096)
        wanted = min(wanted, limit, pool.largestChunkSize)
        if wanted <= capacity { return capacity > count }
        resize(to: wanted, pool: pool)
        return true
    }

    /// Stores the `byteCount` bytes at `source` (a tail the handler left in the read buffer) as the whole content,
    /// in a chunk sized for them and for what is expected (capped at `limit`).
    @inline(__always)
    mutating func keep(_ source: UnsafeRawPointer, count byteCount: Int, limit: Int, pool: SlabPool) {
        let wanted = min(max(byteCount, min(expected, limit)), pool.largestChunkSize)
        if chunk == nil || capacity < byteCount || capacity > 4 * max(wanted, 4096) {
            release(pool: pool)
            let newClass = pool.sizeClass(for: max(byteCount, wanted))
            chunk = pool.get(sizeClass: newClass)
            sizeClass = newClass
            capacity = pool.chunkSize(ofClass: newClass)
        }
        chunk.unsafelyUnwrapped.copyMemory(from: source, byteCount: byteCount)
        count = byteCount
    }

    /// Drops the first `consumed` bytes, moving the rest to the front; gives the chunk back once empty.
    @inline(__always)
    mutating func removeFirst(_ consumed: Int, pool: SlabPool) {
        if consumed == 0 { return }
        let remaining = count - consumed
        if remaining == 0 {
            release(pool: pool)
            return
        }
        let base = chunk.unsafelyUnwrapped
        base.copyMemory(from: base + consumed, byteCount: remaining)
        count = remaining
    }

    /// Returns the chunk to `pool` (its bytes are dropped).
    @inline(__always)
    mutating func release(pool: SlabPool) {
        count = 0
        guard let current = chunk else { return }
        pool.put(current, sizeClass: sizeClass)
        chunk = nil
        capacity = 0
    }

    /// Forgets everything: the chunk goes back, expectations and skips are dropped (the connection is closing).
    mutating func reset(pool: SlabPool) {
        release(pool: pool)
        expected = 0
        skipping = 0
    }

    private mutating func resize(to byteCount: Int, pool: SlabPool) {
        let newClass = pool.sizeClass(for: byteCount)
        let newChunk = pool.get(sizeClass: newClass)
        if let old = chunk {
            newChunk.copyMemory(from: old, byteCount: count)
            pool.put(old, sizeClass: sizeClass)
        }
        chunk = newChunk
        sizeClass = newClass
        capacity = pool.chunkSize(ofClass: newClass)
    }
}
