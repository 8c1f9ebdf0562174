#if canImport(Glibc)
    import Glibc
#endif

/// A connection's unsent bytes: a singly linked chain of pooled chunks, written by ``append(_:count:pool:sizeClass:chunkSize:)``
/// (copies) and ``appendReference(_:sizeClass:from:to:)`` (a chunk that already holds the bytes, handed over
/// whole: a large received message echoed without a copy), drained by ``gather(into:maximum:)`` +
/// ``consume(_:pool:)`` around one `writev`.
///
/// Every chunk starts with a ``headerSize``-byte header: the link to the next chunk, the chunk's size class (so it
/// goes back to the right pool class), and the offsets where its bytes start and end. Copied bytes are only ever
/// appended to a tail chunk of the queue's own class; a referenced chunk is never written into. An empty buffer
/// holds no chunk at all, which is what keeps idle connections cheap.
struct OutboundBuffer {
    /// Bytes at the start of every chunk that hold its header.
    static let headerSize = 32

    private var head: UnsafeMutableRawPointer?
    private var tail: UnsafeMutableRawPointer?
    /// Bytes queued and not yet written.
    private(set) var pendingBytes = 0

    var isEmpty: Bool { pendingBytes == 0 }

    // MARK: Chunk headers

    @inline(__always) private static func next(_ chunk: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        chunk.load(as: UnsafeMutableRawPointer?.self)
    }
    @inline(__always) private static func setNext(_ chunk: UnsafeMutableRawPointer, _ next: UnsafeMutableRawPointer?) {
        chunk.storeBytes(of: next, as: UnsafeMutableRawPointer?.self)
    }
    /// Set in a referenced chunk's class word: the chunk is someone else's memory (bytes after its end may be
    /// unconsumed input), never appended into.
    private static let referencedBit = 1 << 62

    @inline(__always) private static func sizeClass(_ chunk: UnsafeMutableRawPointer) -> Int {
        chunk.load(fromByteOffset: 8, as: Int.self) & ~referencedBit
    }
    /// The class word as stored: equal to a size class only for a chunk of the queue's own that can take more bytes.
    @inline(__always) private static func classWord(_ chunk: UnsafeMutableRawPointer) -> Int {
        chunk.load(fromByteOffset: 8, as: Int.self)
    }
    @inline(__always) private static func start(_ chunk: UnsafeMutableRawPointer) -> Int {
        chunk.load(fromByteOffset: 16, as: Int.self)
    }
    @inline(__always) private static func setStart(_ chunk: UnsafeMutableRawPointer, _ offset: Int) {
        chunk.storeBytes(of: offset, toByteOffset: 16, as: Int.self)
    }
    @inline(__always) private static func end(_ chunk: UnsafeMutableRawPointer) -> Int {
        chunk.load(fromByteOffset: 24, as: Int.self)
    }
    @inline(__always) private static func setEnd(_ chunk: UnsafeMutableRawPointer, _ offset: Int) {
        chunk.storeBytes(of: offset, toByteOffset: 24, as: Int.self)
    }

    /// Links `chunk` (header filled in) at the end of the chain.
    @inline(__always)
    private mutating func link(_ chunk: UnsafeMutableRawPointer) {
        Self.setNext(chunk, nil)
        if let last = tail {
            Self.setNext(last, chunk)
        } else {
            head = chunk
        }
        tail = chunk
    }

    // MARK: Writing

    /// Copies `count` bytes at `source` to the end of the buffer, taking chunks of class `sizeClass` from `pool`.
    @inline(__always)
    mutating func append(
        _ source: UnsafeRawPointer, count: Int, pool: SlabPool, sizeClass: Int, chunkSize: Int
    ) {
        var source = source
        var remaining = count
        while remaining > 0 {
            var last = tail
            if last == nil || Self.classWord(last!) != sizeClass || Self.end(last!) == chunkSize {
                let chunk = pool.get(sizeClass: sizeClass)
                chunk.storeBytes(of: sizeClass, toByteOffset: 8, as: Int.self)
                Self.setStart(chunk, Self.headerSize)
                Self.setEnd(chunk, Self.headerSize)
                link(chunk)
                last = chunk
            }
            let chunk = last.unsafelyUnwrapped
            let end = Self.end(chunk)
            let room = min(chunkSize - end, remaining)
            (chunk + end).copyMemory(from: source, byteCount: room)
            Self.setEnd(chunk, end + room)
            source += room
            remaining -= room
        }
        pendingBytes += count
    }

    /// Queues the bytes `chunk[from..<to]` of a pooled chunk of class `sizeClass` without copying them: the chunk
    /// joins the chain (its first ``headerSize`` bytes are overwritten with the header, so `from` must be at least
    /// that) and goes back to the pool once written.
    mutating func appendReference(_ chunk: UnsafeMutableRawPointer, sizeClass: Int, from: Int, to: Int) {
        precondition(from >= Self.headerSize && to >= from, "a referenced chunk needs room for the header")
        chunk.storeBytes(of: sizeClass | Self.referencedBit, toByteOffset: 8, as: Int.self)
        Self.setStart(chunk, from)
        Self.setEnd(chunk, to)
        link(chunk)
        pendingBytes += to - from
    }

    // MARK: Draining

    /// Fills `vectors` with up to `maximum` iovecs covering the queued bytes (at most `Int32.max` in total) and
    /// returns how many it wrote and how many bytes they cover.
    @inline(__always)
    func gather(into vectors: UnsafeMutablePointer<iovec>, maximum: Int) -> (count: Int, bytes: Int) {
        var count = 0
        var total = 0
        var chunk = head
        while let current = chunk, count < maximum {
            let start = Self.start(current)
            let length = Self.end(current) - start
            if total + length > Int(Int32.max) { break }
            if length > 0 {
                vectors[count] = iovec(iov_base: current + start, iov_len: length)
                total += length
                count += 1
            }
            chunk = Self.next(current)
        }
        return (count, total)
    }

    /// Drops the first `byteCount` queued bytes (they were written), returning emptied chunks to `pool`.
    @inline(__always)
    mutating func consume(_ byteCount: Int, pool: SlabPool) {
        var remaining = byteCount
        pendingBytes -= byteCount
        while let current = head {
            let start = Self.start(current)
            let available = Self.end(current) - start
            if remaining < available {
                Self.setStart(current, start + remaining)
                return
            }
            remaining -= available
            // Everything in this chunk is written. Keep an exhausted tail of our own class for the next append only
            // while bytes are pending elsewhere (never: it is the tail); give every chunk back.
            let next = Self.next(current)
            pool.put(current, sizeClass: Self.sizeClass(current))
            head = next
            if next == nil {
                tail = nil
                return
            }
        }
    }

    /// Returns every chunk to `pool`, discarding unsent bytes.
    mutating func discard(pool: SlabPool) {
        var chunk = head
        while let current = chunk {
            chunk = Self.next(current)
            pool.put(current, sizeClass: Self.sizeClass(current))
        }
        head = nil
        tail = nil
        pendingBytes = 0
    }
}
