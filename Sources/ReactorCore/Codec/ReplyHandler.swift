/// A request-reply handler made of a closure from request payload to reply payload, one reply per request.
///
/// Each reply is an `Array`, so this allocates per message; it exists for quick servers and for porting code
/// written as a function from request to reply. Write a ``FrameHandler`` that calls ``ConnectionContext/write(_:)-(FrameView)`` for the allocation-free path.
public struct ReplyHandler: FrameHandler {
    private let reply: @Sendable (FrameView) -> [UInt8]

    /// Wraps `reply`.
    public init(_ reply: @escaping @Sendable (FrameView) -> [UInt8]) {
        self.reply = reply
    }

    public func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.writeFrame(reply(frame))
    }
}
