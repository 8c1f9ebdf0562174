public import HTTPTypes
public import ReactorHTTP1

extension HTTPRequest {
    /// The request `head` as swift-http-types' request, for code written against the ecosystem's types. Off the
    /// fast path: it copies every field into `String`s (allocates).
    ///
    /// Pseudo-header fields as RFC 9113 §8.3.1 and swift-nio-extras' HTTP/1 conversion derive them: `:scheme` is
    /// `https` when `secure`, else `http`; `:authority` is the `Host` field (removed from the fields); `:path` the
    /// origin-form or asterisk-form target. An absolute-form target (`http://host/path`, RFC 9112 §3.2.2) gives
    /// scheme, authority and path from the target itself; an authority-form target (`CONNECT host:port`) gives
    /// `:authority` only, without `:scheme` or `:path`. Field values are kept as received (they were checked by the
    /// decoder: no CR, LF, NUL or other controls). Trailer fields are not included (see
    /// ``ReactorHTTP1/HTTP1RequestHead/withTrailer(at:_:)``).
    public init(_ head: borrowing HTTP1RequestHead, secure: Bool = false) {
        let method = Self.string(head.method)
        // A decoded method is a token: swift-http-types accepts every token.
        let requestMethod = HTTPRequest.Method(method) ?? .get
        let target = head.withTarget { String(decoding: $0, as: UTF8.self) }
        var fields = HTTPFields()
        fields.reserveCapacity(head.fieldCount)
        var host: String?
        for index in 0..<head.fieldCount {
            head.withField(at: index) { name, value in
                let nameText = String(decoding: name, as: UTF8.self)
                // A decoded field name is a token: swift-http-types accepts every token.
                guard let fieldName = HTTPField.Name(nameText) else { return }
                if fieldName.canonicalName == "host" && host == nil {
                    host = String(decoding: value, as: UTF8.self)
                    return
                }
                fields.append(HTTPField(name: fieldName, lenientValue: value))
            }
        }
        var scheme: String? = secure ? "https" : "http"
        var authority = host
        var path: String? = target
        if requestMethod == .connect {
            scheme = nil
            authority = target
            path = nil
        } else if !target.hasPrefix("/"), let colon = target.firstIndex(of: ":"),
            target[colon...].hasPrefix("://")
        {
            scheme = String(target[..<colon])
            let rest = target[target.index(colon, offsetBy: 3)...]
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            authority = String(rest[..<slash])
            path = slash == rest.endIndex ? "/" : String(rest[slash...])
        }
        self.init(method: requestMethod, scheme: scheme, authority: authority, path: path, headerFields: fields)
    }

    private static func string(_ bytes: RawSpan) -> String {
        bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}
