public import ReactorCore

/// The ``StreamHandler`` that speaks RESP: decodes every complete request in the inbound bytes and hands each to a
/// ``RESPCommandHandler``; answers malformed input with redis's own `-ERR Protocol error: …` reply, then closes
/// the connection once the replies before it and that one are delivered (redis's `CLIENT_CLOSE_AFTER_REPLY`).
///
/// ```swift
/// let server = Server(configuration: .init(port: 6379), handler: RESPStreamHandler(MyStore()))
/// ```
///
/// For speed, serve it through a concrete type of your own that conforms to ``RESPSpecializedHandler``
/// (`struct MyServerHandler: RESPSpecializedHandler { var base = RESPStreamHandler(MyStore()) }`): the loop calls a
/// generic handler's conformance unspecialised, a concrete one's specialised for your store.
///
/// A request is decoded in place; nothing is allocated per request once the loop's ``RESPArguments`` has grown to
/// the largest request seen. A request that is not complete yet tells the loop how many bytes it needs
/// (``ReactorCore/InboundBytes/expect(atLeast:)``), so a large bulk string is not re-scanned as it arrives. A request
/// must fit in ``ReactorCore/ConnectionLimits/maxBufferedInput``: a longer one closes the connection with
/// ``ReactorCore/CloseReason/bufferedInputTooLarge(bufferedBytes:limit:)`` (redis closes a client over its
/// `client-query-buffer-limit` without a reply too), and a bulk length over ``RESPRequestDecoder/maxBulkLength``
/// gets `-ERR Protocol error: invalid bulk length`.
public struct RESPStreamHandler<Handler: RESPCommandHandler>: StreamHandler, @unchecked Sendable {
    // @unchecked: `arguments` is created lazily by each loop's own copy of this handler (loops copy the handler
    // before any call), so no instance is ever shared between threads.

    /// A connection's state: the command handler's own, and how far the request still arriving was decoded.
    public struct ConnectionState {
        /// The ``RESPCommandHandler``'s state for the connection.
        public var handlerState: Handler.ConnectionState
        /// The decoder's resume point in a request that has not completely arrived.
        @usableFromInline var progress = RESPRequestDecoder.Progress()

        @usableFromInline
        init(handlerState: Handler.ConnectionState) {
            self.handlerState = handlerState
        }
    }

    /// The handler commands go to (this loop's copy).
    public var handler: Handler
    /// The request decoder and its limits.
    public var decoder: RESPRequestDecoder
    @usableFromInline var arguments: RESPArguments?

    /// Serves `handler` with `decoder`'s limits (redis's by default).
    public init(_ handler: Handler, decoder: RESPRequestDecoder = RESPRequestDecoder()) {
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
        let arguments = self.arguments ?? makeArguments()
        var offset = 0
        var needed = 0
        input.withUnsafeBytes { bytes in
            while offset < bytes.count && connection.acceptsWrites {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                let step: RESPRequestDecoder.Step
                do throws(RESPProtocolError) {
                    step = try decoder.decode(rest, into: arguments, progress: &state.progress)
                } catch {
                    connection.write(error.reply)
                    connection.close(dueTo: .malformedMessage(error.description))
                    offset = bytes.count
                    return
                }
                switch step {
                case .request(_, let consumed):
                    handler.onCommand(
                        RESPCommand(arguments: arguments), state: &state.handlerState, connection: &connection)
                    offset += consumed
                case .skip(let consumed):
                    offset += consumed
                case .needMoreInput(let atLeast):
                    needed = atLeast
                    return
                }
            }
        }
        input.consume(offset)
        if needed > 0 { input.expect(atLeast: needed) }
        arguments.releaseExcessCapacity()
    }

    public mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason) {
        handler.onClose(id, state: state?.handlerState, reason: reason)
    }

    @usableFromInline
    mutating func makeArguments() -> RESPArguments {
        let arguments = RESPArguments()
        self.arguments = arguments
        return arguments
    }
}
