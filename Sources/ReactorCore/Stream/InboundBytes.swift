/// A connection's unconsumed input during one ``StreamHandler/onRead(_:state:connection:)`` call: a borrowed,
/// contiguous view plus the handler's answer (how much it consumed, how much it needs next).
///
/// Lifetime: the view points into the loop's read buffer or the connection's pooled chunk, which are reused as
/// soon as the call returns. The type is `~Copyable` and handed out `inout` with no public initialiser, so it cannot
/// be kept; ``bytes`` is a `RawSpan` borrowed from it (`~Escapable`: the compiler rejects storing it, returning it
/// or using it after the next ``consume(_:)``), and ``withUnsafeBytes(_:)``'s pointer must not escape its closure.
/// Copy what you need to keep.
public struct InboundBytes: ~Copyable {
    @usableFromInline let base: UnsafeRawPointer
    /// Bytes in the view when the call started.
    @usableFromInline let total: Int
    @usableFromInline var consumed = 0
    @usableFromInline let initialNewBytesOffset: Int
    @usableFromInline var expected = 0
    @usableFromInline var skipBeyond = 0
    /// ``ConnectionLimits/maxFrameLength``, for the default length-field format (``FrameHandler``).
    @usableFromInline let maxFrameLength: Int
    /// Messages the decode loops found during this call (added to ``ReactorStatistics/framesIn`` by the loop).
    @usableFromInline var messagesDecoded = 0

    @inlinable
    init(base: UnsafeRawPointer, count: Int, newBytesOffset: Int, maxFrameLength: Int) {
        self.base = base
        self.total = count
        self.initialNewBytesOffset = newBytesOffset
        self.maxFrameLength = maxFrameLength
    }

    /// Every unconsumed byte, oldest first (the bytes consumed during this call are no longer in it).
    @inlinable
    public var bytes: RawSpan {
        @_lifetime(borrow self)
        get {
            let span = RawSpan(_unsafeStart: base + consumed, byteCount: total - consumed)
            return _overrideLifetime(span, borrowing: self)
        }
    }

    /// Calls `body` with the unconsumed bytes; the pointer must not escape `body`.
    @inlinable
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: base + consumed, count: total - consumed))
    }

    /// The number of unconsumed bytes.
    @inlinable
    public var count: Int { total - consumed }

    /// True when every byte has been consumed.
    @inlinable
    public var isEmpty: Bool { total == consumed }

    /// The offset in ``bytes`` of the first byte no earlier call was shown: a scanner resumes here instead of
    /// re-reading what it already looked at. 0 once this call consumed past the old bytes.
    @inlinable
    public var newBytesOffset: Int { max(0, initialNewBytesOffset - consumed) }

    /// Marks the first `count` bytes as handled; they leave the view (`0 ... ` ``count``).
    @inlinable
    public mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= total - consumed, "consume(\(count)) beyond the \(total - consumed) bytes")
        consumed += count
    }

    /// Asks not to be called again before at least `total` unconsumed bytes are there (counted from the first
    /// unconsumed byte when this call returns), or the input ends. The loop reads a large remainder straight into
    /// the connection's buffer, skipping the read buffer; the buffer grows with the bytes that arrive (a size class
    /// at a time), not to `total` at once, so a length a peer declares costs memory only as its bytes come. Bounded
    /// by ``ConnectionLimits/maxBufferedInput``: bytes beyond it are never buffered, whatever is expected.
    @inlinable
    public mutating func expect(atLeast total: Int) {
        expected = max(0, total)
    }

    /// Drops the next `count` bytes of the stream, including ones not received yet: what is in the view now
    /// leaves it at once, the rest is discarded as it arrives, without being shown to the handler. Calls add up.
    @inlinable
    public mutating func skip(_ count: Int) {
        precondition(count >= 0, "skip(\(count)) of a negative count")
        let now = min(count, total - consumed)
        consumed += now
        skipBeyond += count - now
    }
}
