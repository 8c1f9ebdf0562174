/// Your server logic for the framework's own protocol: called once per frame of a 4-byte big-endian length and that
/// many payload bytes (the default ``LengthFieldDecoder``, with ``ConnectionLimits/maxFrameLength``).
///
/// A `FrameHandler` is a ``StreamHandler`` (with no per-connection state): the loop decodes frames in place and
/// calls ``onFrame(_:connection:)`` for each. For another length-field layout, a line protocol or per-connection
/// state, write a ``MessageHandler`` and use ``Decoded``; for anything else, a ``StreamHandler``.
///
/// Each sub-reactor owns its own copy of the handler, so `mutating` methods may keep per-loop state without locks;
/// state shared across loops must be `Sendable` and synchronised by you. Every call runs on the I/O thread: do not
/// block in it.
///
/// ```swift
/// struct Echo: FrameHandler {
///     func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
///         connection.write(frame)
///     }
/// }
/// ```
public protocol FrameHandler: StreamHandler where ConnectionState == Void {
    /// One complete frame arrived. `frame` is valid only during this call; replies written to `connection` are
    /// flushed after the current read batch.
    mutating func onFrame(_ frame: FrameView, connection: inout ConnectionContext)

    /// Unsent bytes crossed the high watermark (`false`: reading is paused) or fell back to the low one (`true`).
    mutating func onWritabilityChanged(_ isWritable: Bool, connection: inout ConnectionContext)

    /// The connection closed; `id` will never be used again for it.
    mutating func onClose(_ id: ConnectionID, reason: CloseReason)
}

extension FrameHandler {
    /// Does nothing.
    public mutating func onWritabilityChanged(_ isWritable: Bool, connection: inout ConnectionContext) {}
    /// Does nothing.
    public mutating func onClose(_ id: ConnectionID, reason: CloseReason) {}

    /// Decodes frames of the default format (what ``LengthFieldDecoder``'s defaults describe, with the limit
    /// ``ConnectionLimits/maxFrameLength``) in place and calls ``onFrame(_:connection:)`` for each.
    ///
    /// A hand-written loop over the bytes rather than ``Decoded``, and inlinable: the conformance of your handler is
    /// compiled in your module, so this loop is specialised for it there, with ``onFrame(_:connection:)`` inlined
    /// (the engine itself is compiled once, generically, so every generic layer would cost instructions per message).
    @inlinable
    public mutating func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
        let limit = input.maxFrameLength
        let base = input.base + input.consumed
        let count = input.total &- input.consumed
        var offset = 0
        var frames = 0
        // Offsets stay within `count` and lengths within `limit` (at most 4 GiB), so plain wrapping arithmetic is
        // exact here; consumed bytes are stored directly (the same checks `consume` would make hold by
        // construction).
        while count &- offset >= 4 {
            let length = Int(UInt32(bigEndian: (base + offset).loadUnaligned(as: UInt32.self)))
            if length > limit {
                input.consumed &+= offset
                input.messagesDecoded &+= frames
                connection.close(dueTo: .frameTooLong(length: length, limit: limit))
                return
            }
            let end = offset &+ 4 &+ length
            if end > count {
                input.expect(atLeast: 4 &+ length)
                break
            }
            frames &+= 1
            onFrame(FrameView(base: base + offset + 4, count: length), connection: &connection)
            offset = end
            if !connection.isTakingInput { break }
        }
        input.consumed &+= offset
        input.messagesDecoded &+= frames
    }

    /// Forwards to ``onWritabilityChanged(_:connection:)``.
    public mutating func onWritabilityChanged(
        _ isWritable: Bool, state: inout Void, connection: inout ConnectionContext
    ) {
        onWritabilityChanged(isWritable, connection: &connection)
    }

    /// Forwards to ``onClose(_:reason:)``.
    public mutating func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
        onClose(id, reason: reason)
    }
}
