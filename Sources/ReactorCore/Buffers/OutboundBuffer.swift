#if canImport(Glibc)
    import Glibc
#endif

/// A connection's unsent bytes: a singly linked chain of pooled chunks, written by ``append(_:count:pool:)`` and
/// drained by ``gather(into:maximum:)`` + ``consume(_:pool:)`` around one `writev`.
///
/// Each chunk starts with an 8-byte link to the next chunk; data follows at ``headerSize``. Only the head chunk has a
/// read offset and only the tail chunk a write offset: every chunk in between is full. An empty buffer holds no
/// chunk at all, which is what keeps idle connections cheap.
struct OutboundBuffer {
    /// Bytes at the start of every chunk that hold the link to the next one.
    static let headerSize = 16

    private var head: UnsafeMutableRawPointer?
    private var tail: UnsafeMutableRawPointer?
    private var headOffset = 0
    private var tailOffset = 0
    /// Bytes queued and not yet written.
    private(set) var pendingBytes = 0

    var isEmpty: Bool { pendingBytes == 0 }

    /// Copies `count` bytes at `source` to the end of the buffer, taking chunks of class `sizeClass` from `pool`.
    @inline(__always)
    mutating func append(
        _ source: UnsafeRawPointer, count: Int, pool: SlabPool, sizeClass: Int, chunkSize: Int
    ) {
        var source = source
        var remaining = count
        while remaining > 0 {
            if tail == nil || tailOffset == chunkSize {
                let chunk = pool.get(sizeClass: sizeClass)
                chunk.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
                if let last = tail {
                    last.storeBytes(of: chunk, as: UnsafeMutableRawPointer?.self)
                } else {
                    head = chunk
                    headOffset = Self.headerSize
                }
                tail = chunk
                tailOffset = Self.headerSize
            }
            let room = min(chunkSize - tailOffset, remaining)
            (tail! + tailOffset).copyMemory(from: source, byteCount: room)
            tailOffset += room
            source += room
            remaining -= room
        }
        pendingBytes += count
    }

    /// Appends a frame: the 4-byte big-endian `count`, then `count` bytes at `payload`. When the tail chunk has room
    /// for both (the common case for small replies) this is one bounds check and two stores.
    @inline(__always)
    mutating func appendFrame(
        payload: UnsafeRawPointer?, count: Int, pool: SlabPool, sizeClass: Int, chunkSize: Int
    ) {
        let header = UInt32(truncatingIfNeeded: count).bigEndian
        if let tail, chunkSize - tailOffset >= 4 + count {
            (tail + tailOffset).storeBytes(of: header, as: UInt32.self)
            if let payload, count > 0 { (tail + tailOffset + 4).copyMemory(from: payload, byteCount: count) }
            tailOffset += 4 + count
            pendingBytes += 4 + count
            return
        }
        withUnsafeBytes(of: header) { header in
            append(header.baseAddress!, count: 4, pool: pool, sizeClass: sizeClass, chunkSize: chunkSize)
        }
        if let payload, count > 0 {
            append(payload, count: count, pool: pool, sizeClass: sizeClass, chunkSize: chunkSize)
        }
    }

    /// Fills `vectors` with up to `maximum` iovecs covering the queued bytes (at most `Int32.max` in total) and
    /// returns how many it wrote and how many bytes they cover.
    @inline(__always)
    func gather(into vectors: UnsafeMutablePointer<iovec>, maximum: Int, chunkSize: Int) -> (count: Int, bytes: Int) {
        var count = 0
        var total = 0
        var chunk = head
        while let current = chunk, count < maximum {
            let start = current == head ? headOffset : Self.headerSize
            let end = current == tail ? tailOffset : chunkSize
            let length = end - start
            if total + length > Int(Int32.max) { break }
            vectors[count] = iovec(iov_base: current + start, iov_len: length)
            total += length
            count += 1
            chunk = current.load(as: UnsafeMutableRawPointer?.self)
        }
        return (count, total)
    }

    /// Drops the first `byteCount` queued bytes (they were written), returning emptied chunks to `pool`.
    @inline(__always)
    mutating func consume(_ byteCount: Int, pool: SlabPool, sizeClass: Int, chunkSize: Int) {
        var remaining = byteCount
        pendingBytes -= byteCount
        while remaining > 0, let current = head {
            let end = current == tail ? tailOffset : chunkSize
            let available = end - headOffset
            if remaining < available {
                headOffset += remaining
                return
            }
            remaining -= available
            let next = current.load(as: UnsafeMutableRawPointer?.self)
            pool.put(current, sizeClass: sizeClass)
            head = next
            headOffset = Self.headerSize
            if next == nil { tail = nil }
        }
        if pendingBytes == 0, let current = head {
            // Everything written and the last chunk is exhausted: give it back so an idle connection holds nothing.
            pool.put(current, sizeClass: sizeClass)
            head = nil
            tail = nil
        }
    }

    /// Returns every chunk to `pool`, discarding unsent bytes.
    mutating func discard(pool: SlabPool, sizeClass: Int) {
        var chunk = head
        while let current = chunk {
            chunk = current.load(as: UnsafeMutableRawPointer?.self)
            pool.put(current, sizeClass: sizeClass)
        }
        head = nil
        tail = nil
        pendingBytes = 0
    }
}
