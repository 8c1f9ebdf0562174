import ReactorCore

/// The framed echo server the bench measures: every request frame is answered with a frame holding the same
/// payload, copied straight from the read buffer into the connection's outbound chunk.
struct EchoHandler: FrameHandler {
    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
    }
}
