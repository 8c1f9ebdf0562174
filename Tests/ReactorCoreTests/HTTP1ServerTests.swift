import HTTPTypes
import ReactorCore
import ReactorHTTP1
import ReactorHTTP1Types
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP service for the tests: `/plaintext`, `/echo` (the body back), `/trailers` (the trailer fields as
/// the body), `/types` (through swift-http-types' request and response), 404 otherwise.
struct TinyHTTPService: HTTP1RequestHandler {
    func onRequest(
        _ head: borrowing HTTP1RequestHead, body: RawSpan, state: inout Void, connection: inout ConnectionContext
    ) {
        if head.targetIs("/plaintext") {
            connection.writeHTTPResponse(for: head, contentType: "text/plain", body: "Hello, World!")
        } else if head.targetIs("/echo") {
            connection.writeHTTPResponse(for: head, contentType: "application/octet-stream", body: body)
        } else if head.targetIs("/trailers") {
            var text = ""
            for index in 0..<head.trailerCount {
                text += head.withTrailer(at: index) {
                    String(decoding: $0, as: UTF8.self) + "=" + String(decoding: $1, as: UTF8.self) + ";"
                }
            }
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { connection.writeHTTPResponse(for: head, body: RawSpan(_unsafeBytes: $0)) }
        } else if head.targetIs("/types") {
            let request = HTTPRequest(head)
            let text =
                "\(request.method.rawValue) \(request.scheme ?? "-") \(request.authority ?? "-") "
                + "\(request.path ?? "-") \(request.headerFields[HTTPField.Name("X-Test")!] ?? "-")"
            var fields = HTTPFields()
            fields[.contentType] = "text/plain"
            fields[.contentLength] = "999"  // left out: the writer computes it
            fields[HTTPField.Name("X-Reply")!] = "yes"
            let response = HTTPResponse(status: .init(code: 201, reasonPhrase: "Made"), headerFields: fields)
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { connection.writeHTTPResponse(response, for: head, body: RawSpan(_unsafeBytes: $0)) }
        } else {
            connection.writeHTTPResponse(for: head, status: .notFound, body: "")
        }
    }
}

/// A response as the tests read it.
struct HTTPTestResponse {
    var status = 0
    var reason = ""
    var fields: [(name: String, value: String)] = []
    var body: [UInt8] = []

    func field(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

extension TestClient {
    /// Reads one response: the head byte by byte to its empty line, then `Content-Length` body bytes (none when
    /// `hasBody` is false: the answer to HEAD).
    func receiveHTTPResponse(hasBody: Bool = true) throws -> HTTPTestResponse {
        var head: [UInt8] = []
        while !(head.count >= 4 && Array(head.suffix(4)) == Array("\r\n\r\n".utf8)) {
            head += try receive(exactly: 1)
            if head.count > 16384 { throw Failure(description: "response head too long") }
        }
        let lines = String(decoding: head.dropLast(4), as: UTF8.self).split(
            separator: "\r\n", omittingEmptySubsequences: false
        ).map(String.init)
        var response = HTTPTestResponse()
        let statusLine = lines[0].split(separator: " ", maxSplits: 2).map(String.init)
        guard statusLine.count == 3, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
            throw Failure(description: "bad status line \(lines[0])")
        }
        response.status = status
        response.reason = statusLine[2]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
            response.fields.append((parts[0], parts.count > 1 ? parts[1].trimmingPrefixBlank() : ""))
        }
        if hasBody, let length = response.field("Content-Length").flatMap(Int.init), length > 0 {
            response.body = try receive(exactly: length)
        }
        return response
    }
}

extension String {
    fileprivate func trimmingPrefixBlank() -> String { String(drop { $0 == " " }) }
}

extension LoopbackTests {
    @Suite struct HTTP1Server {
        /// The service served through a concrete type (the fast way; see `HTTP1SpecializedHandler`).
        struct TinyServerHandler: HTTP1SpecializedHandler {
            var base = HTTP1StreamHandler(TinyHTTPService())
        }

        /// Runs `body` against the service served generically and through ``TinyServerHandler``.
        static func withEachHandler(_ body: (Int) throws -> Void) throws {
            try withServer(testConfiguration(subReactors: 1), handler: HTTP1StreamHandler(TinyHTTPService())) {
                _, port in try body(port)
            }
            try withServer(testConfiguration(subReactors: 1), handler: TinyServerHandler()) { _, port in
                try body(port)
            }
        }

        static func get(_ target: String, _ extra: String = "") -> [UInt8] {
            Array("GET \(target) HTTP/1.1\r\nHost: test\r\n\(extra)\r\n".utf8)
        }

        static func post(_ target: String, _ body: String) -> [UInt8] {
            Array("POST \(target) HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        }

        @Test func aGetIsAnsweredWithDateAndContentLength() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                try client.send(Self.get("/plaintext"))
                let response = try client.receiveHTTPResponse()
                #expect(response.status == 200 && response.reason == "OK")
                #expect(response.text == "Hello, World!")
                #expect(response.field("Content-Type") == "text/plain")
                #expect(response.field("Content-Length") == "13")
                #expect(response.field("Connection") == nil, "HTTP/1.1 keeps the connection by default")
                let date = try #require(response.field("Date"))
                #expect(date.count == 29 && date.hasSuffix(" GMT"), "IMF-fixdate: \(date)")
                try client.send(Self.get("/nowhere"))
                let missing = try client.receiveHTTPResponse()
                #expect(missing.status == 404 && missing.field("Content-Length") == "0")
            }
        }

        @Test func pipelinedRequestsAreAnsweredInOrder() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                var batch: [UInt8] = []
                for index in 0..<50 {
                    switch index % 3 {
                    case 0: batch += Self.get("/plaintext")
                    case 1: batch += Self.post("/echo", "request \(index)")
                    default:
                        batch += Array(
                            "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnum\r\n\(String(String(index).count, radix: 16))\r\n\(index)\r\n0\r\n\r\n"
                                .utf8)
                    }
                }
                try client.send(batch)
                for index in 0..<50 {
                    let response = try client.receiveHTTPResponse()
                    switch index % 3 {
                    case 0: #expect(response.text == "Hello, World!")
                    case 1: #expect(response.text == "request \(index)")
                    default: #expect(response.text == "num\(index)")
                    }
                }
            }
        }

        @Test func requestsSentByteByByteAreAnsweredOnce() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                let request =
                    Self.post("/echo", "split")
                    + Array(
                        "POST /trailers HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2;e=1\r\nab\r\n0\r\nX-T: 1\r\nX-U: two\r\n\r\n"
                            .utf8)
                for byte in request { try client.send([byte]) }
                #expect(try client.receiveHTTPResponse().text == "split")
                #expect(try client.receiveHTTPResponse().text == "X-T=1;X-U=two;")
            }
        }

        @Test func largeBodiesArriveWhole() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
                // Content-Length: one view of the input.
                try client.send(
                    Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
                #expect(try client.receiveHTTPResponse().body == body)
                // Chunked in 4 KiB chunks: de-chunked into a buffer of its own (over the 64 KiB kept), given back.
                var chunked = Array("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                for start in stride(from: 0, to: body.count, by: 4096) {
                    let end = min(start + 4096, body.count)
                    chunked += Array("\(String(end - start, radix: 16))\r\n".utf8) + body[start..<end] + [13, 10]
                }
                chunked += Array("0\r\n\r\n".utf8)
                try client.send(chunked)
                #expect(try client.receiveHTTPResponse().body == body)
                try client.send(
                    Array(
                        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n".utf8)
                )
                #expect(try client.receiveHTTPResponse().text == "ok")
            }
        }

        @Test func connectionCloseAndHTTP10CloseAfterTheResponse() throws {
            try Self.withEachHandler { port in
                // HTTP/1.1 with `Connection: close`: the response says so, then EOF; a request after it is ignored.
                let client = try TestClient(port: port)
                try client.send(Self.get("/plaintext", "Connection: close\r\n") + Self.get("/plaintext"))
                let response = try client.receiveHTTPResponse()
                #expect(response.field("Connection") == "close" && response.text == "Hello, World!")
                #expect(try client.receiveUntilEndOfStream().isEmpty)
                // HTTP/1.0 without keep-alive: closed after the response.
                let old = try TestClient(port: port)
                try old.send(Array("GET /plaintext HTTP/1.0\r\n\r\n".utf8))
                #expect(try old.receiveHTTPResponse().field("Connection") == "close")
                #expect(try old.receiveUntilEndOfStream().isEmpty)
                // HTTP/1.0 with keep-alive: `Connection: keep-alive` and the connection stays.
                let kept = try TestClient(port: port)
                for _ in 0..<3 {
                    try kept.send(Array("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
                    let reply = try kept.receiveHTTPResponse()
                    #expect(reply.field("Connection") == "keep-alive" && reply.text == "Hello, World!")
                }
            }
        }

        @Test func headGetsTheHeadWithoutTheBody() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                try client.send(Array("HEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\n".utf8) + Self.get("/plaintext"))
                let head = try client.receiveHTTPResponse(hasBody: false)
                #expect(head.status == 200 && head.field("Content-Length") == "13")
                // The next response follows at once: no body bytes were sent for HEAD.
                let next = try client.receiveHTTPResponse()
                #expect(next.text == "Hello, World!")
            }
        }

        @Test func continueIsSentWhenTheClientExpectsIt() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                try client.send(
                    Array("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n".utf8))
                let interim = try client.receiveHTTPResponse(hasBody: false)
                #expect(interim.status == 100)
                try client.send(Array("body".utf8))
                #expect(try client.receiveHTTPResponse().text == "body")
                // A body over the limit gets 413 instead, without 100 Continue, and the connection closes.
                try client.send(
                    Array(
                        "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n".utf8
                    ))
                let refused = try client.receiveHTTPResponse()
                #expect(refused.status == 413 && refused.field("Connection") == "close")
                #expect(try client.receiveUntilEndOfStream().isEmpty)
            }
        }

        @Test func everyRefusalIsAnsweredWithItsStatusThenClosed() throws {
            try withServer(testConfiguration(subReactors: 1), handler: TinyServerHandler()) { _, port in
                for (text, error, status) in HTTP1DecoderTests.refusals {
                    let client = try TestClient(port: port)
                    try client.send(Array(text.utf8))
                    let response = try client.receiveHTTPResponse()
                    #expect(response.status == status, "\(error): \(text.prefix(60).debugDescription)")
                    #expect(response.field("Connection") == "close")
                    #expect(try client.receiveUntilEndOfStream().isEmpty)
                }
            }
        }

        @Test func aRefusalFollowsTheResponsesBeforeIt() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                try client.send(
                    Self.get("/plaintext")
                        + Array(
                            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n".utf8
                        ))
                #expect(try client.receiveHTTPResponse().status == 200)
                #expect(try client.receiveHTTPResponse().status == 400)
                #expect(try client.receiveUntilEndOfStream().isEmpty)
            }
        }

        @Test func aHeadThatNeverCompletesIsClosedByTheReadTimeout() throws {
            // Slowloris: a head trickling in is closed when the request has not completed within the read timeout.
            var configuration = testConfiguration(subReactors: 1)
            configuration.readTimeout = .milliseconds(300)
            try withServer(configuration, handler: TinyServerHandler()) { _, port in
                let client = try TestClient(port: port)
                try client.send(Array("GET /plaintext HTTP/1.1\r\nHost: t\r\n".utf8))
                for _ in 0..<3 {
                    usleep(50_000)
                    try client.send(Array("X: y\r\n".utf8))
                }
                #expect(try client.receiveUntilEndOfStream().isEmpty)
            }
        }

        @Test func swiftHTTPTypesConversions() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                try client.send(Self.get("/types", "X-Test: value\r\n"))
                let response = try client.receiveHTTPResponse()
                #expect(response.status == 201 && response.reason == "Made")
                #expect(response.text == "GET http test /types value")
                #expect(response.field("X-Reply") == "yes" && response.field("Content-Type") == "text/plain")
                #expect(response.field("Content-Length") == String(response.body.count))
                #expect(response.fields.filter { $0.name.lowercased() == "content-length" }.count == 1)
            }
        }
    }
}
