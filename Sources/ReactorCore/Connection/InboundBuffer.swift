/// A connection's unconsumed input between two handler calls: at most one pooled chunk holding the bytes the
/// handler left, always starting at the chunk's ``data`` offset, plus what the handler asked for next.
///
/// Most reads never touch it: the loop reads into its shared read buffer and the handler consumes everything there.
/// Only a tail the handler left is copied here, once. A large remainder (more than half the read buffer kept, or
/// an ``InboundBytes/expect(atLeast:)`` that far ahead) is read straight into the chunk, so a big message is not
/// copied through the read buffer. The chunk grows with the bytes that arrive, a size class at a time (doubling,
/// so a message is copied about once in all), never ahead of them to what the handler expects: a peer that declares
/// a large message and sends a few bytes of it holds a few KiB, not the message's size. An empty buffer holds no
/// chunk: idle connections cost nothing here. Loop thread only.
///
/// Every chunk keeps ``OutboundBuffer/headerSize`` bytes free at its start, so that a large message received into it
/// can be written back by reference: the chunk is handed to the outbound queue whole (``handOff()``), sent with
/// `writev` from where it was read, and returned to the pool once written.
struct InboundBuffer {
    /// Bytes reserved at the start of each chunk for the outbound queue's header.
    static let reserved = OutboundBuffer.headerSize

    private(set) var chunk: UnsafeMutableRawPointer?
    private(set) var sizeClass = 0
    /// Bytes the chunk can hold after the reserved header.
    private(set) var capacity = 0
    /// Unconsumed bytes, at `data[0..<count]`.
    var count = 0
    /// How many of them the handler has been shown (the next call's ``InboundBytes/newBytesOffset``): all of them
    /// after a call, fewer when reads were withheld from it because it expected more.
    var seen = 0
    /// The handler's last ``InboundBytes/expect(atLeast:)`` (0: call it with any bytes).
    var expected = 0
    /// Bytes still to drop from the stream before the handler sees any (``InboundBytes/skip(_:)``).
    var skipping = 0
    /// The chunk was handed to the outbound queue during the current handler call: its bytes are still readable
    /// until the next flush, but it is no longer this buffer's to write into or to give back.
    private(set) var handedOff = false
    /// Set by ``handOff()``; cleared by the read path before each read (did the last read's message go out by
    /// reference?).
    var handedOffSinceRead = false
    /// The size of the large messages this connection has been echoing by reference (0: none lately). While set,
    /// a read with nothing kept goes straight into a chunk of that size instead of the loop's read buffer, so the
    /// next such message is not copied at all: read into the chunk, written from it.
    var predictedMessage = 0

    /// Where the bytes start.
    @inline(__always)
    var data: UnsafeMutableRawPointer { chunk.unsafelyUnwrapped + Self.reserved }

    /// Whether the next read should go straight into the chunk rather than through the loop's read buffer.
    @inline(__always)
    func readsDirectly(readBufferSize: Int) -> Bool {
        count > readBufferSize / 2 || expected - count >= readBufferSize / 2
    }

    /// True when `pointer ..< pointer + byteCount` lies in this buffer's bytes, fills at least half the chunk, and
    /// the chunk can be handed off. (The queue counts only the referenced bytes against the watermarks and the hard
    /// cap, so the rule bounds what a handed-off chunk pins to twice what is counted.)
    @inline(__always)
    func canHandOff(_ pointer: UnsafeRawPointer, count byteCount: Int) -> Bool {
        guard let chunk, !handedOff, byteCount * 2 >= capacity else { return false }
        let start = UnsafeRawPointer(chunk) + Self.reserved
        return pointer >= start && pointer + byteCount <= start + count
    }

    /// Gives the chunk to the caller (the outbound queue). Its bytes stay readable until the queue writes them;
    /// whatever the handler leaves unconsumed is copied to a new chunk after the call.
    @inline(__always)
    mutating func handOff() -> (chunk: UnsafeMutableRawPointer, sizeClass: Int) {
        handedOff = true
        handedOffSinceRead = true
        predictedMessage = count
        return (chunk.unsafelyUnwrapped, sizeClass)
    }

    /// Makes room to read into the chunk: at least 4 KiB free and a capacity of at least `minimum` (a predicted
    /// message, whose size earlier messages showed). When it grows, it grows to twice the bytes kept (or by 4 KiB),
    /// but not past what is expected: memory follows the bytes that arrived, not a length a peer declared. Never
    /// grows past the class holding `limit`; returns false when `count` already reached `limit`.
    @inline(__always)
    mutating func makeRoom(limit: Int, pool: SlabPool, atLeast minimum: Int = 0) -> Bool {
        if count >= limit { return false }
        if capacity - count >= 4096 && capacity >= minimum { return true }
        var wanted = max(min(expected, count * 2), count + 4096, minimum)
        wanted = min(wanted, limit, pool.largestChunkSize - Self.reserved)
        if wanted <= capacity { return capacity > count }
        resize(to: wanted, pool: pool)
        return true
    }

    /// Stores the `byteCount` bytes at `source` (a tail the handler left in the read buffer, or in a chunk it
    /// handed off) as the whole content, in a chunk with room for as many again if more are expected (capped at
    /// `limit`): like ``makeRoom(limit:pool:atLeast:)``, it does not size the chunk for a declared length.
    @inline(__always)
    mutating func keep(_ source: UnsafeRawPointer, count byteCount: Int, limit: Int, pool: SlabPool) {
        forgetHandedOff()
        let wanted = min(max(byteCount, min(expected, limit, byteCount * 2)), pool.largestChunkSize - Self.reserved)
        if chunk == nil || capacity < byteCount || capacity > 4 * max(wanted, 4096) {
            release(pool: pool)
            let newClass = pool.sizeClass(for: max(byteCount, wanted) + Self.reserved)
            chunk = pool.get(sizeClass: newClass)
            sizeClass = newClass
            capacity = pool.chunkSize(ofClass: newClass) - Self.reserved
        }
        data.copyMemory(from: source, byteCount: byteCount)
        count = byteCount
    }

    /// Drops the first `consumed` bytes, moving the rest to the front; gives the chunk back once empty.
    @inline(__always)
    mutating func removeFirst(_ consumed: Int, pool: SlabPool) {
        if handedOff {
            // The rest still sits in the handed-off chunk: copy it out before the queue sends and frees it.
            let remaining = count - consumed
            if remaining == 0 {
                forgetHandedOff()
                count = 0
            } else {
                keep(data + consumed, count: remaining, limit: .max, pool: pool)
            }
            return
        }
        if consumed == 0 { return }
        let remaining = count - consumed
        if remaining == 0 {
            release(pool: pool)
            return
        }
        data.copyMemory(from: data + consumed, byteCount: remaining)
        count = remaining
    }

    /// Returns the chunk to `pool` (its bytes are dropped); a handed-off chunk is only forgotten.
    @inline(__always)
    mutating func release(pool: SlabPool) {
        count = 0
        seen = 0
        forgetHandedOff()
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

    @inline(__always)
    private mutating func forgetHandedOff() {
        guard handedOff else { return }
        handedOff = false
        chunk = nil
        capacity = 0
    }

    private mutating func resize(to byteCount: Int, pool: SlabPool) {
        let newClass = pool.sizeClass(for: byteCount + Self.reserved)
        let newChunk = pool.get(sizeClass: newClass)
        if chunk != nil {
            (newChunk + Self.reserved).copyMemory(from: data, byteCount: count)
            pool.put(chunk.unsafelyUnwrapped, sizeClass: sizeClass)
        }
        chunk = newChunk
        sizeClass = newClass
        capacity = pool.chunkSize(ofClass: newClass) - Self.reserved
    }
}
