/// What a request's header fields say about its body and its connection, gathered field by field while the head
/// is parsed, then checked as a whole: message body length (RFC 9112 §6.3), persistence (RFC 9112 §9.3), `Host`
/// (RFC 9112 §3.2) and `Expect` (RFC 9110 §10.1.1).
struct HTTP1Framing {
    var contentLength = -1
    var hasTransferEncoding = false
    var chunkedSeen = false
    /// A coding after `chunked`, or `chunked` twice.
    var chunkedNotLast = false
    var otherCoding = false
    var connectionClose = false
    var connectionKeepAlive = false
    var expectsContinue = false
    var unsupportedExpectation = false
    var hostCount = 0

    /// Notes one header field.
    @inline(__always)
    mutating func note(_ field: HTTP1RequestDecoder.FieldLine, _ base: UnsafeRawPointer) throws(HTTP1RequestError) {
        let name = base + field.nameStart
        let value = base + field.valueStart
        switch field.nameCount {
        case 4 where HTTP1Bytes.equalsIgnoringCase(name, count: 4, "host"):
            hostCount += 1
        case 6 where HTTP1Bytes.equalsIgnoringCase(name, count: 6, "expect"):
            if HTTP1Bytes.equalsIgnoringCase(value, count: field.valueCount, "100-continue") {
                expectsContinue = true
            } else {
                unsupportedExpectation = true
            }
        case 10 where HTTP1Bytes.equalsIgnoringCase(name, count: 10, "connection"):
            try Self.forEachElement(value, count: field.valueCount) { (start, count) throws(HTTP1RequestError) in
                if HTTP1Bytes.equalsIgnoringCase(start, count: count, "close") { connectionClose = true }
                if HTTP1Bytes.equalsIgnoringCase(start, count: count, "keep-alive") { connectionKeepAlive = true }
            }
        case 14 where HTTP1Bytes.equalsIgnoringCase(name, count: 14, "content-length"):
            // Strict: `1*DIGIT`, or the same number repeated in a list (RFC 9110 §8.6); no empty elements.
            try Self.forEachElement(value, count: field.valueCount, keepingEmpty: true) {
                (start, count) throws(HTTP1RequestError) in
                let length = try Self.parseDecimal(start, count: count)
                if contentLength >= 0 && contentLength != length { throw .invalidContentLength }
                contentLength = length
            }
        case 17 where HTTP1Bytes.equalsIgnoringCase(name, count: 17, "transfer-encoding"):
            hasTransferEncoding = true
            // Empty list elements are refused here too (`chunked,,`): not every parser reads them the same way.
            try Self.forEachElement(value, count: field.valueCount, keepingEmpty: true) {
                (start, count) throws(HTTP1RequestError) in
                // transfer-coding = token *( OWS ";" OWS transfer-parameter ): only the token matters here.
                var tokenCount = 0
                while tokenCount < count
                    && HTTP1Bytes.isTokenByte(start.load(fromByteOffset: tokenCount, as: UInt8.self))
                {
                    tokenCount += 1
                }
                guard tokenCount > 0 else { throw .malformedField }
                // After the token only parameters may follow (`;` after optional blanks), and `chunked` has none
                // (RFC 9112 §7.1): `chunked????` or `chunked;x=1` is not `chunked` to every parser, so it is refused.
                var rest = tokenCount
                while rest < count && HTTP1Bytes.isBlank(start.load(fromByteOffset: rest, as: UInt8.self)) {
                    rest += 1
                }
                let hasParameters = rest < count
                if hasParameters && start.load(fromByteOffset: rest, as: UInt8.self) != UInt8(ascii: ";") {
                    throw .malformedField
                }
                if chunkedSeen { chunkedNotLast = true }
                if HTTP1Bytes.equalsIgnoringCase(start, count: tokenCount, "chunked") {
                    if hasParameters { throw .malformedField }
                    chunkedSeen = true
                } else {
                    otherCoding = true
                }
            }
        default:
            break
        }
    }

    /// Checks the fields as a whole and records the framing in `request`.
    func apply(to request: HTTP1DecodedRequest, maxBodyLength: Int) throws(HTTP1RequestError) {
        let version = request.version
        if version == .http11 && hostCount != 1 { throw .missingOrDuplicateHost }
        if hasTransferEncoding {
            if contentLength >= 0 { throw .contentLengthWithTransferEncoding }
            // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            if chunkedNotLast || version == .http10 { throw .chunkedNotLast }
            if otherCoding { throw .unsupportedTransferCoding }
            if !chunkedSeen { throw .malformedField }  // only empty list elements
            request.isChunked = true
        }
        if contentLength > maxBodyLength { throw .bodyTooLarge }
        if unsupportedExpectation { throw .unsupportedExpectation }
        request.contentLength = contentLength
        // RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request.
        request.expectsContinue =
            expectsContinue && version == .http11 && (request.isChunked || contentLength > 0)
        request.keepAlive = !connectionClose && (version == .http11 || connectionKeepAlive)
    }

    /// Calls `body` with each non-empty element of a comma-separated list (RFC 9110 §5.6.1), blanks trimmed (and
    /// with empty ones too when `keepingEmpty`).
    @inline(__always)
    static func forEachElement(
        _ start: UnsafeRawPointer, count: Int, keepingEmpty: Bool = false,
        _ body: (UnsafeRawPointer, Int) throws(HTTP1RequestError) -> Void
    ) throws(HTTP1RequestError) {
        var position = 0
        while position <= count {
            var end = position
            while end < count && start.load(fromByteOffset: end, as: UInt8.self) != UInt8(ascii: ",") { end += 1 }
            var first = position
            var last = end
            while first < last && HTTP1Bytes.isBlank(start.load(fromByteOffset: first, as: UInt8.self)) {
                first += 1
            }
            while last > first && HTTP1Bytes.isBlank(start.load(fromByteOffset: last - 1, as: UInt8.self)) {
                last -= 1
            }
            if last > first || keepingEmpty { try body(start + first, last - first) }
            position = end + 1
        }
    }

    /// `1*DIGIT` (RFC 9110 §8.6), without overflow.
    @inline(__always)
    static func parseDecimal(_ start: UnsafeRawPointer, count: Int) throws(HTTP1RequestError) -> Int {
        guard count > 0 && count <= 18 else { throw .invalidContentLength }
        var value = 0
        for index in 0..<count {
            let digit = start.load(fromByteOffset: index, as: UInt8.self) &- UInt8(ascii: "0")
            guard digit < 10 else { throw .invalidContentLength }
            value = value * 10 + Int(digit)
        }
        return value
    }
}
