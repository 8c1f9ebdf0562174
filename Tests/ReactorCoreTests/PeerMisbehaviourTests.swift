import ReactorCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    @Suite struct PeerMisbehaviour {
        @Test func oversizedLengthPrefixClosesOnlyThatConnection() throws {
            let handler = RecordingEcho()
            try withServer(testConfiguration(maxFrameLength: 1024), handler: handler) { server, port in
                let good = try TestClient(port: port)
                let bad = try TestClient(port: port)
                try good.send(frame(pattern(1024)))
                #expect(try good.receiveFrame() == pattern(1024))
                // A prefix just over the limit, with no body following: closed at once, before any allocation.
                try bad.send([0, 0, 4, 1])
                #expect(bad.isClosedByPeer())
                try good.send(frame(pattern(10, seed: 5)))
                #expect(try good.receiveFrame() == pattern(10, seed: 5))
                #expect(eventually { server.statistics().closed(.frameTooLong) == 1 })
                #expect(handler.record.reasons.withLock { $0 } == [.frameTooLong(length: 1025, limit: 1024)])
            }
        }

        @Test func framesBeforeAnOversizedPrefixAreAnsweredBeforeTheClose() throws {
            let handler = RecordingEcho()
            try withServer(testConfiguration(maxFrameLength: 1024), handler: handler) { server, port in
                let client = try TestClient(port: port)
                let frames = (0..<10).map { pattern(100 * $0, seed: $0) }
                // Valid frames, then a prefix over the limit, then more bytes than one read takes (left unread).
                try client.send(frames.flatMap(frame) + [0, 0, 4, 1] + [UInt8](repeating: 7, count: 200_000))
                for payload in frames { #expect(try client.receiveFrame() == payload) }
                #expect(client.isClosedByPeer(allowingReset: false), "then a FIN, not a reset")
                #expect(eventually { server.statistics().closed(.frameTooLong) == 1 })
                #expect(
                    eventually { handler.record.reasons.withLock { $0 } == [.frameTooLong(length: 1025, limit: 1024)] })
            }
        }

        @Test func maliciousFourGigabyteLengthIsRejected() throws {
            try withServer(handler: RecordingEcho()) { server, port in
                let bad = try TestClient(port: port)
                try bad.send([0xff, 0xff, 0xff, 0xff, 1, 2, 3])
                #expect(bad.isClosedByPeer())
                #expect(eventually { server.statistics().closed(.frameTooLong) == 1 })
                #expect(server.statistics().pool.bytesInUse == 0)
            }
        }

        @Test func peerResetMidFrameClosesThatConnectionAndFreesItsBuffer() throws {
            let handler = RecordingEcho()
            try withServer(handler: handler) { server, port in
                let survivor = try TestClient(port: port)
                do {
                    let client = try TestClient(port: port)
                    // Header for 10,000 bytes, then only 100 of them, then RST.
                    try client.send(Array(frame(pattern(10_000)).prefix(104)))
                    #expect(eventually { server.statistics().pool.bytesInUse > 0 })
                    client.reset()
                }
                #expect(eventually { server.statistics().connectionsOpen == 1 })
                #expect(server.statistics().pool.bytesInUse == 0)
                let reasons = handler.record.reasons.withLock { $0 }
                #expect(reasons.count == 1)
                #expect(reasons.allSatisfy { $0 == .peerReset || $0.kind == .truncatedFrame })
                try survivor.send(frame(pattern(77)))
                #expect(try survivor.receiveFrame() == pattern(77))
            }
        }

        @Test func peerResetWhileRepliesAreQueuedDoesNotHurtTheServer() throws {
            try withServer(handler: RecordingEcho()) { server, port in
                for round in 0..<20 {
                    let client = try TestClient(port: port)
                    // Lots of replies the client never reads, then an RST.
                    try client.send((0..<200).flatMap { _ in frame(pattern(4000, seed: round)) })
                    client.reset()
                }
                #expect(eventually { server.statistics().connectionsOpen == 0 })
                let check = try TestClient(port: port)
                try check.send(frame([42]))
                #expect(try check.receiveFrame() == [42])
            }
        }

        @Test func halfCloseGetsEveryReplyThenTheServerCloses() throws {
            let handler = RecordingEcho()
            try withServer(handler: handler) { server, port in
                let client = try TestClient(port: port)
                let payloads = (0..<100).map { pattern(1000 + $0, seed: $0) }
                try client.send(payloads.flatMap(frame))
                client.shutdownWrite()
                for payload in payloads {
                    #expect(try client.receiveFrame() == payload)
                }
                #expect(client.isClosedByPeer())
                #expect(eventually { server.statistics().closed(.peerClosed) == 1 })
            }
        }

        @Test func eofMidFrameIsReportedAsTruncated() throws {
            let handler = RecordingEcho()
            try withServer(handler: handler) { server, port in
                let client = try TestClient(port: port)
                try client.send(frame([1, 2]) + [0, 0, 0, 9, 1, 2])
                client.shutdownWrite()
                #expect(try client.receiveFrame() == [1, 2])
                #expect(client.isClosedByPeer())
                #expect(eventually { server.statistics().closed(.truncatedFrame) == 1 })
                #expect(handler.record.reasons.withLock { $0 } == [.truncatedFrame(bufferedBytes: 6)])
            }
        }

        /// A length a peer declares costs memory only as its bytes arrive: 100 peers that each declare a 1 MiB frame
        /// and send one byte of it hold a 4 KiB chunk each, not 1 MiB (the largest frame is still checked up front).
        /// One of them then sends the rest in pieces, and its frame is echoed whole.
        @Test func aDeclaredLengthReservesNothingUntilItsBytesArrive() throws {
            let peers = 100
            let length = 1 << 20
            try withServer(handler: RecordingEcho()) { server, port in
                let clients = try (0..<peers).map { _ in try TestClient(port: port) }
                let payload = pattern(length, seed: 3)
                let message = frame(payload)
                for client in clients { try client.send(Array(message.prefix(5))) }
                #expect(eventually { server.statistics().bytesIn == peers * 5 })
                let held = server.statistics().pool.bytesInUse
                #expect(held <= peers * 4096, "\(held) bytes of pooled chunks for \(peers) peers that sent 5 bytes")

                // The rest, in pieces of 100,000 bytes: the chunk grows a class at a time and the frame comes back.
                var offset = 5
                while offset < message.count {
                    let end = min(offset + 100_000, message.count)
                    try clients[0].send(Array(message[offset..<end]))
                    offset = end
                }
                #expect(try clients[0].receiveFrame() == payload)
                #expect(eventually { server.statistics().pool.bytesInUse <= (peers - 1) * 4096 })
            }
        }
    }
}
