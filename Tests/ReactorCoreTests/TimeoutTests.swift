import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    @Suite struct Timeouts {
        private func configuration(idle: Duration? = nil, read: Duration? = nil) -> ServerConfiguration {
            var configuration = testConfiguration(subReactors: 1)
            configuration.idleTimeout = idle
            configuration.readTimeout = read
            return configuration
        }

        @Test func aHalfHeaderThenSilenceIsClosedByTheReadTimeout() throws {
            let handler = RecordingEcho()
            try withServer(configuration(read: .milliseconds(300)), handler: handler) { server, port in
                let idle = try TestClient(port: port)
                let stalled = try TestClient(port: port)
                let started = ContinuousClock.now  // before the send that starts the server's clock
                try stalled.send([0, 0])
                #expect(stalled.isClosedByPeer())
                #expect(ContinuousClock.now - started >= .milliseconds(300), "not before the timeout")
                // The peer can see the close a moment before the handler hears of it.
                #expect(eventually { handler.record.reasons.withLock { $0 } == [.readTimeout(bufferedBytes: 2)] })
                #expect(server.statistics().closed(.readTimeout) == 1)
                // A connection between frames is not subject to the read timeout, however long it waits.
                usleep(400_000)
                try idle.send(frame([7]))
                #expect(try idle.receiveFrame() == [7])
            }
        }

        @Test func aPeerTricklingOneFrameIsClosedEvenThoughBytesKeepArriving() throws {
            let handler = RecordingEcho()
            try withServer(configuration(read: .milliseconds(500)), handler: handler) { server, port in
                let slowloris = try TestClient(port: port, timeoutSeconds: 5)
                // A complete frame first: the clock is per frame, not per connection.
                try slowloris.send(frame(pattern(10)))
                #expect(try slowloris.receiveFrame() == pattern(10))
                let started = ContinuousClock.now  // before the send that starts the frame's clock
                try slowloris.send([0, 0, 0, 100])
                var sent = 0
                while sent < 100, (try? slowloris.send([UInt8(sent)])) != nil {
                    sent += 1
                    if server.statistics().closed(.readTimeout) == 1 { break }
                    usleep(50_000)
                }
                #expect(eventually { server.statistics().closed(.readTimeout) == 1 })
                #expect(ContinuousClock.now - started >= .milliseconds(500))
                #expect(sent < 100, "closed long before the frame could complete")
                #expect(slowloris.isClosedByPeer(discardingData: true))
                let reasons = handler.record.reasons.withLock { $0 }
                #expect(reasons.count == 1 && reasons.first?.kind == .readTimeout)
                #expect(server.statistics().pool.bytesInUse == 0, "the partial frame's chunk went back")
            }
        }

        @Test func anIdleConnectionIsClosedAndAnActiveOneIsNot() throws {
            let handler = RecordingEcho()
            try withServer(configuration(idle: .milliseconds(400)), handler: handler) { server, port in
                let started = ContinuousClock.now  // before the connect that starts the silent one's clock
                let silent = try TestClient(port: port)
                let active = try TestClient(port: port)
                var closedSeenAt: ContinuousClock.Instant?
                for round in 0..<12 {
                    try active.send(frame([UInt8(round)]))
                    #expect(try active.receiveFrame() == [UInt8(round)])
                    if closedSeenAt == nil && server.statistics().closed(.idleTimeout) == 1 {
                        closedSeenAt = ContinuousClock.now
                    }
                    usleep(100_000)
                }
                #expect(silent.isClosedByPeer())
                let closedAfter = try #require(closedSeenAt, "closed while the active one kept going") - started
                #expect(closedAfter >= .milliseconds(400), "not before the timeout: \(closedAfter)")
                #expect(eventually { handler.record.reasons.withLock { $0 } == [.idleTimeout] })
                // Still served after 1.2 s of 100 ms gaps, three times the idle timeout.
                try active.send(frame([99]))
                #expect(try active.receiveFrame() == [99])
                #expect(server.statistics().closed(.idleTimeout) == 1)
            }
        }

        @Test func aPeerThatNeverReadsItsRepliesIsClosedByTheIdleTimeout() throws {
            let handler = AmplifyingEcho(copies: 1, respectWritability: false)
            try withServer(configuration(idle: .milliseconds(500)), handler: handler) { server, port in
                let hog = try TestClient(port: port, timeoutSeconds: 1)
                let chunk = (0..<16).flatMap { _ in frame(pattern(16 * 1024 - 4)) }
                var sent = 0
                // Fill both directions until the server stops reading; then the peer makes no progress at all.
                while sent < 64 << 20, (try? hog.send(chunk)) != nil { sent += chunk.count }
                #expect(eventually { server.statistics().closed(.idleTimeout) == 1 })
                #expect(handler.record.reasons.withLock { $0 }.map(\.kind) == [.idleTimeout])
                #expect(server.statistics().pool.bytesInUse == 0, "its queued replies went back to the pool")
            }
        }

        @Test func readTimeoutIsOnByDefaultAndIdleTimeoutIsOff() {
            let limits = ConnectionLimits()
            #expect(limits.readTimeout == .seconds(30))
            #expect(limits.idleTimeout == nil)
        }
    }
}
