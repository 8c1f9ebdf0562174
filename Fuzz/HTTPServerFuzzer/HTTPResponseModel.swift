import FuzzSupport
import ReactorHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// The `Connection` field a response carries.
enum ConnectionField: Equatable {
    /// None: an HTTP/1.1 request that keeps the connection alive.
    case none
    /// `Connection: close`: the request does not keep the connection alive, or it was refused.
    case close
    /// `Connection: keep-alive`: an HTTP/1.0 request that asked to keep it alive.
    case keepAlive
}

/// One final response the server must write, as the endpoints (`HTTPBenchmarkEndpoints`) answer a request.
struct ExpectedResponse {
    /// What the body is.
    enum Body: Equatable {
        case plaintext
        case json
        case notFound
        case methodNotAllowed
        /// The request's body: a range of the store the expectation was made with.
        case echo(Range<Int>)
    }

    var status: Int
    var body: Body
    /// A response to `HEAD`: the head of the response to `GET` (its `Content-Length` too), no body.
    var isHEAD: Bool
    var connection: ConnectionField
    /// The request asked `Expect: 100-continue` (HTTP/1.1, with a body): a `100 Continue` may come before.
    var continueAllowed: Bool

    /// The endpoints' answer to `method` on `target` (the reference model of `HTTPBenchmarkEndpoints`): `GET` or
    /// `HEAD` on `/plaintext` and `/json`, `POST` on `/echo` (the body, of `bodyCount` bytes at `bodyStart`), 405
    /// for another method on those paths, 404 for any other target.
    init(
        get: Bool, head: Bool, post: Bool, target: Target, echo: Range<Int>, connection: ConnectionField,
        continueAllowed: Bool
    ) {
        let readOnly = get || head
        switch target {
        case .plaintext: (status, body) = readOnly ? (200, .plaintext) : (405, .methodNotAllowed)
        case .json: (status, body) = readOnly ? (200, .json) : (405, .methodNotAllowed)
        case .echo: (status, body) = post ? (200, .echo(echo)) : (405, .methodNotAllowed)
        case .other: (status, body) = (404, .notFound)
        }
        isHEAD = head
        self.connection = connection
        self.continueAllowed = continueAllowed
    }

    /// The targets the endpoints tell apart (exact bytes, no decoding).
    enum Target {
        case plaintext, json, echo, other
    }

    static let plaintextBody: [UInt8] = Array("Hello, World!".utf8)
    static let jsonBody: [UInt8] = Array(#"{"message":"Hello, World!"}"#.utf8)
    static let notFoundBody: [UInt8] = Array("Not Found".utf8)
    static let methodNotAllowedBody: [UInt8] = Array("Method Not Allowed".utf8)
    static let textPlain: [UInt8] = Array("text/plain".utf8)
    static let applicationJSON: [UInt8] = Array("application/json".utf8)
    static let octetStream: [UInt8] = Array("application/octet-stream".utf8)

    /// The body bytes (`store` holds echoed bodies), whether or not they are sent (`HEAD`).
    func bodyBytes<Result>(in store: [UInt8], _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch self.body {
        case .plaintext: return Self.plaintextBody.withUnsafeBytes(body)
        case .json: return Self.jsonBody.withUnsafeBytes(body)
        case .notFound: return Self.notFoundBody.withUnsafeBytes(body)
        case .methodNotAllowed: return Self.methodNotAllowedBody.withUnsafeBytes(body)
        case .echo(let range): return store.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
    }

    /// The `Content-Type` it carries.
    var contentType: [UInt8] {
        switch body {
        case .plaintext, .notFound, .methodNotAllowed: return Self.textPlain
        case .json: return Self.applicationJSON
        case .echo: return Self.octetStream
        }
    }

    /// Whether it carries `Server: reactor-http` (the 200s of `/plaintext` and `/json`).
    var hasServerField: Bool { body == .plaintext || body == .json }

    /// Whether `self` (bodies in `store`) and `other` (bodies in `otherStore`) are the same response.
    func same(as other: ExpectedResponse, store: [UInt8], otherStore: [UInt8]) -> Bool {
        guard status == other.status, isHEAD == other.isHEAD, connection == other.connection,
            continueAllowed == other.continueAllowed
        else { return false }
        switch (body, other.body) {
        case (.echo, .echo):
            return bodyBytes(in: store) { mine in other.bodyBytes(in: otherStore) { sameBytes(mine, $0) } }
        default:
            return body == other.body
        }
    }
}

/// How the server must leave the connection after its last final response.
enum ExpectedEnding: Equatable {
    /// Still open when the client ends its stream: `leftover` bytes of an unfinished request are buffered
    /// (`peerClosed` for none, else `truncatedFrame`); a `100 Continue` may come for it if it asked for one.
    case open(leftover: Int, continueAllowed: Bool)
    /// The last request did not keep the connection alive: its response carries `Connection: close`, then the
    /// server closes (`closedByHandler`).
    case closedAfterResponse
    /// The next request is refused with `status`, `Connection: close` and an empty body, then the server closes
    /// (`decodingFailed(.malformedMessage)`); a `100 Continue` may come before the refusal if the request's head
    /// was accepted with `Expect: 100-continue` and the refusal came with its body.
    case refused(status: Int, continueAllowed: Bool)

    /// Whether the server closes before the client's end of stream.
    var serverCloses: Bool {
        if case .open = self { return false }
        return true
    }
}

/// What the server must write for a whole stream: its final responses in order, then its ending.
struct ExpectedConversation {
    var responses: [ExpectedResponse] = []
    /// Where each answered request ends in the stream.
    var ends: [Int] = []
    var ending = ExpectedEnding.open(leftover: 0, continueAllowed: false)
    /// The echoed request bodies (`ExpectedResponse.Body.echo` ranges point here).
    var bodies: [UInt8] = []

    mutating func reset() {
        responses.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        bodies.removeAll(keepingCapacity: true)
        ending = .open(leftover: 0, continueAllowed: false)
    }
}

extension ExpectedConversation {
    /// The stream as the server's decoder reads it, whole (`HTTP1RequestDecoder` with a fresh progress per request,
    /// which its contract says answers the same as the progress kept across pieces; HTTP1RequestDecoderFuzzer checks
    /// that), each request answered by the reference model of the endpoints.
    mutating func decode(
        _ stream: UnsafeRawBufferPointer, decoder: HTTP1RequestDecoder, request: HTTP1DecodedRequest
    ) {
        reset()
        var offset = 0
        while offset < stream.count {
            var progress = HTTP1RequestDecoder.Progress()
            let rest = UnsafeRawBufferPointer(rebasing: stream[offset...])
            let step: HTTP1RequestDecoder.Step
            do throws(HTTP1RequestError) {
                step = try decoder.decode(rest, into: request, progress: &progress)
            } catch {
                ending = .refused(
                    status: error.status.code,
                    continueAllowed: Self.headAsksContinue(rest, decoder: decoder, request: request))
                return
            }
            switch step {
            case .request(let consumed):
                offset += consumed
                ends.append(offset)
                let response = expectedResponse(to: request)
                responses.append(response)
                if response.connection == .close {
                    ending = .closedAfterResponse
                    return
                }
            case .skip(let consumed):
                offset += consumed
            case .needMoreInput:
                ending = .open(leftover: stream.count - offset, continueAllowed: progress.expectsContinue)
                return
            }
        }
    }

    private mutating func expectedResponse(to request: HTTP1DecodedRequest) -> ExpectedResponse {
        let echo = bodies.count..<(bodies.count + request.bodyBytes.count)
        bodies.append(contentsOf: request.bodyBytes)
        return request.withHead { head in
            let target: ExpectedResponse.Target =
                head.targetIs("/plaintext")
                ? .plaintext : head.targetIs("/json") ? .json : head.targetIs("/echo") ? .echo : .other
            return ExpectedResponse(
                get: head.methodIs("GET"), head: head.methodIs("HEAD"), post: head.methodIs("POST"), target: target,
                echo: echo,
                connection: head.keepAlive ? (head.version == .http10 ? .keepAlive : .none) : .close,
                continueAllowed: head.expectsContinue)
        }
    }

    /// One past the first empty line (`\r\n\r\n`) in `bytes`, or nil.
    private static func headEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var position = 0
        while position + 4 <= bytes.count, let found = memchr(base + position, 0x0D, bytes.count - position - 3) {
            let cr = UnsafeRawPointer(found) - base
            if bytes[cr + 1] == 0x0A && bytes[cr + 2] == 0x0D && bytes[cr + 3] == 0x0A { return cr + 4 }
            position = cr + 1
        }
        return nil
    }

    /// Whether the head at the start of `bytes` (up to its first empty line) is accepted with
    /// `Expect: 100-continue`: then the server may have sent `100 Continue` before refusing the body.
    private static func headAsksContinue(
        _ bytes: UnsafeRawBufferPointer, decoder: HTTP1RequestDecoder, request: HTTP1DecodedRequest
    ) -> Bool {
        guard let headEnd = headEnd(bytes) else { return false }
        var progress = HTTP1RequestDecoder.Progress()
        do throws(HTTP1RequestError) {
            guard
                case .needMoreInput = try decoder.decode(
                    UnsafeRawBufferPointer(rebasing: bytes[..<headEnd]), into: request, progress: &progress)
            else { return false }
            return progress.expectsContinue
        } catch {
            return false
        }
    }
}
