/// A request the server refuses. Each case names what was wrong and maps to the status it is answered with
/// (``status``); the answer always carries `Connection: close` and the connection then closes gracefully, since
/// after a framing error the next request's start cannot be known (RFC 9112 §9.3, §11.2).
public enum HTTP1RequestError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The request line is not `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3). 400.
    case malformedRequestLine
    /// A request line without a version (HTTP/0.9, `GET /`), or a version other than 1.0 and 1.1 (`HTTP/2.0`,
    /// the HTTP/2 preface `PRI * HTTP/2.0`) (RFC 9112 §2.3). 505.
    case unsupportedVersion
    /// A line ending in a bare LF or a CR not followed by LF (RFC 9112 §2.2: this decoder is strict). 400.
    case bareLineFeedOrCarriageReturn
    /// A header or trailer line that is not `field-name ":" OWS field-value OWS` (RFC 9112 §5). 400.
    case malformedField
    /// Whitespace between a field name and its colon (RFC 9112 §5.1: MUST be rejected with 400).
    case whitespaceBeforeColon
    /// A field line starting with SP or HTAB: obsolete line folding (RFC 9112 §5.2), refused with 400.
    case obsoleteLineFolding
    /// A field value with NUL, CR, LF or another control character but HTAB (RFC 9110 §5.5). 400.
    case invalidFieldValue
    /// An HTTP/1.1 request with no `Host` or more than one (RFC 9112 §3.2). 400.
    case missingOrDuplicateHost
    /// A `Content-Length` that is not a decimal number, overflows, or differs from another one (RFC 9112 §6.3,
    /// RFC 9110 §8.6). 400.
    case invalidContentLength
    /// Both `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.1: a smuggling vector; refused). 400.
    case contentLengthWithTransferEncoding
    /// `Transfer-Encoding` whose last coding is not `chunked` while `chunked` appears, `chunked` twice, or a
    /// `Transfer-Encoding` in an HTTP/1.0 request (RFC 9112 §6.1, §6.3). 400.
    case chunkedNotLast
    /// A transfer coding other than `chunked` (`gzip`, `deflate`, unknown ones): not decoded here (RFC 9112 §6.1).
    /// 501.
    case unsupportedTransferCoding
    /// A chunk-size line that is not hex digits (optionally followed by chunk extensions), overflows, is longer
    /// than ``HTTP1RequestDecoder/maxChunkLineLength``, or chunk data not followed by CRLF (RFC 9112 §7.1). 400.
    case malformedChunk
    /// An `Expect` other than `100-continue` (RFC 9110 §10.1.1). 417.
    case unsupportedExpectation
    /// The request line is longer than ``HTTP1RequestDecoder/maxRequestLineLength`` (RFC 9112 §3). 414.
    case requestLineTooLong
    /// The header section (request line included), or a trailer section, is longer than
    /// ``HTTP1RequestDecoder/maxHeaderSectionLength``, or has more than ``HTTP1RequestDecoder/maxFieldCount``
    /// fields (RFC 6585 §5). 431.
    case headerSectionTooLarge
    /// The body (declared by `Content-Length`, or the chunks received so far) is longer than
    /// ``HTTP1RequestDecoder/maxBodyLength`` (RFC 9110 §15.5.14). 413.
    case bodyTooLarge

    /// The status the request is answered with.
    public var status: HTTP1Status {
        switch self {
        case .unsupportedVersion: return .httpVersionNotSupported
        case .unsupportedTransferCoding: return .notImplemented
        case .unsupportedExpectation: return .expectationFailed
        case .requestLineTooLong: return .uriTooLong
        case .headerSectionTooLarge: return .requestHeaderFieldsTooLarge
        case .bodyTooLarge: return .contentTooLarge
        default: return .badRequest
        }
    }

    public var description: String {
        switch self {
        case .malformedRequestLine: return "malformed request line"
        case .unsupportedVersion: return "unsupported HTTP version"
        case .bareLineFeedOrCarriageReturn: return "bare LF or CR"
        case .malformedField: return "malformed field line"
        case .whitespaceBeforeColon: return "whitespace before a field's colon"
        case .obsoleteLineFolding: return "obsolete line folding"
        case .invalidFieldValue: return "invalid byte in a field value"
        case .missingOrDuplicateHost: return "missing or duplicate Host"
        case .invalidContentLength: return "invalid Content-Length"
        case .contentLengthWithTransferEncoding: return "Content-Length with Transfer-Encoding"
        case .chunkedNotLast: return "chunked is not the final transfer coding"
        case .unsupportedTransferCoding: return "unsupported transfer coding"
        case .malformedChunk: return "malformed chunk"
        case .unsupportedExpectation: return "unsupported expectation"
        case .requestLineTooLong: return "request line too long"
        case .headerSectionTooLarge: return "header section too large"
        case .bodyTooLarge: return "body too large"
        }
    }
}
