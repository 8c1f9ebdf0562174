import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Echoes, and hands out the loop of the first connection so tests can schedule timers on it.
struct LoopCapturingEcho: FrameHandler {
    final class Record: Sendable {
        let loop = Locked<ReactorLoop?>(nil)
        let fired = Locked<[String]>([])
    }
    let record = Record()

    func onOpen(connection: inout ConnectionContext) {
        let loop = connection.eventLoop
        record.loop.withLock { $0 = $0 ?? loop }
        // Scheduled from the loop's own thread (the allocation-free path).
        let record = record
        let timer = LoopTimer(on: loop) { record.fired.withLock { $0.append("on-loop") } }
        timer.schedule(after: .milliseconds(50))
    }

    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
    }
}

extension LoopbackTests {
    @Suite struct LoopTimers {
        @Test func timersFireOnTheLoopInDeadlineOrderAndCancelledOnesNever() throws {
            let handler = LoopCapturingEcho()
            try withServer(testConfiguration(subReactors: 1), handler: handler) { server, port in
                let client = try TestClient(port: port)
                try client.send(frame([1]))
                #expect(try client.receiveFrame() == [1])
                let loop = try #require(handler.record.loop.withLock { $0 })
                let fired = handler.record.fired
                #expect(eventually { fired.withLock { $0 } == ["on-loop"] })

                // Scheduled from this (foreign) thread: posted to the loop.
                let late = LoopTimer(on: loop) { fired.withLock { $0.append("300") } }
                late.schedule(after: .milliseconds(300))
                loop.schedule(after: .milliseconds(100)) {
                    fired.withLock { $0.append(loop.inEventLoop ? "100 on loop" : "100 off loop") }
                }
                let cancelled = loop.schedule(after: .milliseconds(200)) { fired.withLock { $0.append("200") } }
                cancelled.cancel()
                // Rescheduling moves a timer rather than adding a second one.
                let moved = LoopTimer(on: loop) { fired.withLock { $0.append("moved") } }
                moved.schedule(after: .milliseconds(50))
                moved.schedule(after: .milliseconds(200))

                #expect(eventually { fired.withLock { $0.count } == 4 })
                usleep(200_000)
                #expect(fired.withLock { $0 } == ["on-loop", "100 on loop", "moved", "300"])
                // The loop kept serving while it waited on timers.
                try client.send(frame([2]))
                #expect(try client.receiveFrame() == [2])
            }
        }

        @Test func aTimerPendingWhenTheServerStopsNeverFiresAndLeaksNothing() throws {
            final class Token: Sendable {}
            nonisolated(unsafe) weak var weakToken: Token?
            let handler = LoopCapturingEcho()
            let descriptorsBefore = openDescriptorCount()
            try withServer(testConfiguration(subReactors: 1), handler: handler) { _, port in
                let client = try TestClient(port: port)
                try client.send(frame([1]))
                #expect(try client.receiveFrame() == [1])
                let loop = try #require(handler.record.loop.withLock { $0 })
                let token = Token()
                weakToken = token
                loop.schedule(after: .seconds(60)) { withExtendedLifetime(token) {} }
                #expect(weakToken != nil, "the loop holds the scheduled timer and what it captures")
            }
            #expect(weakToken == nil, "the stopped loop released the pending timer and its capture")
            #expect(openDescriptorCount() == descriptorsBefore)
        }
    }
}

extension LoopbackTests.LoopTimers {
    /// Reschedules itself with no delay until told to stop.
    final class Repeater: Sendable {
        let runs = Locked(0)
        let stop = Locked(false)
        let timer = Locked<LoopTimer?>(nil)

        func start(on loop: ReactorLoop) {
            let timer = LoopTimer(on: loop) { [self] in
                runs.withLock { $0 += 1 }
                if !stop.withLock({ $0 }) { self.timer.withLock { $0 }?.schedule(after: .zero) }
            }
            self.timer.withLock { $0 = timer }
            timer.schedule(after: .zero)
        }
    }

    @Test func aTimerThatReschedulesItselfAtOnceDoesNotStarveTheConnections() throws {
        let handler = LoopCapturingEcho()
        try withServer(testConfiguration(subReactors: 1), handler: handler) { _, port in
            let client = try TestClient(port: port, timeoutSeconds: 2)
            try client.send(frame([1]))
            #expect(try client.receiveFrame() == [1])
            let loop = try #require(handler.record.loop.withLock { $0 })
            let repeater = Repeater()
            repeater.start(on: loop)
            // The timer never stops on its own: the echoes below only arrive if the loop serves I/O in between.
            let before = repeater.runs.withLock { $0 }
            for round in 0..<20 {
                try client.send(frame([UInt8(round)]))
                #expect(try client.receiveFrame() == [UInt8(round)])
            }
            // And the timer was not starved either: it is still running.
            #expect(eventually(seconds: 2) { repeater.runs.withLock { $0 } > before + 20 })
            repeater.stop.withLock { $0 = true }
            repeater.timer.withLock { $0 = nil }
        }
    }
}
