import ReactorCore
import ReactorHTTP1

/// The endpoints: `GET /plaintext` → `Hello, World!` (`text/plain`, as TechEmpower specifies), `GET /json` →
/// `{"message":"Hello, World!"}` (`application/json`), `POST /echo` → the request body, 404 otherwise (405 for
/// another method on a known path). HEAD is answered like GET, without the body. Nothing is allocated per request.
struct BenchmarkEndpoints: HTTP1RequestHandler {
    func onRequest(
        _ head: borrowing HTTP1RequestHead, body: RawSpan, state: inout Void, connection: inout ConnectionContext
    ) {
        let readOnly = head.methodIs("GET") || head.isHEAD
        if head.targetIs("/plaintext") {
            guard readOnly else { return refuse(head, &connection) }
            connection.writeHTTPResponse(for: head, contentType: "text/plain", body: "Hello, World!")
        } else if head.targetIs("/json") {
            guard readOnly else { return refuse(head, &connection) }
            connection.writeHTTPResponse(
                for: head, contentType: "application/json", body: #"{"message":"Hello, World!"}"#)
        } else if head.targetIs("/echo") {
            guard head.methodIs("POST") else { return refuse(head, &connection) }
            connection.writeHTTPResponse(for: head, contentType: "application/octet-stream", body: body)
        } else {
            connection.writeHTTPResponse(for: head, status: .notFound, contentType: "text/plain", body: "Not Found")
        }
    }

    private func refuse(_ head: borrowing HTTP1RequestHead, _ connection: inout ConnectionContext) {
        connection.writeHTTPResponse(
            for: head, status: .methodNotAllowed, contentType: "text/plain", body: "Method Not Allowed")
    }
}

/// The endpoints served through a concrete type, so the decode loop and ``BenchmarkEndpoints`` are specialised
/// together (see `HTTP1SpecializedHandler`).
struct BenchmarkHTTPServer: HTTP1SpecializedHandler {
    var base: HTTP1StreamHandler<BenchmarkEndpoints>

    init(decoder: HTTP1RequestDecoder) {
        base = HTTP1StreamHandler(BenchmarkEndpoints(), decoder: decoder)
    }
}
