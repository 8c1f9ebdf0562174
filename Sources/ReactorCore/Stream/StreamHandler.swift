/// Your protocol logic at the byte level: level 1 of the stream API (gnet's `OnTraffic` with `Peek`/`Discard`,
/// netpoll's `Next`/`Skip`).
///
/// After each read the loop calls ``onRead(_:state:connection:)`` with every byte the connection has not consumed
/// yet, as one contiguous ``InboundBytes`` view. The handler consumes what it understood; the loop keeps the rest
/// (copied once into a pooled chunk) and shows it again, followed by newer bytes, on the next call. A handler can ask
/// not to be called again before a number of bytes is there (``InboundBytes/expect(atLeast:)``), and skip bytes it
/// will not look at, even ones not received yet (``InboundBytes/skip(_:)``).
///
/// Codecs are a layer on top: ``Decoded`` turns a ``MessageDecoder`` plus a ``MessageHandler`` into a stream handler,
/// and ``FrameHandler`` is the message handler of the default length-field format.
///
/// Each loop owns its own copy of the handler (so `mutating` methods keep per-loop state without locks) and stores
/// one ``ConnectionState`` per connection inline next to the connection: created by ``onOpen(connection:)``, handed
/// `inout` to every callback of that connection, given back to ``onClose(_:state:reason:)``. It needs no `Sendable`
/// conformance: it never leaves the loop thread. Every callback runs on the loop thread; never block in one.
///
/// ```swift
/// struct Uppercase: StreamHandler {
///     func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
///         input.withUnsafeBytes { bytes in
///             connection.write(reserving: bytes.count) { out in
///                 for (index, byte) in bytes.enumerated() { out[index] = byte >= 0x61 && byte <= 0x7A ? byte - 32 : byte }
///                 return bytes.count
///             }
///         }
///         input.consume(input.count)
///     }
/// }
/// ```
public protocol StreamHandler: Sendable {
    /// What the handler keeps per connection (parser state, a session). Stored inline in the loop's connection
    /// object; no dictionary lookup per message. Default `Void`.
    associatedtype ConnectionState = Void

    /// A connection was accepted (or a client connect completed): returns its state. Replies may be written here
    /// (a greeting).
    mutating func onOpen(connection: inout ConnectionContext) -> ConnectionState

    /// New bytes arrived. `input` holds every unconsumed byte of the connection (older ones first); it and every
    /// view taken from it are valid only during this call. Consume what was handled; what is left is offered again
    /// with the next bytes. Replies written to `connection` leave with one `send` after this read batch.
    mutating func onRead(_ input: inout InboundBytes, state: inout ConnectionState, connection: inout ConnectionContext)

    /// The peer shut down its side (end of stream). `input` holds the bytes still unconsumed (possibly none). After
    /// this call every queued reply is written and the connection closes, with ``CloseReason/peerClosed`` if nothing
    /// was left unconsumed, else ``CloseReason/truncatedFrame(bufferedBytes:)``. Default: nothing.
    mutating func onInputEnded(
        _ input: inout InboundBytes, state: inout ConnectionState, connection: inout ConnectionContext)

    /// Unsent bytes crossed the high watermark (`false`: reading is paused) or fell to the low one (`true`: reading
    /// resumes; unconsumed input, if any, is offered again to ``onRead(_:state:connection:)``). Default: nothing.
    mutating func onWritabilityChanged(
        _ isWritable: Bool, state: inout ConnectionState, connection: inout ConnectionContext)

    /// The connection closed; `id` will never name an open connection again. `state` is nil only for a client
    /// connection that never opened (its connect failed). Default: nothing.
    mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason)
}

extension StreamHandler where ConnectionState == Void {
    /// Does nothing.
    public mutating func onOpen(connection: inout ConnectionContext) {}
}

extension StreamHandler {
    /// Does nothing.
    public mutating func onInputEnded(
        _ input: inout InboundBytes, state: inout ConnectionState, connection: inout ConnectionContext
    ) {}
    /// Does nothing.
    public mutating func onWritabilityChanged(
        _ isWritable: Bool, state: inout ConnectionState, connection: inout ConnectionContext
    ) {}
    /// Does nothing.
    public mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason) {}
}
