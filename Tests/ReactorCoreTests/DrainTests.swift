import Foundation
import ReactorCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Echoes; a frame starting with 0xB1 holds the loop until `release` opens, so a test can make bytes arrive at a
/// precise point of a loop iteration. Also hands out the loop for timers.
struct GatedEcho: FrameHandler {
    final class Gate: Sendable {
        let entered = Atomic<Int>(0)
        let release = Atomic<Int>(0)

        /// Blocks the calling loop thread until the test opens gate number `number`.
        func hold(_ number: Int) {
            entered.store(number, ordering: .releasing)
            while release.load(ordering: .acquiring) < number { usleep(1000) }
        }
    }
    let gate = Gate()
    let loop = Locked<ReactorLoop?>(nil)

    func onOpen(connection: inout ConnectionContext) {
        let loop = connection.eventLoop
        self.loop.withLock { $0 = $0 ?? loop }
    }

    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        if frame.count > 0 && frame[0] == 0xB1 { gate.hold(2) }
        connection.write(frame)
    }
}

extension LoopbackTests {
    @Suite struct Drain {
        @Test func stopAnswersEveryFrameAlreadyReceivedThenCloses() throws {
            let handler = GatedEcho()
            let gate = handler.gate
            let server = Server(configuration: testConfiguration(subReactors: 1), handler: handler)
            try server.start()
            let port = server.localAddress!.port
            let holder = try TestClient(port: port)
            let sender = try TestClient(port: port)
            try holder.send(frame([1]))
            #expect(try holder.receiveFrame() == [1])
            try sender.send(frame([2]))
            #expect(try sender.receiveFrame() == [2])
            let loop = try #require(handler.loop.withLock { $0 })

            // 1. Hold the loop in a timer, and meanwhile queue both the holder's gated frame and the stop request,
            //    so the next wakeup sees them together.
            loop.schedule(after: .zero) { gate.hold(1) }
            #expect(eventually { gate.entered.load(ordering: .acquiring) == 1 })
            try holder.send(frame([0xB1]))
            let stopped = Atomic<Bool>(false)
            let stopper = Thread {
                server.stop()
                stopped.store(true, ordering: .releasing)
            }
            stopper.start()
            usleep(300_000)  // stop() has stopped accepting and posted the drain to the loop
            gate.release.store(1, ordering: .releasing)

            // 2. The loop now holds in the gated frame, before it runs the drain task: the sender's frames arrive in
            //    the kernel during this iteration, and only the drain can still read them.
            #expect(eventually { gate.entered.load(ordering: .acquiring) == 2 })
            let frames = (0..<50).map { pattern(100 + $0, seed: $0) }
            try sender.send(frames.flatMap(frame))
            usleep(100_000)
            gate.release.store(2, ordering: .releasing)

            for payload in frames { #expect(try sender.receiveFrame() == payload) }
            #expect(sender.isClosedByPeer())
            #expect(try holder.receiveFrame() == [0xB1])
            #expect(holder.isClosedByPeer())
            #expect(eventually { stopped.load(ordering: .acquiring) })
            let statistics = server.statistics()
            #expect(statistics.closed(.shutdown) == 2)
            #expect(statistics.framesIn == 53 && statistics.framesOut == 53)
        }

        @Test func aPeerThatNeverReadsCannotHoldTheDrainPastItsTimeout() throws {
            var configuration = testConfiguration(subReactors: 1)
            configuration.drainTimeout = .milliseconds(500)
            // Longer than the drain: the drain timeout, not the peer's silence, ends the wait.
            configuration.limits.lingerTimeout = .seconds(10)
            let handler = AmplifyingEcho(copies: 1, respectWritability: false)
            let server = Server(configuration: configuration, handler: handler)
            try server.start()
            let hog = try TestClient(port: server.localAddress!.port, timeoutSeconds: 1)
            let chunk = (0..<16).flatMap { _ in frame(pattern(16 * 1024 - 4)) }
            var sent = 0
            while sent < 64 << 20, (try? hog.send(chunk)) != nil { sent += chunk.count }
            let started = ContinuousClock.now
            server.stop()
            let took = ContinuousClock.now - started
            #expect(took >= .milliseconds(400), "the drain waited for the replies to go out")
            #expect(took < .seconds(5), "and gave up at the drain timeout")
            #expect(hog.isClosedByPeer(discardingData: true))
            let statistics = server.statistics()
            #expect(statistics.closed(.shutdown) == 1)
            #expect(statistics.pool.bytesInUse == 0)
        }

        /// The drain keeps backpressure: a connection paused because its peer does not read its replies is not read
        /// again during the drain (before, the drain read everything the kernel held for it: about 11 MiB more for 8
        /// such peers). Its queued replies still get until the drain timeout to go out.
        @Test func stopKeepsReadingPausedForPeersThatDoNotRead() throws {
            let peers = 4
            var configuration = testConfiguration(subReactors: 1)
            configuration.drainTimeout = .milliseconds(500)
            configuration.limits.lingerTimeout = .seconds(10)  // as above
            let server = Server(
                configuration: configuration, handler: AmplifyingEcho(copies: 1, respectWritability: false))
            try server.start()
            // Each sends for 2 s: the server pauses reading it at its high watermark and the kernel's buffers fill.
            let hogs = try (0..<peers).map { _ in
                HogSender(try TestClient(port: server.localAddress!.port, timeoutSeconds: 1))
            }
            for hog in hogs { hog.start(bytes: 64 << 20, for: .seconds(2)) }
            while !hogs.allSatisfy(\.isFinished) { usleep(10_000) }
            let before = server.statistics().bytesIn
            server.stop()
            let statistics = server.statistics()
            let readDuringDrain = statistics.bytesIn - before
            #expect(
                readDuringDrain <= peers * ConnectionLimits().maxReadBytesPerWakeup,
                "the drain read \(readDuringDrain) bytes from \(peers) paused connections")
            #expect(statistics.closed(.shutdown) == peers, "\(statistics.closed)")
            #expect(statistics.pool.bytesInUse == 0)
            for hog in hogs { hog.close() }
        }
    }
}
