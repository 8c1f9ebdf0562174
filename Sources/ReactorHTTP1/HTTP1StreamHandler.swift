public import ReactorCore

/// The ``ReactorCore/StreamHandler`` that speaks HTTP/1.1 (RFC 9112): decodes every complete request in the
/// inbound bytes and hands each, head and whole body, to an ``HTTP1RequestHandler``, in order; refuses bad input
/// with its status (``HTTP1RequestError/status``), `Connection: close`, then a graceful close once the responses
/// before it and that one are delivered.
///
/// ```swift
/// let server = Server(configuration: .init(port: 8080), handler: HTTP1StreamHandler(MyService()))
/// ```
///
/// For speed, serve it through a concrete type of your own that conforms to ``HTTP1SpecializedHandler``
/// (`struct MyServerHandler: HTTP1SpecializedHandler { var base = HTTP1StreamHandler(MyService()) }`): the loop
/// calls a generic handler's conformance unspecialised, a concrete one's specialised for your service.
///
/// Bodies: the handler gets the whole body at once. A `Content-Length` body is a view into the inbound bytes; a
/// chunked body is de-chunked into a per-loop buffer (``HTTP1DecodedRequest``) once its last chunk and trailers
/// arrived (kept for bodies up to 64 KiB, allocated for the request for a larger one). Bodies are not streamed: one over ``HTTP1RequestDecoder/maxBodyLength`` is refused with 413 (declared:
/// before any of it is read; chunked: as soon as the chunks pass the limit), and a whole request must fit in
/// ``ReactorCore/ConnectionLimits/maxBufferedInput`` (or the connection closes without a response). While a body
/// arrives the loop is told how many bytes it needs (``ReactorCore/InboundBytes/expect(atLeast:)``), so it is not
/// rescanned. `Expect: 100-continue` is answered with `100 Continue` as soon as the head is complete and accepted
/// (the body is within the limit); the handler is not consulted (RFC 9110 §10.1.1 lets a server send it anyway).
///
/// A request whose head never completes is closed by ``ReactorCore/ConnectionLimits/readTimeout`` (slowloris).
/// Input that ends in the middle of a request closes the connection without a response.
public struct HTTP1StreamHandler<Handler: HTTP1RequestHandler>: StreamHandler, @unchecked Sendable {
    // @unchecked: `request` is created lazily by each loop's own copy of this handler (loops copy the handler
    // before any call), so no instance is ever shared between threads.

    /// A connection's state: the request handler's own, and how far the request still arriving was decoded.
    public struct ConnectionState {
        /// The ``HTTP1RequestHandler``'s state for the connection.
        public var handlerState: Handler.ConnectionState
        /// The decoder's resume point in a request that has not completely arrived.
        @usableFromInline var progress = HTTP1RequestDecoder.Progress()

        @usableFromInline
        init(handlerState: Handler.ConnectionState) {
            self.handlerState = handlerState
        }
    }

    /// The handler requests go to (this loop's copy).
    public var handler: Handler
    /// The request decoder and its limits.
    public var decoder: HTTP1RequestDecoder
    @usableFromInline var request: HTTP1DecodedRequest?

    /// Serves `handler` with `decoder`'s limits (nginx-like by default).
    public init(_ handler: Handler, decoder: HTTP1RequestDecoder = HTTP1RequestDecoder()) {
        self.handler = handler
        self.decoder = decoder
    }

    public mutating func onOpen(connection: inout ConnectionContext) -> ConnectionState {
        ConnectionState(handlerState: handler.onOpen(connection: &connection))
    }

    // Inlinable so that a handler in another module gets a specialised copy (no generic dispatch per request).
    @inlinable
    public mutating func onRead(
        _ input: inout InboundBytes, state: inout ConnectionState, connection: inout ConnectionContext
    ) {
        let request = self.request ?? makeRequest()
        var offset = 0
        var needed = 0
        input.withUnsafeBytes { bytes in
            while offset < bytes.count && connection.acceptsWrites {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                let step: HTTP1RequestDecoder.Step
                do throws(HTTP1RequestError) {
                    step = try decoder.decode(rest, into: request, progress: &state.progress)
                } catch {
                    Self.refuse(error, request: request, connection: &connection)
                    offset = bytes.count
                    return
                }
                switch step {
                case .request(let consumed):
                    let body = RawSpan(_unsafeBytes: request.bodyBytes)
                    handler.onRequest(
                        HTTP1RequestHead(request: request), body: body, state: &state.handlerState,
                        connection: &connection)
                    offset += consumed
                    if !request.keepAlive {
                        // RFC 9112 §9.6: nothing after a request with `close` is processed.
                        connection.close()
                        offset = bytes.count
                        return
                    }
                case .skip(let consumed):
                    offset += consumed
                case .needMoreInput(let atLeast):
                    if state.progress.expectsContinue && !state.progress.continueSent {
                        state.progress.continueSent = true
                        connection.writeHTTPContinue()
                    }
                    needed = atLeast
                    return
                }
            }
        }
        input.consume(offset)
        if needed > 0 { input.expect(atLeast: needed) }
        request.releaseExcessCapacity()
    }

    public mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason) {
        handler.onClose(id, state: state?.handlerState, reason: reason)
    }

    @usableFromInline
    mutating func makeRequest() -> HTTP1DecodedRequest {
        let request = HTTP1DecodedRequest()
        self.request = request
        return request
    }

    /// Answers `error` with its status and `Connection: close`, then closes gracefully.
    @usableFromInline
    static func refuse(_ error: HTTP1RequestError, request: HTTP1DecodedRequest, connection: inout ConnectionContext) {
        connection.writeHTTPRefusal(error.status, date: request.date)
        connection.close(dueTo: .malformedMessage("HTTP/1.1: \(error.description)"))
    }
}
