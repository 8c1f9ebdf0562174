import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Echoes, and closes the connection after echoing a frame that starts with 0xC1.
struct CloseOnMarkerEcho: FrameHandler {
    let reasons = Locked<[CloseReason]>([])

    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
        if frame.count > 0 && frame[0] == 0xC1 { connection.close() }
    }

    func onClose(_ id: ConnectionID, reason: CloseReason) {
        reasons.withLock { $0.append(reason) }
    }
}

extension LoopbackTests {
    @Suite struct Linger {
        /// The client keeps pipelining after the frame that makes the handler close. Closing a socket with that input
        /// unread would send a reset, and the client could lose the replies before it; the server lingers instead.
        @Test func aHandlerCloseWithUnreadInputDeliversEveryReplyThenAFin() throws {
            let handler = CloseOnMarkerEcho()
            try withServer(testConfiguration(subReactors: 1), handler: handler) { server, port in
                for round in 0..<5 {
                    let client = try TestClient(port: port)
                    let before = (0..<20).map { pattern(1000, seed: round * 100 + $0) }
                    let after = (0..<100).flatMap { _ in frame(pattern(8000)) }
                    try client.send(before.flatMap(frame) + frame([0xC1]) + after)
                    for payload in before { #expect(try client.receiveFrame() == payload) }
                    #expect(try client.receiveFrame() == [0xC1])
                    #expect(client.isClosedByPeer(allowingReset: false), "a FIN after the last reply, not a reset")
                }
                // Each closes once the client's FIN arrives (the clients above closed as they went out of scope).
                #expect(eventually { server.statistics().closed(.closedByHandler) == 5 })
                #expect(server.statistics().connectionsOpen == 0)
                #expect(server.statistics().pool.bytesInUse == 0)
            }
        }

        @Test func aPeerThatKeepsSendingIsClosedAtTheLingerTimeout() throws {
            var configuration = testConfiguration(subReactors: 1)
            configuration.limits.lingerTimeout = .milliseconds(300)
            let handler = CloseOnMarkerEcho()
            try withServer(configuration, handler: handler) { server, port in
                let client = try TestClient(port: port, timeoutSeconds: 5)
                // More than one read takes, so input is still unread when the replies are out.
                let started = ContinuousClock.now  // before the send that makes the server close and linger
                try client.send(frame([0xC1]) + (0..<32).flatMap { _ in frame(pattern(8000)) })
                #expect(try client.receiveFrame() == [0xC1])
                // Keep the connection from ever sending its FIN: the server drops this input, then gives up.
                while server.statistics().closed(.closedByHandler) == 0 && ContinuousClock.now - started < .seconds(5) {
                    _ = try? client.send(frame(pattern(100)))
                    usleep(20_000)
                }
                #expect(server.statistics().closed(.closedByHandler) == 1)
                #expect(ContinuousClock.now - started >= .milliseconds(300))
                #expect(server.statistics().connectionsOpen == 0)
            }
        }

        /// Every reply left our queue (the kernel took it), but the peer reads none of it, so its receive window
        /// stays full and the kernel's send queue unacknowledged: at the linger timeout the close is reported as
        /// ``CloseReason/peerStoppedReading(unsentBytes:closingFor:)`` with what the peer never acknowledged.
        @Test func repliesNeverAcknowledgedAtTheLingerTimeoutAreReported() throws {
            var configuration = testConfiguration(subReactors: 1)
            configuration.limits.lingerTimeout = .milliseconds(300)
            let handler = CloseOnMarkerEcho()
            try withServer(configuration, handler: handler) { server, port in
                let client = try TestClient(unconnectedWithTimeout: 5)
                var small: CInt = 4096  // a small receive window, so the 128 KiB reply cannot all be acknowledged
                setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<CInt>.size))
                try client.connect(port: port)
                try client.send(frame([0xC1] + pattern(128 * 1024)))
                #expect(eventually { server.statistics().connectionsClosed == 1 })
                let reasons = handler.reasons.withLock { $0 }
                #expect(reasons.map(\.kind) == [.peerStoppedReading], "\(reasons)")
                if case .peerStoppedReading(let unacknowledged, let closingFor) = reasons.first {
                    #expect(closingFor == .closedByHandler)
                    #expect(unacknowledged > 64 * 1024, "most of the reply was never acknowledged")
                }
            }
        }
    }
}

extension LoopbackTests.Linger {
    /// Writes 4 MiB of replies, then closes.
    struct FloodThenClose: FrameHandler {
        let reasons = Locked<[CloseReason]>([])

        func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
            let block = [UInt8](repeating: 0x5A, count: 64 * 1024)
            for _ in 0..<64 { connection.writeFrame(block) }
            connection.close()
        }

        func onClose(_ id: ConnectionID, reason: CloseReason) {
            reasons.withLock { $0.append(reason) }
        }
    }

    @Test func aHandlerCloseNeverWaitsOnAPeerThatStoppedReading() throws {
        var configuration = testConfiguration(subReactors: 1)
        configuration.limits.lingerTimeout = .milliseconds(300)
        let handler = FloodThenClose()
        try withServer(configuration, handler: handler) { server, port in
            let client = try TestClient(port: port)
            try client.send(frame([1]))
            // Reads nothing: most of the 4 MiB stays queued on the server, and the close is waiting for it.
            #expect(eventually { server.statistics().closed(.peerStoppedReading) == 1 })
            let reasons = handler.reasons.withLock { $0 }
            #expect(reasons.map(\.kind) == [.peerStoppedReading])
            if case .peerStoppedReading(let unsent, let closingFor) = reasons.first {
                #expect(closingFor == .closedByHandler)
                #expect(unsent > 0, "most of the 4 MiB was still queued")
            }
            #expect(server.statistics().pool.bytesInUse == 0, "its queued replies went back to the pool")
            #expect(client.isClosedByPeer(discardingData: true))
        }
    }
}
