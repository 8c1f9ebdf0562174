#if canImport(Glibc)
    import Glibc
#endif

/// Finds one HTTP/1.1 request (RFC 9112) at the start of a connection's unconsumed bytes: its head parsed in place
/// into an ``HTTP1DecodedRequest`` (offsets into the input, no copy) and its whole body, `Content-Length`-delimited
/// (a view into the input) or chunked (de-chunked into the ``HTTP1DecodedRequest``'s buffer, trailers recorded).
///
/// Like RESP's decoder its answer is a function of the bytes it is shown plus a per-connection ``Progress``: a
/// complete request, bytes to skip, or how many bytes it needs before it can say more
/// (``Step/needMoreInput(atLeast:)``, meant for ``ReactorCore/InboundBytes/expect(atLeast:)``). A head that arrives
/// in pieces is not re-scanned: the progress keeps how far the search for its end got, so a head costs O(its
/// length) however it is cut; the request line is checked as soon as its CRLF arrives (an HTTP/0.9 line or an
/// HTTP/2 preface is refused without waiting for more), the field lines once the head is complete (one pass). A
/// body is waited for with one ``Step/needMoreInput(atLeast:)`` (`Content-Length`) or one per chunk (chunked);
/// once it is complete the head is parsed once more (the field table is the loop's, shared by its connections)
/// and, for a chunked body, the chunks are walked once more to copy their data. A request that arrives whole is
/// parsed in one pass and allocates nothing.
///
/// Strictness (for request smuggling, RFC 9112 §11.2): lines end with CRLF only; no whitespace before a colon; no
/// obs-fold; no control bytes but HTAB in values; `Content-Length` and `Transfer-Encoding` together, differing
/// `Content-Length`s and `chunked` not last are refused. Every refusal is an ``HTTP1RequestError`` naming its
/// status. Leading empty lines before a request line are skipped (RFC 9112 §2.2).
public struct HTTP1RequestDecoder: Sendable {
    /// The longest request line, CRLF excluded (nginx's `large_client_header_buffers` 8k): longer gets 414 (431
    /// when ``maxHeaderSectionLength``, which counts the request line too, is not above it).
    public var maxRequestLineLength: Int
    /// The longest header section, request line and the empty line included, and the longest trailer section
    /// (nginx accepts 4 buffers of 8k): longer gets 431.
    public var maxHeaderSectionLength: Int
    /// The most header fields in one request, and trailer fields in one trailer section: more gets 431.
    public var maxFieldCount: Int
    /// The longest body, in bytes, declared or de-chunked (nginx's `client_max_body_size` 1m): longer gets 413.
    /// The whole request must also fit ``ReactorCore/ConnectionLimits/maxBufferedInput``.
    public var maxBodyLength: Int
    /// The longest chunk-size line, extensions included, CRLF excluded: longer gets 400.
    public var maxChunkLineLength: Int

    /// A decoder with nginx-like limits unless given others.
    public init(
        maxRequestLineLength: Int = 8192, maxHeaderSectionLength: Int = 32768, maxFieldCount: Int = 100,
        maxBodyLength: Int = 1 << 20, maxChunkLineLength: Int = 4096
    ) {
        precondition(
            maxRequestLineLength >= 16 && maxHeaderSectionLength >= 16 && maxFieldCount >= 1
                && maxHeaderSectionLength <= 1 << 30 && maxBodyLength >= 0 && maxBodyLength <= 1 << 30
                && maxChunkLineLength >= 1,
            "HTTP/1 limits out of range")
        self.maxRequestLineLength = maxRequestLineLength
        self.maxHeaderSectionLength = maxHeaderSectionLength
        self.maxFieldCount = maxFieldCount
        self.maxBodyLength = maxBodyLength
        self.maxChunkLineLength = maxChunkLineLength
    }

    /// What ``decode(_:into:progress:)`` found at the start of its input.
    public enum Step: Hashable, Sendable {
        /// A complete request (head and body) in the ``HTTP1DecodedRequest``: the first `consumed` bytes.
        case request(consumed: Int)
        /// An empty line before a request line (RFC 9112 §2.2): drop the first `consumed` bytes.
        case skip(consumed: Int)
        /// No complete request yet: at least `atLeast` bytes (from the start of the input) are needed.
        case needMoreInput(atLeast: Int)
    }

    /// How far a request that has not completely arrived was decoded. One per connection, initially empty, owned by
    /// the caller and handed to every ``decode(_:into:progress:)`` for that connection; it is only valid while the
    /// bytes it describes stay the first bytes of the input (consume nothing of a request in progress). Reset to
    /// empty when a request is returned or an error thrown.
    public struct Progress: Hashable, Sendable {
        /// Bytes of the head searched for its end.
        var scanned = 0
        /// Start of the head line being searched (the offset after the last LF found).
        var lineStart = 0
        /// Field lines found so far.
        var lines = 0
        /// Offset just past the request line's CRLF, 0 until it arrived.
        var requestLineEnd = 0
        /// The head's length (through its empty line), 0 until it is complete.
        var headLength = 0
        /// The declared `Content-Length` (0 when none and not chunked).
        var contentLength = 0
        var isChunked = false
        /// Chunked: the offset of the next chunk-size line, and the data bytes in the chunks before it.
        var nextChunk = 0
        var dechunkedLength = 0
        /// Whether the complete head asked `Expect: 100-continue` (HTTP/1.1 only) and its body has not arrived.
        public internal(set) var expectsContinue = false
        /// Set by the caller once it sent `100 Continue` for the request in progress.
        public var continueSent = false

        /// No request in progress.
        public init() {}

        /// True once the head of the request in progress is complete (its body is awaited).
        public var isHeadComplete: Bool { headLength > 0 }
    }

    /// Looks for one request at the start of `input`, recording it in `request`; resumes at `progress` (see
    /// ``Progress``). The answer is the same as with a fresh `progress`, only cheaper.
    /// - Throws: ``HTTP1RequestError`` for a request to refuse (with its ``HTTP1RequestError/status``); `progress`
    ///   is then empty.
    public func decode(
        _ input: UnsafeRawBufferPointer, into request: HTTP1DecodedRequest, progress: inout Progress
    ) throws(HTTP1RequestError) -> Step {
        guard let base = input.baseAddress, input.count > 0 else { return .needMoreInput(atLeast: 1) }
        do throws(HTTP1RequestError) {
            let step = try decode(base, count: input.count, into: request, progress: &progress)
            if case .needMoreInput = step {} else { progress = Progress() }
            return step
        } catch {
            progress = Progress()
            throw error
        }
    }

    /// ``decode(_:into:progress:)`` with no progress kept between calls (a request that arrives in pieces is
    /// re-checked from its start each time): for tests and one-shot parsing.
    public func decode(
        _ input: UnsafeRawBufferPointer, into request: HTTP1DecodedRequest
    ) throws(HTTP1RequestError) -> Step {
        var progress = Progress()
        return try decode(input, into: request, progress: &progress)
    }

    private func decode(
        _ base: UnsafeRawPointer, count total: Int, into request: HTTP1DecodedRequest, progress: inout Progress
    ) throws(HTTP1RequestError) -> Step {
        var parsedNow = false
        if progress.headLength == 0 {
            if progress.scanned == 0 && base.load(as: UInt8.self) == HTTP1Bytes.cr {
                guard total >= 2 else { return .needMoreInput(atLeast: 2) }
                guard base.load(fromByteOffset: 1, as: UInt8.self) == HTTP1Bytes.lf else {
                    throw .bareLineFeedOrCarriageReturn
                }
                return .skip(consumed: 2)
            }
            guard let headEnd = try scanHead(base, count: total, progress: &progress) else {
                return .needMoreInput(atLeast: total + 1)
            }
            try parseHead(base, count: headEnd, requestLineEnd: progress.requestLineEnd, into: request)
            parsedNow = true
            progress.headLength = headEnd
            progress.isChunked = request.isChunked
            progress.contentLength = max(0, request.contentLength)
            progress.nextChunk = headEnd
            progress.expectsContinue = request.expectsContinue
            if !request.isChunked && request.contentLength <= 0 { return .request(consumed: headEnd) }
        }
        let headLength = progress.headLength
        if !progress.isChunked {
            let needed = headLength + progress.contentLength
            guard total >= needed else { return .needMoreInput(atLeast: needed) }
            if !parsedNow {
                try parseHead(base, count: headLength, requestLineEnd: progress.requestLineEnd, into: request)
            }
            request.body = base + headLength
            request.bodyCount = progress.contentLength
            return .request(consumed: needed)
        }
        switch try walkChunks(base, count: total, from: progress.nextChunk, decoded: progress.dechunkedLength) {
        case .incomplete(let chunkStart, let decoded, let needed):
            progress.nextChunk = chunkStart
            progress.dechunkedLength = decoded
            return .needMoreInput(atLeast: needed)
        case .complete(let end, let decoded, _):
            if !parsedNow {
                try parseHead(base, count: headLength, requestLineEnd: progress.requestLineEnd, into: request)
            }
            let buffer = request.dechunkingBuffer(count: decoded)
            _ = try walkChunks(base, count: end, from: headLength, decoded: 0, copyingInto: buffer, request: request)
            request.body = UnsafeRawPointer(buffer)
            request.bodyCount = decoded
            return .request(consumed: end)
        }
    }

    // MARK: The head

    /// Searches for the end of the head from where the last call stopped; checks the request line when its CRLF
    /// arrives. Returns the head's length, or nil if it has not completely arrived.
    private func scanHead(
        _ base: UnsafeRawPointer, count total: Int, progress: inout Progress
    ) throws(HTTP1RequestError) -> Int? {
        var position = progress.scanned
        // A request line too long for both limits meets the header section limit first as its bytes arrive (at
        // `maxHeaderSectionLength + 1` bytes, before `maxRequestLineLength + 2`) when that limit is not above the
        // request line's: it is then refused with 431 however it is cut, never 414.
        let lineLimited = maxHeaderSectionLength > maxRequestLineLength
        // The bytes a method check looks at: no more than a head cut anywhere shows before a limit is met (so that
        // the answer is the same however it is cut), and 32 at most (a line arriving a byte at a time costs O(1)).
        let methodWindow = min(32, maxRequestLineLength + 1, maxHeaderSectionLength)
        while position < total {
            guard let found = memchr(base + position, Int32(HTTP1Bytes.lf), total - position) else { break }
            let lf = UnsafeRawPointer(found) - base
            // The limits first, as a head arriving in pieces would meet them (before its LF arrives): the answer
            // does not depend on how the bytes were cut. Before them, a request line's method, which is checked
            // as its bytes arrive (below).
            if progress.requestLineEnd == 0 {
                if lf > maxRequestLineLength + 1 || lf > maxHeaderSectionLength
                    || lf < 1 || base.load(fromByteOffset: lf - 1, as: UInt8.self) != HTTP1Bytes.cr
                {
                    try Self.checkMethodPrefix(base, count: min(lf, methodWindow))
                }
                if lineLimited && lf > maxRequestLineLength + 1 { throw .requestLineTooLong }
            }
            if lf > maxHeaderSectionLength { throw .headerSectionTooLarge }
            if lf < 1 || base.load(fromByteOffset: lf - 1, as: UInt8.self) != HTTP1Bytes.cr {
                throw .bareLineFeedOrCarriageReturn
            }
            if progress.requestLineEnd == 0 {
                try Self.checkRequestLine(base, count: lf - 1)
                progress.requestLineEnd = lf + 1
            } else if base.load(fromByteOffset: progress.lineStart, as: UInt8.self) == HTTP1Bytes.cr
                && lf - 1 != progress.lineStart
            {
                // A line starting with a bare CR: refused now, not when (if ever) the head completes.
                throw .bareLineFeedOrCarriageReturn
            } else if lf - 1 == progress.lineStart {
                // The empty line: the head is complete.
                let headEnd = lf + 1
                if headEnd > maxHeaderSectionLength { throw .headerSectionTooLarge }
                progress.scanned = headEnd
                return headEnd
            } else {
                progress.lines += 1
                if progress.lines > maxFieldCount { throw .headerSectionTooLarge }
            }
            progress.lineStart = lf + 1
            position = lf + 1
        }
        progress.scanned = total
        if progress.requestLineEnd == 0 {
            // A request line still without its LF is refused as soon as its method cannot be one (a TLS
            // ClientHello, binary garbage), as nginx does, rather than when the line ends or the read timeout fires.
            try Self.checkMethodPrefix(base, count: min(total, methodWindow))
            if lineLimited && total > maxRequestLineLength + 1 { throw .requestLineTooLong }
        }
        if total > maxHeaderSectionLength { throw .headerSectionTooLarge }
        return nil
    }

    /// Checks the start of a request line that may be incomplete (its first `count` bytes): the bytes before its
    /// first SP, or all of them if there is none, must be a method's (`token`, RFC 9112 §3.1), and not empty if a
    /// SP came. A line that passes may still be refused when it completes.
    static func checkMethodPrefix(_ base: UnsafeRawPointer, count: Int) throws(HTTP1RequestError) {
        var position = 0
        while position < count && HTTP1Bytes.isTokenByte(base.load(fromByteOffset: position, as: UInt8.self)) {
            position += 1
        }
        if position < count
            && (position == 0 || base.load(fromByteOffset: position, as: UInt8.self) != HTTP1Bytes.space)
        {
            throw .malformedRequestLine
        }
    }

    /// Checks `method SP request-target SP HTTP-version` (`count` bytes, CRLF excluded; RFC 9112 §3).
    static func checkRequestLine(_ base: UnsafeRawPointer, count: Int) throws(HTTP1RequestError) {
        _ = try splitRequestLine(base, count: count)
    }

    /// The request line's parts: the method's length, the target's start and length, the version.
    @inline(__always)
    static func splitRequestLine(
        _ base: UnsafeRawPointer, count: Int
    ) throws(HTTP1RequestError) -> (methodCount: Int, targetStart: Int, targetCount: Int, version: HTTP1Version) {
        @inline(__always) func byte(_ index: Int) -> UInt8 { base.load(fromByteOffset: index, as: UInt8.self) }
        var position = 0
        while position < count && HTTP1Bytes.isTokenByte(byte(position)) { position += 1 }
        let methodCount = position
        guard methodCount > 0, position < count, byte(position) == HTTP1Bytes.space else {
            throw .malformedRequestLine
        }
        position += 1
        let targetStart = position
        // request-target: visible ASCII (RFC 9112 §3.2; RFC 3986 characters, checked loosely).
        while position < count, case let current = byte(position), current > 0x20 && current < 0x7F {
            position += 1
        }
        let targetCount = position - targetStart
        guard targetCount > 0 else { throw .malformedRequestLine }
        if position == count { throw .unsupportedVersion }  // HTTP/0.9: `GET /`
        guard byte(position) == HTTP1Bytes.space, count - position - 1 == 8 else { throw .malformedRequestLine }
        position += 1
        let isDigit = { (value: UInt8) in value >= UInt8(ascii: "0") && value <= UInt8(ascii: "9") }
        guard byte(position) == UInt8(ascii: "H"), byte(position + 1) == UInt8(ascii: "T"),
            byte(position + 2) == UInt8(ascii: "T"), byte(position + 3) == UInt8(ascii: "P"),
            byte(position + 4) == UInt8(ascii: "/"), isDigit(byte(position + 5)),
            byte(position + 6) == UInt8(ascii: "."), isDigit(byte(position + 7))
        else { throw .malformedRequestLine }
        guard byte(position + 5) == UInt8(ascii: "1") else { throw .unsupportedVersion }
        switch byte(position + 7) {
        case UInt8(ascii: "1"): return (methodCount, targetStart, targetCount, .http11)
        case UInt8(ascii: "0"): return (methodCount, targetStart, targetCount, .http10)
        default: throw .unsupportedVersion
        }
    }

    /// Parses a complete head of `count` bytes (its empty line included) into `request`: the request line, the
    /// field lines and what they say about framing and the connection.
    private func parseHead(
        _ base: UnsafeRawPointer, count: Int, requestLineEnd: Int, into request: HTTP1DecodedRequest
    ) throws(HTTP1RequestError) {
        request.reset(base: base)
        let line = try Self.splitRequestLine(base, count: requestLineEnd - 2)
        request.methodCount = line.methodCount
        request.targetStart = line.targetStart
        request.targetCount = line.targetCount
        request.version = line.version
        // Methods are case-sensitive (RFC 9110 §9.1).
        request.isHeadMethod = line.methodCount == 4 && base.loadUnaligned(as: UInt32.self) == Self.headMethod
        var framing = HTTP1Framing()
        var position = requestLineEnd
        // Every line ends with CRLF (checked by the scan); the last one is empty.
        while position < count - 2 {
            let lf = UnsafeRawPointer(memchr(base + position, Int32(HTTP1Bytes.lf), count - position)!) - base
            let field = try Self.parseFieldLine(base, from: position, to: lf - 1)
            request.appendField(
                nameStart: field.nameStart, nameCount: field.nameCount, valueStart: field.valueStart,
                valueCount: field.valueCount)
            request.headerCount += 1
            try framing.note(field, base)
            position = lf + 1
        }
        try framing.apply(to: request, maxBodyLength: maxBodyLength)
    }

    /// `HEAD` as a little-endian word.
    static let headMethod =
        UInt32(UInt8(ascii: "H")) | UInt32(UInt8(ascii: "E")) << 8
        | UInt32(UInt8(ascii: "A")) << 16 | UInt32(UInt8(ascii: "D")) << 24

    /// A field line's name and value, as offsets from the request's start.
    struct FieldLine {
        var nameStart: Int
        var nameCount: Int
        var valueStart: Int
        var valueCount: Int
    }

    /// Parses `field-name ":" OWS field-value OWS` in `base[start..<end]` (RFC 9112 §5).
    @inline(__always)
    static func parseFieldLine(
        _ base: UnsafeRawPointer, from start: Int, to end: Int
    ) throws(HTTP1RequestError) -> FieldLine {
        @inline(__always) func byte(_ index: Int) -> UInt8 { base.load(fromByteOffset: index, as: UInt8.self) }
        if HTTP1Bytes.isBlank(byte(start)) { throw .obsoleteLineFolding }
        var position = start
        while position < end && HTTP1Bytes.isTokenByte(byte(position)) { position += 1 }
        guard position < end, position > start else { throw .malformedField }
        let colon = byte(position)
        guard colon == UInt8(ascii: ":") else {
            throw HTTP1Bytes.isBlank(colon) ? .whitespaceBeforeColon : .malformedField
        }
        let nameCount = position - start
        position += 1
        while position < end && HTTP1Bytes.isBlank(byte(position)) { position += 1 }
        let valueStart = position
        var valueEnd = valueStart
        while position < end {
            let current = byte(position)
            if HTTP1Bytes.isForbiddenInValue(current) { throw .invalidFieldValue }
            position += 1
            if !HTTP1Bytes.isBlank(current) { valueEnd = position }
        }
        return FieldLine(
            nameStart: start, nameCount: nameCount, valueStart: valueStart, valueCount: valueEnd - valueStart)
    }
}
