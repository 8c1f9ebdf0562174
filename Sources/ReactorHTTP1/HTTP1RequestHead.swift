/// One decoded request's head, borrowed for the duration of ``HTTP1RequestHandler/onRequest(_:body:state:connection:)``:
/// the request line and the header (and trailer) fields as views into the connection's inbound bytes (no copy).
///
/// `~Copyable` and handed out `borrowing` with no public initialiser, so it cannot be kept; every `RawSpan` it
/// gives is borrowed from it. Copy what you need to keep. Field names compare case-insensitively
/// (``firstIndex(of:)``, RFC 9110 §5.1) without allocating; values are as received, leading and trailing blanks
/// removed (RFC 9112 §5).
public struct HTTP1RequestHead: ~Copyable {
    @usableFromInline unowned(unsafe) let request: HTTP1DecodedRequest

    @usableFromInline
    init(request: HTTP1DecodedRequest) {
        self.request = request
    }

    @inlinable
    func span(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: request.base + start, count: count)
    }

    /// The method (`GET`, `POST`… case-sensitive, RFC 9110 §9.1).
    @inlinable
    public var method: RawSpan {
        @_lifetime(borrow self)
        get { _overrideLifetime(RawSpan(_unsafeBytes: span(0, request.methodCount)), borrowing: self) }
    }

    /// Whether the method is `method` (case-sensitive).
    @inlinable
    public func methodIs(_ method: StaticString) -> Bool {
        request.methodCount == method.utf8CodeUnitCount
            && memcmpEqual(request.base, method.utf8Start, count: request.methodCount)
    }

    /// Whether the method is `HEAD`: the response carries no body (RFC 9110 §9.3.2).
    @inlinable
    public var isHEAD: Bool { request.isHeadMethod }

    /// The request target as sent (origin form `/path?query`, absolute form, `*`…; RFC 9112 §3.2).
    @inlinable
    public var target: RawSpan {
        @_lifetime(borrow self)
        get {
            _overrideLifetime(RawSpan(_unsafeBytes: span(request.targetStart, request.targetCount)), borrowing: self)
        }
    }

    /// Whether the target is exactly `target` (no decoding).
    @inlinable
    public func targetIs(_ target: StaticString) -> Bool {
        request.targetCount == target.utf8CodeUnitCount
            && memcmpEqual(request.base + request.targetStart, target.utf8Start, count: request.targetCount)
    }

    /// Calls `body` with the target's bytes; the pointer must not escape `body`.
    @inlinable
    public func withTarget<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        body(UnsafeRawBufferPointer(start: request.base + request.targetStart, count: request.targetCount))
    }

    /// The request's version.
    @inlinable
    public var version: HTTP1Version { request.version }

    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only
    /// with `Connection: keep-alive` (RFC 9112 §9.3). The stream handler closes it after the response otherwise.
    @inlinable
    public var keepAlive: Bool { request.keepAlive }

    /// The declared `Content-Length`, or nil (none, or chunked).
    @inlinable
    public var contentLength: Int? { request.contentLength >= 0 ? request.contentLength : nil }

    /// Whether the body came chunked (RFC 9112 §7.1); the handler gets it de-chunked.
    @inlinable
    public var isChunked: Bool { request.isChunked }

    /// Whether the request asked `Expect: 100-continue` (RFC 9110 §10.1.1; answered by the stream handler).
    @inlinable
    public var expectsContinue: Bool { request.expectsContinue }

    // MARK: Fields

    /// Header fields, in the order received (repeated names stay separate lines).
    @inlinable
    public var fieldCount: Int { request.headerCount }

    /// The name of header field `index` (0..<``fieldCount``), as received.
    @inlinable
    @_lifetime(borrow self)
    public func name(at index: Int) -> RawSpan {
        let field = self.field(index, trailer: false)
        return _overrideLifetime(
            RawSpan(_unsafeBytes: span(Int(field.nameStart), Int(field.nameCount))), borrowing: self)
    }

    /// The value of header field `index` (0..<``fieldCount``).
    @inlinable
    @_lifetime(borrow self)
    public func value(at index: Int) -> RawSpan {
        let field = self.field(index, trailer: false)
        return _overrideLifetime(
            RawSpan(_unsafeBytes: span(Int(field.valueStart), Int(field.valueCount))), borrowing: self)
    }

    /// The index of the first header field named `name` (ASCII case ignored), or nil.
    @inlinable
    public func firstIndex(of name: StaticString) -> Int? {
        for index in 0..<request.headerCount {
            let field = request.fields[index]
            if Int(field.nameCount) == name.utf8CodeUnitCount
                && equalsIgnoringCase(request.base + Int(field.nameStart), name.utf8Start, count: Int(field.nameCount))
            {
                return index
            }
        }
        return nil
    }

    /// Calls `body` with the value of the first header field named `name` (nil if none); the pointer must not
    /// escape `body`.
    @inlinable
    public func withValue<Result>(of name: StaticString, _ body: (UnsafeRawBufferPointer?) -> Result) -> Result {
        guard let index = firstIndex(of: name) else { return body(nil) }
        let field = request.fields[index]
        return body(UnsafeRawBufferPointer(start: request.base + Int(field.valueStart), count: Int(field.valueCount)))
    }

    /// Calls `body` with the name and value of header field `index`; the pointers must not escape `body`.
    @inlinable
    public func withField<Result>(
        at index: Int, _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Result
    ) -> Result {
        withField(index, trailer: false, body)
    }

    /// Trailer fields of a chunked body (RFC 9112 §7.1.2), kept apart from the header fields (RFC 9110 §6.5.1).
    @inlinable
    public var trailerCount: Int { request.trailerCount }

    /// Calls `body` with the name and value of trailer field `index` (0..<``trailerCount``).
    @inlinable
    public func withTrailer<Result>(
        at index: Int, _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Result
    ) -> Result {
        withField(index, trailer: true, body)
    }

    @inlinable
    func withField<Result>(
        _ index: Int, trailer: Bool, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Result
    ) -> Result {
        let field = self.field(index, trailer: trailer)
        return body(
            UnsafeRawBufferPointer(start: request.base + Int(field.nameStart), count: Int(field.nameCount)),
            UnsafeRawBufferPointer(start: request.base + Int(field.valueStart), count: Int(field.valueCount)))
    }

    @inlinable
    func field(_ index: Int, trailer: Bool) -> HTTP1DecodedRequest.Field {
        let count = trailer ? request.trailerCount : request.headerCount
        precondition(index >= 0 && index < count, "field index out of range")
        return request.fields[trailer ? request.headerCount + index : index]
    }
}

@inlinable
func memcmpEqual(_ lhs: UnsafeRawPointer, _ rhs: UnsafePointer<UInt8>, count: Int) -> Bool {
    for index in 0..<count where lhs.load(fromByteOffset: index, as: UInt8.self) != rhs[index] { return false }
    return true
}

@inlinable
func equalsIgnoringCase(_ lhs: UnsafeRawPointer, _ rhs: UnsafePointer<UInt8>, count: Int) -> Bool {
    @inline(__always) func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
    for index in 0..<count where lower(lhs.load(fromByteOffset: index, as: UInt8.self)) != lower(rhs[index]) {
        return false
    }
    return true
}
