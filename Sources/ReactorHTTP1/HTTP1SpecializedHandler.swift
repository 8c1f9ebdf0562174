public import ReactorCore

/// A concrete stream handler around an ``HTTP1StreamHandler``: the fast way to serve an ``HTTP1RequestHandler``.
///
/// ```swift
/// struct MyServerHandler: HTTP1SpecializedHandler {
///     var base = HTTP1StreamHandler(MyService())
/// }
/// let server = Server(configuration: configuration, handler: MyServerHandler())
/// ```
///
/// Why: the framework's loop is compiled once, generically, and calls its handler through the handler's
/// `StreamHandler` conformance. The conformance of a generic type such as `HTTP1StreamHandler<MyService>` runs the
/// generic code, unspecialised (type metadata looked up, values retained and released, every call to your
/// ``HTTP1RequestHandler/onRequest(_:body:state:connection:)`` indirect), however it was instantiated. A concrete
/// type declared in your module conforms there, and this protocol's inlinable forwarding (with
/// ``HTTP1StreamHandler/onRead(_:state:connection:)``, also inlinable) is specialised for your handler: the decode
/// loop and your `onRequest` compiled together. (`RESPSpecializedHandler` and ``ReactorCore/FrameHandler`` work the
/// same way.)
public protocol HTTP1SpecializedHandler: StreamHandler
where ConnectionState == HTTP1StreamHandler<RequestHandler>.ConnectionState {
    /// The request handler served.
    associatedtype RequestHandler: HTTP1RequestHandler
    /// The state ``HTTP1StreamHandler`` keeps per connection (yours and the decoder's).
    associatedtype ConnectionState = HTTP1StreamHandler<RequestHandler>.ConnectionState
    /// The handler every event is forwarded to.
    var base: HTTP1StreamHandler<RequestHandler> { get set }
}

extension HTTP1SpecializedHandler {
    @inlinable
    public mutating func onOpen(connection: inout ConnectionContext) -> ConnectionState {
        base.onOpen(connection: &connection)
    }

    @inlinable
    public mutating func onRead(
        _ input: inout InboundBytes, state: inout ConnectionState, connection: inout ConnectionContext
    ) {
        base.onRead(&input, state: &state, connection: &connection)
    }

    @inlinable
    public mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason) {
        base.onClose(id, state: state, reason: reason)
    }
}
