public import ReactorCore
public import ReactorHTTP1

/// TechEmpower's plaintext and JSON endpoints plus an echo, as `reactor-http` serves them; a library so that the
/// allocation gate (`Benchmarks/`) and the whole-server fuzz target (`Fuzz/`) run exactly this code.
///
/// - `GET /plaintext` → `Hello, World!` as `text/plain`, and `GET /json` → `{"message":"Hello, World!"}` as
///   `application/json`, each with a `Server` field, as TechEmpower's test requirements specify (the `Date` and
///   `Content-Length` fields come from the response writer).
/// - `POST /echo` → the request body as `application/octet-stream` (any length up to the decoder's body limit,
///   chunked or not).
/// - `405 Method Not Allowed` for another method on one of those paths, `404 Not Found` otherwise.
///
/// `HEAD` is answered like `GET`, without the body (RFC 9110 §9.3.2). Nothing is allocated per request.
public struct HTTPBenchmarkEndpoints: HTTP1RequestHandler {
    public init() {}

    public func onRequest(
        _ head: borrowing HTTP1RequestHead, body: RawSpan, state: inout Void, connection: inout ConnectionContext
    ) {
        let readOnly = head.methodIs("GET") || head.isHEAD
        if head.targetIs("/plaintext") {
            guard readOnly else { return refuse(head, &connection) }
            respond(to: head, contentType: "text/plain", body: "Hello, World!", &connection)
        } else if head.targetIs("/json") {
            guard readOnly else { return refuse(head, &connection) }
            respond(to: head, contentType: "application/json", body: #"{"message":"Hello, World!"}"#, &connection)
        } else if head.targetIs("/echo") {
            guard head.methodIs("POST") else { return refuse(head, &connection) }
            connection.writeHTTPResponse(for: head, contentType: "application/octet-stream", body: body)
        } else {
            connection.writeHTTPResponse(for: head, status: .notFound, contentType: "text/plain", body: "Not Found")
        }
    }

    /// A 200 with the `Server` field TechEmpower asks for: the standard head left open, the field and the blank
    /// line as one literal, then the body.
    @inline(__always)
    private func respond(
        to head: borrowing HTTP1RequestHead, contentType: StaticString, body: StaticString,
        _ connection: inout ConnectionContext
    ) {
        connection.writeHTTPResponseHead(
            for: head, status: .ok, contentLength: body.utf8CodeUnitCount, contentType: contentType, endOfHead: false)
        connection.write("Server: reactor-http\r\n\r\n")
        if !head.isHEAD { connection.write(body) }
    }

    private func refuse(_ head: borrowing HTTP1RequestHead, _ connection: inout ConnectionContext) {
        connection.writeHTTPResponse(
            for: head, status: .methodNotAllowed, contentType: "text/plain", body: "Method Not Allowed")
    }
}

/// ``HTTPBenchmarkEndpoints`` served through a concrete type, so the decode loop and the endpoints are specialised
/// together (see `HTTP1SpecializedHandler`). Give it to `Server(configuration:handler:)`.
public struct HTTPBenchmarkServer: HTTP1SpecializedHandler {
    public var base: HTTP1StreamHandler<HTTPBenchmarkEndpoints>

    /// - Parameter decoder: the request decoder, with its limits (request line, header section, body).
    public init(decoder: HTTP1RequestDecoder = HTTP1RequestDecoder()) {
        base = HTTP1StreamHandler(HTTPBenchmarkEndpoints(), decoder: decoder)
    }
}
