public import ReactorCore

/// Answers HTTP/1.1 requests: the level an HTTP service is written at. ``HTTP1StreamHandler`` decodes the requests
/// (``HTTP1RequestDecoder``) and calls ``onRequest(_:body:state:connection:)`` once per complete request, in order,
/// with the head and the whole body borrowed in place; the handler answers with the response writers on
/// ``ReactorCore/ConnectionContext`` (``ReactorCore/ConnectionContext/writeHTTPResponse(for:status:contentType:body:)-(_,_,_,RawSpan)``
/// and the head/field/body steps), which format straight into the outbound bytes. Pipelined requests are answered
/// in order and their responses leave with one `send` per read batch (RFC 9112 §9.3.2).
///
/// Like ``ReactorCore/StreamHandler``, each loop runs its own copy, so stored properties are per loop.
public protocol HTTP1RequestHandler: Sendable {
    /// Per-connection state, stored inline with the connection.
    associatedtype ConnectionState = Void

    /// A connection opened; returns its state.
    mutating func onOpen(connection: inout ConnectionContext) -> ConnectionState

    /// One request. Write exactly one response for it (final status, not 1xx): the next request's response must
    /// follow it. If the request does not keep the connection alive (``HTTP1RequestHead/keepAlive``) the stream
    /// handler closes the connection once the response is delivered. `body` is empty for a request without one.
    mutating func onRequest(
        _ head: borrowing HTTP1RequestHead, body: RawSpan, state: inout ConnectionState,
        connection: inout ConnectionContext)

    /// The connection closed (`state` is nil if it closed before ``onOpen(connection:)`` returned).
    mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason)
}

extension HTTP1RequestHandler where ConnectionState == Void {
    public mutating func onOpen(connection: inout ConnectionContext) {}
}

extension HTTP1RequestHandler {
    public mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason) {}
}
