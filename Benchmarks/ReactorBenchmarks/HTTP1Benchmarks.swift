import Benchmark
import ReactorCore
import ReactorHTTP1
import ReactorHTTPEndpoints

/// The requests the HTTP/1.1 benchmarks send, cycling through the first `kinds` of: `GET /plaintext` with the
/// fields wrk sends, `POST /echo` with a 64-byte `Content-Length` body, and `POST /echo` with the same body in two
/// chunks and a trailer field. `payload` is the body.
func http1Request(_ index: Int, _ payload: [UInt8], kinds: Int = 3) -> [UInt8] {
    switch index % kinds {
    case 0:
        return Array("GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n".utf8)
    case 1:
        return Array("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(payload.count)\r\n\r\n".utf8)
            + payload
    default:
        return Array("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n".utf8)
            + payload[..<32] + Array("\r\n20;ext=1\r\n".utf8) + payload[32...] + Array("\r\n0\r\nX-Sum: 1\r\n\r\n".utf8)
    }
}

/// What ``TinyHTTP1Handler`` answers to ``http1Request(_:_:kinds:)``; the `Date` value is 29 NUL bytes (the
/// wildcard: it changes every second).
func http1Reply(_ index: Int, _ payload: [UInt8]) -> [UInt8] {
    let date = Array("Date: ".utf8) + [UInt8](repeating: 0, count: 29)
    switch index % 3 {
    case 0:
        return Array("HTTP/1.1 200 OK\r\n".utf8) + date
            + Array("\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!".utf8)
    default:
        return Array("HTTP/1.1 200 OK\r\n".utf8) + date
            + Array("\r\nContent-Length: \(payload.count)\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            + payload
    }
}

/// `/plaintext` → `Hello, World!`, `/echo` → the body, anything else 404, through the response writers: a request
/// costs no allocation of its own, so whatever the benchmark counts is the framework's.
struct TinyHTTP1Handler: HTTP1RequestHandler {
    func onRequest(
        _ head: borrowing HTTP1RequestHead, body: RawSpan, state: inout Void, connection: inout ConnectionContext
    ) {
        if head.targetIs("/plaintext") {
            connection.writeHTTPResponse(for: head, contentType: "text/plain", body: "Hello, World!")
        } else if head.targetIs("/echo") {
            connection.writeHTTPResponse(for: head, contentType: "application/octet-stream", body: body)
        } else {
            connection.writeHTTPResponse(for: head, status: .notFound, body: "")
        }
    }
}

/// The tiny handler served the fast way (a concrete type: specialised).
struct TinyHTTP1ServerHandler: HTTP1SpecializedHandler {
    var base = HTTP1StreamHandler(TinyHTTP1Handler())
}

func registerHTTP1Benchmarks() {
    // One iteration: decode 32 pipelined requests (the three kinds in turn, 64-byte bodies) in place, with one
    // HTTP1DecodedRequest reused throughout, as a loop reuses its own; every body byte and field is touched.
    var wire: [UInt8] = []
    for index in 0..<32 {
        wire += http1Request(index, (0..<64).map { UInt8(truncatingIfNeeded: 0x21 + (index &* 31 &+ $0) % 0x5E) })
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: wire.count, alignment: 64)
    buffer.copyBytes(from: wire)
    let decoder = HTTP1RequestDecoder()
    let request = HTTP1DecodedRequest()
    Benchmark("HTTP1Decode.in-place", configuration: configuration(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            var offset = 0
            var requests = 0
            var touched = 0
            var progress = HTTP1RequestDecoder.Progress()
            while offset < buffer.count {
                let step: HTTP1RequestDecoder.Step
                do throws(HTTP1RequestError) {
                    step = try decoder.decode(
                        UnsafeRawBufferPointer(rebasing: buffer[offset...]), into: request, progress: &progress)
                } catch {
                    preconditionFailure("decoding failed: \(error)")
                }
                guard case .request(let consumed) = step else { preconditionFailure("incomplete: \(step)") }
                requests += 1
                for byte in request.bodyBytes { touched &+= Int(byte) }
                touched &+= request.withHead { head in head.fieldCount + head.trailerCount }
                offset += consumed
            }
            precondition(requests == 32, "decoded \(requests) requests")
            blackHole(touched)
        }
    }

    // A real Server running the specialised TinyHTTP1ServerHandler on 127.0.0.1: one request per exchange, 32
    // pipelined, and 32 with every send cut in the middle of a GET's head (the server keeps a partial head, resumes
    // its scan where it stopped). Every response byte but the Date value is checked.
    registerEcho(
        "HTTP1.", straddling: true, handler: { TinyHTTP1ServerHandler() },
        encode: { index, payload in http1Request(index, payload) }, reply: http1Reply, wildcard: 0)

    // reactor-http's own endpoints (HTTPBenchmarkEndpoints, served as HTTPBenchmarkServer): GET /plaintext and
    // GET /json in turn, with the fields wrk sends; each response checked byte for byte but the Date value.
    registerEcho(
        "HTTPEndpoints.", handler: { HTTPBenchmarkServer() }, encode: { index, _ in endpointsRequest(index) },
        reply: { index, _ in endpointsReply(index) }, wildcard: 0)
}

/// Request `index` of the `HTTPEndpoints.` exchanges: GET /plaintext and GET /json in turn, as wrk sends them.
func endpointsRequest(_ index: Int) -> [UInt8] {
    Array("GET /\(index % 2 == 0 ? "plaintext" : "json") HTTP/1.1\r\nHost: localhost:8080\r\n\r\n".utf8)
}

/// reactor-http's answer to ``endpointsRequest(_:)``, with a 0 (the wildcard) for each byte of the `Date` value.
func endpointsReply(_ index: Int) -> [UInt8] {
    let body = index % 2 == 0 ? "Hello, World!" : #"{"message":"Hello, World!"}"#
    let type = index % 2 == 0 ? "text/plain" : "application/json"
    return Array("HTTP/1.1 200 OK\r\nDate: ".utf8) + [UInt8](repeating: 0, count: 29)
        + Array("\r\nContent-Length: \(body.utf8.count)\r\nContent-Type: \(type)\r\n".utf8)
        + Array("Server: reactor-http\r\n\r\n\(body)".utf8)
}
