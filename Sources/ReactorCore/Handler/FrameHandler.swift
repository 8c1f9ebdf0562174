/// Your server logic: called on a connection's loop thread for each event of that connection.
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
public protocol FrameHandler: Sendable {
    /// A connection was accepted (or connected) and registered with its loop.
    mutating func onOpen(connection: inout ConnectionContext)

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
    public mutating func onOpen(connection: inout ConnectionContext) {}
    /// Does nothing.
    public mutating func onWritabilityChanged(_ isWritable: Bool, connection: inout ConnectionContext) {}
    /// Does nothing.
    public mutating func onClose(_ id: ConnectionID, reason: CloseReason) {}
}
