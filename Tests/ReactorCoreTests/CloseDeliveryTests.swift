import Foundation
import ReactorCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A server-initiated close never destroys replies the peer is still reading: the close lingers while our send
/// queue is unacknowledged, so input the peer sends afterwards is dropped instead of drawing a reset.
extension LoopbackTests {
    @Suite struct CloseDelivery {
        @Test func anOversizedPrefixAfterALargeFrameStillDeliversItsWholeReply() throws {
            let handler = RecordingEcho()
            try withServer(handler: handler) { _, port in
                let client = try TestClient(port: port)
                let payload = pattern(128_000)
                // A large frame, then a length over the 1 MiB limit, then (before reading anything) late bytes.
                try client.send(frame(payload) + [0x00, 0x10, 0x00, 0x01])
                usleep(200_000)
                try client.send([0x00, 0x00, 0x00, 0x01, 0x78])
                let received = try client.receiveUntilEndOfStream()
                #expect(received.count == 128_004, "the whole reply, then a FIN (not a reset)")
                #expect(received == frame(payload))
                #expect(
                    eventually {
                        handler.record.reasons.withLock { $0 } == [.frameTooLong(length: 0x0010_0001, limit: 1 << 20)]
                    })
            }
        }

        @Test func aReplyStillQueuedWhenStopDrainsIsDeliveredWhole() throws {
            let server = Server(configuration: testConfiguration(subReactors: 1), handler: RecordingEcho())
            try server.start()
            let client = try TestClient(port: server.localAddress!.port)
            let payload = pattern(200_000, seed: 3)
            try client.send(frame(payload))
            #expect(eventually { server.statistics().framesIn == 1 })
            let stopped = Locked(false)
            let stopping = Thread {
                server.stop()
                stopped.withLock { $0 = true }
            }
            stopping.start()
            usleep(200_000)  // the drain has begun; the reply is still in the server's send queue
            try client.send(frame([0x78]))
            let received = try client.receiveUntilEndOfStream()
            #expect(received.count == 200_004, "the whole reply, then a FIN (not a reset)")
            #expect(received == frame(payload))
            #expect(eventually { stopped.withLock { $0 } })
        }

        /// The read timeout closes gracefully too: a peer that sent a large frame and then half a header, and sends
        /// more after the timeout fired (before reading), still receives the whole reply, then a FIN.
        @Test func aReadTimeoutStillDeliversTheWholeReply() throws {
            var configuration = testConfiguration(subReactors: 1)
            configuration.limits.readTimeout = .milliseconds(200)
            let handler = RecordingEcho()
            try withServer(configuration, handler: handler) { _, port in
                let client = try TestClient(port: port)
                let payload = pattern(200_000, seed: 9)
                try client.send(frame(payload) + [0x00, 0x00])  // half a header, then silence
                usleep(600_000)  // the read timeout fires 200 to 400 ms after the half header
                try client.send([0x01, 0x00, 0x78])  // late bytes, after the timeout
                let received = try client.receiveUntilEndOfStream()
                #expect(received.count == 200_004, "the whole reply, then a FIN (not a reset)")
                #expect(received == frame(payload))
                #expect(eventually { handler.record.reasons.withLock { $0 }.map(\.kind) == [.readTimeout] })
            }
        }
    }
}
