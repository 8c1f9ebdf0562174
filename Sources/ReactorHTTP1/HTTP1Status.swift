/// A response status: its code and the reason phrase written after it in the status line (RFC 9112 §4,
/// RFC 9110 §15). A plain value; the common ones are static members.
public struct HTTP1Status: Hashable, Sendable {
    /// The three-digit status code (100...999).
    public var code: Int
    /// The reason phrase (ASCII, no CR or LF).
    public var reason: StaticString

    /// A status `code` (100...999) with `reason`.
    public init(code: Int, reason: StaticString) {
        precondition(code >= 100 && code <= 999, "status codes have three digits")
        self.code = code
        self.reason = reason
    }

    /// Two statuses are equal when their codes are (the reason phrase is only text).
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
    }

    /// 100 Continue (RFC 9110 §15.2.1).
    public static let `continue` = Self(code: 100, reason: "Continue")
    /// 200 OK.
    public static let ok = Self(code: 200, reason: "OK")
    /// 201 Created.
    public static let created = Self(code: 201, reason: "Created")
    /// 204 No Content.
    public static let noContent = Self(code: 204, reason: "No Content")
    /// 400 Bad Request (RFC 9110 §15.5.1).
    public static let badRequest = Self(code: 400, reason: "Bad Request")
    /// 404 Not Found.
    public static let notFound = Self(code: 404, reason: "Not Found")
    /// 405 Method Not Allowed.
    public static let methodNotAllowed = Self(code: 405, reason: "Method Not Allowed")
    /// 413 Content Too Large (RFC 9110 §15.5.14).
    public static let contentTooLarge = Self(code: 413, reason: "Content Too Large")
    /// 414 URI Too Long (RFC 9110 §15.5.15).
    public static let uriTooLong = Self(code: 414, reason: "URI Too Long")
    /// 417 Expectation Failed (RFC 9110 §15.5.18).
    public static let expectationFailed = Self(code: 417, reason: "Expectation Failed")
    /// 431 Request Header Fields Too Large (RFC 6585 §5).
    public static let requestHeaderFieldsTooLarge = Self(code: 431, reason: "Request Header Fields Too Large")
    /// 500 Internal Server Error.
    public static let internalServerError = Self(code: 500, reason: "Internal Server Error")
    /// 501 Not Implemented (RFC 9110 §15.6.2).
    public static let notImplemented = Self(code: 501, reason: "Not Implemented")
    /// 505 HTTP Version Not Supported (RFC 9110 §15.6.6).
    public static let httpVersionNotSupported = Self(code: 505, reason: "HTTP Version Not Supported")
}
