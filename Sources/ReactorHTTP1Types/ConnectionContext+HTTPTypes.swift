public import HTTPTypes
public import ReactorCore
public import ReactorHTTP1

extension ConnectionContext {
    /// Writes `response` (swift-http-types) with `body` as the response to `head`'s request. Off the fast path
    /// (every field is read through `HTTPFields`), but nothing is copied into an intermediate buffer: the status
    /// line and fields are formatted straight into the outbound bytes.
    ///
    /// The framing and connection fields are the writer's, as with
    /// ``ReactorHTTP1/HTTP1RequestHead``'s other writers (RFC 9112 §6, §9.3): `Date`, `Content-Length` (from
    /// `body`), `Connection` are written by it, and any `Content-Length`, `Transfer-Encoding`, `Connection`,
    /// `Keep-Alive` or `Date` field in `response` is left out. A `HEAD` request gets no body (RFC 9110 §9.3.2).
    public mutating func writeHTTPResponse(
        _ response: HTTPResponse, for head: borrowing HTTP1RequestHead, body: RawSpan
    ) {
        var reason = response.status.reasonPhrase
        let code = response.status.code
        reason.withUTF8 { reasonBytes in
            writeHTTPResponseHead(
                for: head, code: code, reason: UnsafeRawBufferPointer(reasonBytes), contentLength: body.byteCount,
                endOfHead: false)
        }
        for field in response.headerFields {
            switch field.name {
            case .contentLength, .transferEncoding, .connection, .date: continue
            default: if field.name.canonicalName == "keep-alive" { continue }
            }
            var name = field.name.rawName
            var value = field.value
            name.withUTF8 { nameBytes in
                value.withUTF8 { valueBytes in
                    writeHTTPField(name: UnsafeRawBufferPointer(nameBytes), value: UnsafeRawBufferPointer(valueBytes))
                }
            }
        }
        endHTTPResponseHead()
        writeHTTPBody(for: head, body)
    }
}
