public import ReactorCore

/// Response writers: a status line and header fields formatted straight into the outbound bytes (one
/// ``ReactorCore/ConnectionContext/write(reserving:_:)`` for the status line, `Date`, `Content-Length`,
/// `Content-Type` and `Connection`), then the body copied after them. Nothing is allocated.
///
/// Every response is `HTTP/1.1` (RFC 9110 §6.2: a server sends its own version), carries the loop's cached `Date`
/// (RFC 9110 §6.6.1) and a `Content-Length` (RFC 9110 §8.6; none for 1xx and 204), `Connection: close` when the
/// request does not keep the connection alive and `Connection: keep-alive` for an HTTP/1.0 request that does
/// (RFC 9112 §9.3). A response to `HEAD` gets the same head and no body (RFC 9110 §9.3.2).
extension ConnectionContext {
    /// Writes a whole response to `head`'s request: status line, fields, `body` (not for `HEAD`).
    public mutating func writeHTTPResponse(
        for head: borrowing HTTP1RequestHead, status: HTTP1Status = .ok, contentType: StaticString? = nil,
        body: RawSpan
    ) {
        writeHTTPResponseHead(for: head, status: status, contentLength: body.byteCount, contentType: contentType)
        if !head.isHEAD { write(body) }
    }

    /// Writes a whole response to `head`'s request with a literal body.
    public mutating func writeHTTPResponse(
        for head: borrowing HTTP1RequestHead, status: HTTP1Status = .ok, contentType: StaticString? = nil,
        body: StaticString
    ) {
        writeHTTPResponse(
            for: head, status: status, contentType: contentType,
            body: RawSpan(_unsafeBytes: UnsafeRawBufferPointer(start: body.utf8Start, count: body.utf8CodeUnitCount)))
    }

    /// Writes the status line and the standard fields for `head`'s request. With `endOfHead` false, add fields
    /// with ``writeHTTPField(name:value:)-(StaticString,_)`` and end the head with ``endHTTPResponseHead()``; then
    /// write exactly `contentLength` body bytes with ``writeHTTPBody(for:_:)``.
    public mutating func writeHTTPResponseHead(
        for head: borrowing HTTP1RequestHead, status: HTTP1Status, contentLength: Int,
        contentType: StaticString? = nil, endOfHead: Bool = true
    ) {
        let reason = UnsafeRawBufferPointer(start: status.reason.utf8Start, count: status.reason.utf8CodeUnitCount)
        let type = contentType.map { UnsafeRawBufferPointer(start: $0.utf8Start, count: $0.utf8CodeUnitCount) }
        writeHTTPResponseHead(
            code: status.code, reason: reason, contentLength: contentLength, contentType: type,
            connection: head.keepAlive ? (head.version == .http10 ? .keepAlive : .none) : .close,
            date: head.request.date, endOfHead: endOfHead)
    }

    /// Writes the status line and the standard fields for `head`'s request with a reason phrase given as bytes
    /// (for status values built at run time); see ``writeHTTPResponseHead(for:status:contentLength:contentType:endOfHead:)``.
    public mutating func writeHTTPResponseHead(
        for head: borrowing HTTP1RequestHead, code: Int, reason: UnsafeRawBufferPointer, contentLength: Int,
        contentType: UnsafeRawBufferPointer? = nil, endOfHead: Bool = true
    ) {
        writeHTTPResponseHead(
            code: code, reason: reason, contentLength: contentLength, contentType: contentType,
            connection: head.keepAlive ? (head.version == .http10 ? .keepAlive : .none) : .close,
            date: head.request.date, endOfHead: endOfHead)
    }

    /// Writes one field line `name: value` (the caller keeps names tokens and values free of CR, LF and NUL).
    public mutating func writeHTTPField(name: StaticString, value: UnsafeRawBufferPointer) {
        writeHTTPField(
            name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), value: value)
    }

    /// Writes one field line `name: value` (the caller keeps names tokens and values free of CR, LF and NUL).
    public mutating func writeHTTPField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        write(reserving: name.count + value.count + 4) { out in
            var writer = HTTP1HeadFormatter(out.baseAddress.unsafelyUnwrapped)
            writer.append(name)
            writer.append(": ")
            writer.append(value)
            writer.append("\r\n")
            return writer.position
        }
    }

    /// Ends a response head begun with `endOfHead: false`.
    public mutating func endHTTPResponseHead() {
        write("\r\n")
    }

    /// Writes body bytes of `head`'s response (nothing for `HEAD`).
    public mutating func writeHTTPBody(for head: borrowing HTTP1RequestHead, _ body: RawSpan) {
        if !head.isHEAD { write(body) }
    }

    /// The refusal of a request: `status` with an empty body and `Connection: close`. The caller closes.
    mutating func writeHTTPRefusal(_ status: HTTP1Status, date: HTTP1DateCache) {
        let reason = UnsafeRawBufferPointer(start: status.reason.utf8Start, count: status.reason.utf8CodeUnitCount)
        writeHTTPResponseHead(
            code: status.code, reason: reason, contentLength: 0, contentType: nil, connection: .close, date: date,
            endOfHead: true)
    }

    /// `HTTP/1.1 100 Continue` (RFC 9110 §15.2.1).
    @usableFromInline
    mutating func writeHTTPContinue() {
        write("HTTP/1.1 100 Continue\r\n\r\n")
    }

    enum HTTP1ConnectionField { case none, close, keepAlive }

    private mutating func writeHTTPResponseHead(
        code: Int, reason: UnsafeRawBufferPointer, contentLength: Int, contentType: UnsafeRawBufferPointer?,
        connection: HTTP1ConnectionField, date: HTTP1DateCache, endOfHead: Bool
    ) {
        precondition(code >= 100 && code <= 999 && contentLength >= 0, "status code or content length out of range")
        let dateBytes = date.current()
        let capacity = 160 + reason.count + (contentType?.count ?? 0)
        write(reserving: capacity) { out in
            var writer = HTTP1HeadFormatter(out.baseAddress.unsafelyUnwrapped)
            writer.append("HTTP/1.1 ")
            writer.appendDecimal(code)
            writer.append(" ")
            writer.append(reason)
            writer.append("\r\nDate: ")
            writer.append(dateBytes)
            if code >= 200 && code != 204 {
                writer.append("\r\nContent-Length: ")
                writer.appendDecimal(contentLength)
            }
            if let contentType {
                writer.append("\r\nContent-Type: ")
                writer.append(contentType)
            }
            switch connection {
            case .none: break
            case .close: writer.append("\r\nConnection: close")
            case .keepAlive: writer.append("\r\nConnection: keep-alive")
            }
            writer.append(endOfHead ? "\r\n\r\n" : "\r\n")
            return writer.position
        }
    }
}

/// Appends bytes at a cursor in reserved outbound space (the caller reserved enough).
struct HTTP1HeadFormatter {
    let out: UnsafeMutableRawPointer
    var position = 0

    init(_ out: UnsafeMutableRawPointer) { self.out = out }

    @inline(__always)
    mutating func append(_ text: StaticString) {
        (out + position).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        position += text.utf8CodeUnitCount
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if let start = bytes.baseAddress { (out + position).copyMemory(from: start, byteCount: bytes.count) }
        position += bytes.count
    }

    @inline(__always)
    mutating func appendDecimal(_ value: Int) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var remaining = value
        for index in stride(from: digits - 1, through: 0, by: -1) {
            out.storeBytes(
                of: UInt8(ascii: "0") + UInt8(remaining % 10), toByteOffset: position + index, as: UInt8.self)
            remaining /= 10
        }
        position += digits
    }
}
