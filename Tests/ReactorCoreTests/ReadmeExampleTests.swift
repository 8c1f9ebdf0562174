import ReactorCore
import Testing

// The README's examples, compiled and run as they are printed there (keep the two in step).

/// README, "A minimal server".
struct ReadmeEcho: FrameHandler {  // `Echo` in the README (that name is a test suite here)
    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)  // copied into a pooled outbound chunk, flushed after this read batch
    }
    func onClose(_ id: ConnectionID, reason: CloseReason) {}
}

/// README, "A complete server to copy" (its `Echo`, with no `onClose`: the protocol's default).
struct ReadmeCompleteEcho: FrameHandler {
    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
    }
}

/// README, the line protocol with per-connection state.
struct Shout: MessageHandler {
    typealias ConnectionState = Int  // lines seen on this connection, stored inline
    func onOpen(connection: inout ConnectionContext) -> Int { 0 }
    func onMessage(_ line: RawSpan, state lines: inout Int, connection: inout ConnectionContext) {
        lines += 1
        connection.write(reserving: line.byteCount + 2) { out in  // formatted straight into the outbound bytes
            line.withUnsafeBytes {
                for (i, byte) in $0.enumerated() { out[i] = byte >= 97 && byte <= 122 ? byte - 32 : byte }
            }
            out[line.byteCount] = 13
            out[line.byteCount + 1] = 10
            return line.byteCount + 2
        }
    }
}

extension LoopbackTests {
    @Suite struct ReadmeExamples {
        @Test func theMinimalEchoServerEchoesFrames() throws {
            try withServer(handler: ReadmeEcho()) { _, port in
                let client = try TestClient(port: port)
                try client.send(frame([1, 2, 3]))
                #expect(try client.receiveFrame() == [1, 2, 3])
            }
        }

        @Test func theCompleteServerEchoesAndStopsGracefully() throws {
            // As printed, but on port 0, and the test stops it where the README waits for a signal.
            let server = Server(configuration: testConfiguration(), handler: ReadmeCompleteEcho())
            try server.start()
            let client = try TestClient(port: server.localAddress!.port)
            try client.send(frame(pattern(300)) + frame([]))
            #expect(try client.receiveFrame() == pattern(300))
            #expect(try client.receiveFrame() == [])
            server.stop()
            #expect(client.isClosedByPeer())
        }

        @Test func theClosureServerReversesEachPayload() throws {
            let server = Server(configuration: testConfiguration()) { request in Array(request.bytes.reversed()) }
            try server.start()
            defer { server.stop() }
            let client = try TestClient(port: server.localAddress!.port)
            try client.send(frame([1, 2, 3]))
            #expect(try client.receiveFrame() == [3, 2, 1])
        }

        @Test func theLineServerShoutsEachLine() throws {
            try withServer(handler: Decoded(DelimiterDecoder.lines(), Shout())) { _, port in
                let client = try TestClient(port: port)
                try client.send(Array("hello\r\nWorld 42\n".utf8))
                #expect(try client.receive(exactly: 17) == Array("HELLO\r\nWORLD 42\r\n".utf8))
            }
        }
    }
}
