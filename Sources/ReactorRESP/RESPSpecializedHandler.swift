public import ReactorCore

/// A concrete stream handler around a ``RESPStreamHandler``: the fast way to serve a ``RESPCommandHandler``.
///
/// ```swift
/// struct MyServerHandler: RESPSpecializedHandler {
///     var base = RESPStreamHandler(MyStore())
/// }
/// let server = Server(configuration: configuration, handler: MyServerHandler())
/// ```
///
/// Why: the framework's loop is compiled once, generically, and calls its handler through the handler's
/// `StreamHandler` conformance. The conformance of a generic type such as `RESPStreamHandler<MyStore>` runs the
/// generic code, unspecialised (type metadata looked up, values retained and released, every call to your
/// ``RESPCommandHandler/onCommand(_:state:connection:)`` indirect), however it was instantiated. A concrete type
/// declared in your module conforms there, and this protocol's inlinable forwarding (with
/// ``RESPStreamHandler/onRead(_:state:connection:)``, also inlinable) is specialised for your command handler: the
/// decode loop and your `onCommand` compiled together. reactor-redis measured 1.1–1.9× the requests per second at
/// `redis-benchmark -c 50 -P 1` this way. (``ReactorCore/FrameHandler``'s inlinable `onRead` works the same way.)
public protocol RESPSpecializedHandler: StreamHandler
where ConnectionState == RESPStreamHandler<CommandHandler>.ConnectionState {
    /// The command handler served.
    associatedtype CommandHandler: RESPCommandHandler
    /// The state ``RESPStreamHandler`` keeps per connection (yours and the decoder's).
    associatedtype ConnectionState = RESPStreamHandler<CommandHandler>.ConnectionState
    /// The handler every event is forwarded to.
    var base: RESPStreamHandler<CommandHandler> { get set }
}

extension RESPSpecializedHandler {
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
