/// Where ``HTTP1RequestDecoder`` records the request it found: the request line, the header and trailer fields as
/// offsets into the input (no copy), the framing, and the body (a view into the input, or the de-chunked bytes in
/// this object's own buffer). Read it through ``HTTP1RequestHead``.
///
/// One per loop (an ``HTTP1StreamHandler`` makes one on first use), reused for every request: the field table
/// grows to the most fields seen in one request (bounded by ``HTTP1RequestDecoder/maxFieldCount``) and the
/// de-chunking buffer to the longest chunked body seen, up to ``retainedDechunkingCapacity`` (a larger one is given
/// back by ``releaseExcessCapacity()`` once its request was answered); after that a request allocates nothing.
/// Valid until the next decode. Not thread-safe.
public final class HTTP1DecodedRequest {
    @usableFromInline struct Field {
        @usableFromInline var nameStart: Int32
        @usableFromInline var nameCount: Int32
        @usableFromInline var valueStart: Int32
        @usableFromInline var valueCount: Int32
    }

    /// The first byte of the request in the input: every offset below is relative to it.
    @usableFromInline @exclusivity(unchecked) var base = UnsafeRawPointer(bitPattern: 1).unsafelyUnwrapped
    @usableFromInline @exclusivity(unchecked) var methodCount = 0
    @usableFromInline @exclusivity(unchecked) var targetStart = 0
    @usableFromInline @exclusivity(unchecked) var targetCount = 0
    @usableFromInline @exclusivity(unchecked) var version = HTTP1Version.http11
    @usableFromInline @exclusivity(unchecked) var fields: UnsafeMutablePointer<Field>
    @usableFromInline @exclusivity(unchecked) var fieldCapacity: Int
    /// Header fields: `fields[0..<headerCount]`; trailer fields follow them.
    @usableFromInline @exclusivity(unchecked) var headerCount = 0
    @usableFromInline @exclusivity(unchecked) var trailerCount = 0
    @usableFromInline @exclusivity(unchecked) var body: UnsafeRawPointer?
    @usableFromInline @exclusivity(unchecked) var bodyCount = 0
    @usableFromInline @exclusivity(unchecked) var contentLength = -1
    @usableFromInline @exclusivity(unchecked) var isChunked = false
    @usableFromInline @exclusivity(unchecked) var keepAlive = true
    @usableFromInline @exclusivity(unchecked) var expectsContinue = false
    @usableFromInline @exclusivity(unchecked) var isHeadMethod = false
    @exclusivity(unchecked) var dechunked: UnsafeMutableRawPointer?
    @usableFromInline @exclusivity(unchecked) var dechunkedCapacity = 0
    /// The largest de-chunking buffer kept between requests (64 KiB); a larger chunked body gets a buffer of its own
    /// size, given back after its request.
    public static let retainedDechunkingCapacity = 64 << 10

    /// This loop's `Date` value.
    public let date = HTTP1DateCache()

    /// An empty table with room for `initialFieldCapacity` fields; it grows (doubling) for a request with more.
    public init(initialFieldCapacity: Int = 32) {
        fieldCapacity = max(1, initialFieldCapacity)
        fields = .allocate(capacity: fieldCapacity)
    }

    deinit {
        fields.deallocate()
        dechunked?.deallocate()
    }

    /// Calls `body` with the request last decoded, as a ``HTTP1RequestHead`` valid during `body` only.
    @inlinable
    public func withHead<Result>(_ body: (borrowing HTTP1RequestHead) -> Result) -> Result {
        body(HTTP1RequestHead(request: self))
    }

    /// The body of the request last decoded: a view into the input, or into this object's de-chunking buffer.
    @inlinable
    public var bodyBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: body, count: bodyCount) }

    /// Gives back a de-chunking buffer over ``retainedDechunkingCapacity`` (call it once the request it holds was
    /// answered).
    @inlinable
    public func releaseExcessCapacity() {
        if dechunkedCapacity > Self.retainedDechunkingCapacity { releaseDechunkingBuffer() }
    }

    @usableFromInline
    func releaseDechunkingBuffer() {
        dechunked?.deallocate()
        dechunked = nil
        dechunkedCapacity = 0
    }

    // MARK: Filled by the decoder

    @inline(__always)
    func reset(base: UnsafeRawPointer) {
        self.base = base
        headerCount = 0
        trailerCount = 0
        body = nil
        bodyCount = 0
        contentLength = -1
        isChunked = false
        expectsContinue = false
    }

    @inline(__always)
    func appendField(nameStart: Int, nameCount: Int, valueStart: Int, valueCount: Int) {
        let index = headerCount + trailerCount
        if index == fieldCapacity { grow() }
        fields[index] = Field(
            nameStart: Int32(truncatingIfNeeded: nameStart), nameCount: Int32(truncatingIfNeeded: nameCount),
            valueStart: Int32(truncatingIfNeeded: valueStart), valueCount: Int32(truncatingIfNeeded: valueCount))
    }

    /// Room for a de-chunked body of `count` bytes.
    func dechunkingBuffer(count: Int) -> UnsafeMutableRawPointer {
        if count > dechunkedCapacity || dechunked == nil {
            dechunked?.deallocate()
            dechunkedCapacity = max(count, 1024)
            dechunked = .allocate(byteCount: dechunkedCapacity, alignment: 16)
        }
        return dechunked.unsafelyUnwrapped
    }

    private func grow() {
        let larger = UnsafeMutablePointer<Field>.allocate(capacity: fieldCapacity * 2)
        larger.moveInitialize(from: fields, count: fieldCapacity)
        fields.deallocate()
        fields = larger
        fieldCapacity *= 2
    }
}
