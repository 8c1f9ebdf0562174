/// Your protocol logic at the message level: called once per message a ``MessageDecoder`` found.
///
/// Pair it with a decoder through ``Decoded``. Each loop owns its own copy; ``ConnectionState`` is kept per
/// connection, inline, exactly as for a ``StreamHandler``.
///
/// ```swift
/// struct Echo: MessageHandler {
///     func onMessage(_ message: RawSpan, state: inout Void, connection: inout ConnectionContext) {
///         connection.write(message)
///         connection.write("\n")
///     }
/// }
/// let server = Server(configuration: .init(port: 7000), handler: Decoded(DelimiterDecoder.lines(), Echo()))
/// ```
public protocol MessageHandler: Sendable {
    /// Per-connection state, stored inline next to the connection. Default `Void`.
    associatedtype ConnectionState = Void

    /// A connection opened: returns its state.
    mutating func onOpen(connection: inout ConnectionContext) -> ConnectionState

    /// One complete message (its payload as the decoder delimited it). `message` is valid only during this call;
    /// replies written to `connection` are flushed after the current read batch.
    mutating func onMessage(_ message: RawSpan, state: inout ConnectionState, connection: inout ConnectionContext)

    /// The peer shut down its side; `remainder` holds the bytes that did not form a complete message (possibly
    /// none: a line without its line end, a truncated frame). Replies written here still go out before the close.
    /// Default: nothing (the close is then reported as ``CloseReason/truncatedFrame(bufferedBytes:)`` when
    /// `remainder` is not empty).
    mutating func onInputEnded(_ remainder: RawSpan, state: inout ConnectionState, connection: inout ConnectionContext)

    /// See ``StreamHandler/onWritabilityChanged(_:state:connection:)``. Default: nothing.
    mutating func onWritabilityChanged(
        _ isWritable: Bool, state: inout ConnectionState, connection: inout ConnectionContext)

    /// See ``StreamHandler/onClose(_:state:reason:)``. Default: nothing.
    mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason)
}

extension MessageHandler where ConnectionState == Void {
    /// Does nothing.
    public mutating func onOpen(connection: inout ConnectionContext) {}
}

extension MessageHandler {
    /// Does nothing.
    public mutating func onInputEnded(
        _ remainder: RawSpan, state: inout ConnectionState, connection: inout ConnectionContext
    ) {}
    /// Does nothing.
    public mutating func onWritabilityChanged(
        _ isWritable: Bool, state: inout ConnectionState, connection: inout ConnectionContext
    ) {}
    /// Does nothing.
    public mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason) {}
}

/// A decoder and a message handler glued into a ``StreamHandler``: every complete message in the input goes to the
/// handler in place, in order, and the decoder's "need at least N bytes" becomes the stream's
/// ``InboundBytes/expect(atLeast:)``. Generic over both, so the compiler specialises the loop for them: no
/// existential, no allocation.
///
/// A decoding error closes the connection gracefully (replies to the messages before it go out first) with
/// ``CloseReason/frameTooLong(length:limit:)`` or ``CloseReason/decodingFailed(_:)``.
public struct Decoded<Decoder: MessageDecoder, Handler: MessageHandler>: StreamHandler {
    public typealias ConnectionState = Handler.ConnectionState

    /// The decoder (shared by every connection of a loop; decoders keep no per-connection state).
    public var decoder: Decoder
    /// The message handler (one copy per loop).
    public var handler: Handler

    /// Glues `decoder` and `handler`.
    public init(_ decoder: Decoder, _ handler: Handler) {
        self.decoder = decoder
        self.handler = handler
    }

    public mutating func onOpen(connection: inout ConnectionContext) -> Handler.ConnectionState {
        handler.onOpen(connection: &connection)
    }

    public mutating func onRead(
        _ input: inout InboundBytes, state: inout Handler.ConnectionState, connection: inout ConnectionContext
    ) {
        decodeMessages(decoder, &input, connection: &connection) { message, connection in
            handler.onMessage(message, state: &state, connection: &connection)
        }
    }

    /// Hands the unconsumed rest (never a complete message: those were all delivered) to
    /// ``MessageHandler/onInputEnded(_:state:connection:)``. The rest stays unconsumed, so a non-empty one closes
    /// with ``CloseReason/truncatedFrame(bufferedBytes:)``.
    public mutating func onInputEnded(
        _ input: inout InboundBytes, state: inout Handler.ConnectionState, connection: inout ConnectionContext
    ) {
        handler.onInputEnded(input.bytes, state: &state, connection: &connection)
    }

    public mutating func onWritabilityChanged(
        _ isWritable: Bool, state: inout Handler.ConnectionState, connection: inout ConnectionContext
    ) {
        handler.onWritabilityChanged(isWritable, state: &state, connection: &connection)
    }

    public mutating func onClose(_ id: ConnectionID, state: Handler.ConnectionState?, reason: CloseReason) {
        handler.onClose(id, state: state, reason: reason)
    }
}

/// The decode loop every message-level handler shares: decode at the front of `input`, hand the message to
/// `onMessage`, consume it, repeat until the decoder needs more bytes, the connection stops taking input, or the
/// decoder throws (which closes the connection gracefully).
@inline(__always)
func decodeMessages<Decoder: MessageDecoder>(
    _ decoder: Decoder, _ input: inout InboundBytes, connection: inout ConnectionContext,
    onMessage: (RawSpan, inout ConnectionContext) -> Void
) {
    var newBytesAt = input.newBytesOffset
    while connection.isTakingInput {
        let step: DecodeStep
        do {
            step = try decoder.decode(input.bytes, newBytesAt: newBytesAt)
        } catch {
            connection.close(dueTo: error)
            return
        }
        switch step {
        case .needMoreInput(let total):
            input.expect(atLeast: total)
            return
        case .message(let payload, let consumed):
            input.messagesDecoded += 1
            onMessage(input.bytes.extracting(payload), &connection)
            input.consume(consumed)
            newBytesAt = 0
        }
    }
}
