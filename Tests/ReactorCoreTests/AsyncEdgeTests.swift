import Foundation
import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `async` edges: `run()`, `stop() async`, `beginStop()`, `waitUntilClosed() async`, `statistics() async` and the
/// handle's `write(_:) async`, on real loopback sockets. The blocking socket calls of the test's own peers run on
/// threads of their own (``onAThread(_:)``), so the cooperative pool stays free for the tasks under test.
extension LoopbackTests {
    @Suite struct AsyncEdges {
        @Test func runServesAndReturnsOnceItsTaskIsCancelled() async throws {
            let threadsBefore = threadCount()
            let server = Server(configuration: testConfiguration(subReactors: 2), handler: RecordingEcho())
            let serving = Task { try await server.run() }
            let port = try #require(await portWhenListening(server))
            let client = try TestClient(port: port)
            #expect(try await echoedFrame([1, 2, 3], on: client) == [1, 2, 3])

            let cancelled = ContinuousClock.now
            serving.cancel()
            try await serving.value
            #expect(ContinuousClock.now - cancelled < .seconds(2), "the idle connection closes at once")
            #expect(server.localAddress == nil)
            #expect(threadCount() == threadsBefore, "every loop thread joined when run() returns")
            let final = await server.statistics()
            #expect(final.connectionsAccepted == 1 && final.connectionsOpen == 0)
            #expect(final.closed(.shutdown) == 1, "closed by the graceful stop")
            #expect(try await onAThread { try client.receiveUntilEndOfStream() }.isEmpty, "then a FIN")
        }

        /// `run()` returns (without a CancellationError) when the server is stopped some other way, and a task
        /// cancelled before it calls `run()` does not start the server.
        @Test func runReturnsWhenStoppedElsewhereAndACancelledTaskDoesNotStart() async throws {
            let server = Server(configuration: testConfiguration(subReactors: 1), handler: RecordingEcho())
            let serving = Task { try await server.run() }
            _ = try #require(await portWhenListening(server))
            await server.stop()
            try await serving.value

            let unstarted = Server(configuration: testConfiguration(subReactors: 1), handler: RecordingEcho())
            let cancelledFirst = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                try await unstarted.run()
            }
            try await cancelledFirst.value
            #expect(unstarted.localAddress == nil)
            try unstarted.start()  // it never started: starting it now is allowed (a second start would trap)
            await unstarted.stop()
        }

        /// 8 MB queued through a handle to a peer with a small receive buffer that has not read yet: the kernel
        /// takes a few MB at most, the rest is still in the server's outbound queue when the stop begins. `stop()
        /// async` waits for the drain without blocking a thread, the peer receives every byte and then a FIN, and
        /// the call returns once the server has stopped.
        @Test func stopAsyncDrainsAConnectionWithQueuedBytes() async throws {
            let handler = KeepsHandle()
            var configuration = testConfiguration(subReactors: 1)
            configuration.drainTimeout = .seconds(20)  // the stop must end because the drain is done
            let server = Server(configuration: configuration, handler: handler)
            try server.start()
            let client = try TestClient(unconnectedWithTimeout: 10)
            var small: CInt = 4096
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<CInt>.size))
            try client.connect(port: server.localAddress!.port)
            let handle = try #require(await handler.openHandle())
            let payload = pattern(8_000_000, seed: 5)
            #expect(await handle.write(payload))
            try await Task.sleep(for: .milliseconds(50))
            let before = await server.statistics()
            #expect(before.bytesOut < payload.count, "some of the bytes are still queued when the stop begins")

            let stopped = Locked<ContinuousClock.Instant?>(nil)
            let stopBegan = ContinuousClock.now
            let stopping = Task {
                await server.stop()
                stopped.withLock { $0 = ContinuousClock.now }
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(stopped.withLock { $0 } == nil, "the drain waits for the peer to take the bytes")
            let received = try await onAThread { try client.receiveUntilEndOfStream() }
            #expect(received.count == payload.count, "every byte, then a FIN")
            #expect(received == payload)
            await stopping.value
            let stopTook = try #require(stopped.withLock { $0 }) - stopBegan
            #expect(stopTook < .seconds(15), "the drain completed before its timeout (\(stopTook))")
            #expect(server.localAddress == nil)
            let final = await server.statistics()
            #expect(final.bytesOut == payload.count)
            #expect(final.closed(.shutdown) == 1)
        }

        /// `waitUntilClosed() async` returns when another thread stops the server (synchronously here), and at once
        /// before start; cancelling the waiting task returns it early and leaves the server running. `beginStop()`
        /// may be called on one of the server's own loops.
        @Test func waitUntilClosedAsyncAndBeginStopFromALoop() async throws {
            let server = Server(configuration: testConfiguration(subReactors: 1), handler: RecordingEcho())
            await server.waitUntilClosed()  // never started: at once

            try server.start()
            let impatient = Task { await server.waitUntilClosed() }
            impatient.cancel()
            await impatient.value
            #expect(server.localAddress != nil, "cancelling a waiter stops nothing")

            let waiting = Task { await server.waitUntilClosed() }
            try await onAThread { server.stop() }
            await waiting.value
            await server.waitUntilClosed()  // stopped: at once

            let handler = KeepsHandle()
            let second = Server(configuration: testConfiguration(subReactors: 1), handler: handler)
            try second.start()
            let client = try TestClient(port: second.localAddress!.port)
            let handle = try #require(await handler.openHandle())
            #expect(handle.eventLoop.execute { second.beginStop() }, "from the loop itself, where stop() traps")
            await second.waitUntilClosed()
            #expect(second.localAddress == nil)
            #expect(try await onAThread { try client.receiveUntilEndOfStream() }.isEmpty)
        }

        /// `statistics() async` gives the same figures as the blocking form, while running and after stop.
        @Test func statisticsAsyncMatchesTheBlockingForm() async throws {
            let server = Server(configuration: testConfiguration(subReactors: 2), handler: RecordingEcho())
            let before = await server.statistics()
            #expect(
                before.connectionsAccepted == 0 && before.bytesIn == 0 && before.closed.isEmpty, "zeros before start")
            try server.start()
            let port = server.localAddress!.port
            let clients = try (0..<3).map { _ in try TestClient(port: port) }
            try await onAThread {
                for (index, client) in clients.enumerated() {
                    for round in 0...index {
                        let payload = pattern(100 * (round + 1), seed: index)
                        try client.send(frame(payload))
                        _ = try client.receiveFrame()
                    }
                }
            }
            let started = ContinuousClock.now
            let asynchronous = await server.statistics()
            #expect(ContinuousClock.now - started < .seconds(1))
            let blocking = try await onAThread { server.blockingStatistics() }
            #expect(asynchronous.connectionsAccepted == 3 && asynchronous.connectionsOpen == 3)
            #expect(asynchronous.framesIn == 6 && asynchronous.framesOut == 6)
            #expect(asynchronous.bytesIn == blocking.bytesIn && asynchronous.bytesOut == blocking.bytesOut)
            #expect(asynchronous.connectionsAccepted == blocking.connectionsAccepted)
            #expect(asynchronous.connectionsOpen == blocking.connectionsOpen)
            #expect(asynchronous.framesIn == blocking.framesIn && asynchronous.framesOut == blocking.framesOut)
            #expect(asynchronous.closed == blocking.closed)
            #expect(asynchronous.acceptErrors == blocking.acceptErrors)
            #expect(asynchronous.connectionsRejected == blocking.connectionsRejected)
            #expect(asynchronous.pool.classes.count == blocking.pool.classes.count)

            await server.stop()
            let finalAsynchronous = await server.statistics()
            #expect(finalAsynchronous == server.blockingStatistics(), "after stop both return the final figures")
            #expect(finalAsynchronous.closed(.shutdown) == 3)
        }

        /// A loop that does not answer in time is left out, and the call returns at its timeout (never blocking a
        /// thread meanwhile): here loop 0 is kept busy for 1.5 s, and only loop 1's connection is counted.
        @Test func statisticsAsyncLeavesOutALoopThatDoesNotAnswerInTime() async throws {
            let handler = KeepsHandle()
            try await withStartedServer(testConfiguration(subReactors: 2), handler: handler) { server in
                let port = server.localAddress!.port
                let clients = try (0..<2).map { _ in try TestClient(port: port) }
                #expect(await eventuallyAsync { await server.statistics().connectionsOpen == clients.count })
                let onLoop0 = try #require(await handler.openHandle(onLoop: 0))
                let released = Locked(false)
                onLoop0.eventLoop.execute {
                    usleep(1_500_000)
                    released.withLock { $0 = true }
                }
                let started = ContinuousClock.now
                let partial = await server.statistics(timeout: .milliseconds(200))
                let took = ContinuousClock.now - started
                #expect(took >= .milliseconds(200) && took < .seconds(1), "\(took)")
                #expect(partial.connectionsOpen == 1, "loop 0 was busy and is left out")
                #expect(!released.withLock { $0 })
            }
        }

        /// `write(_:) async` and `writeFrame(_:using:) async` resume once the loop queued the bytes, which the peer
        /// then receives; on a closed connection they return false.
        @Test func handleWriteAsyncDeliversTheBytes() async throws {
            let handler = KeepsHandle()
            try await withStartedServer(testConfiguration(subReactors: 1), handler: handler) { server in
                let client = try TestClient(port: server.localAddress!.port)
                let handle = try #require(await handler.openHandle())
                #expect(await handle.write([1, 2, 3]))
                #expect(await handle.write(pattern(300_000, seed: 7)[...]))
                #expect(await handle.writeFrame([9, 8]))
                let received = try await onAThread { try client.receive(exactly: 3 + 300_000 + 6) }
                #expect(received == [1, 2, 3] + pattern(300_000, seed: 7) + frame([9, 8]))

                #expect(handle.close())
                #expect(try await onAThread { try client.receiveUntilEndOfStream() }.isEmpty)
                #expect(await eventuallyAsync { !handle.isOpen })
                #expect(await handle.write([4]) == false)
                #expect(await handle.writeFrame([5]) == false)
            }
        }
    }
}

/// The handler of these tests: consumes everything, keeps every connection's handle.
typealias KeepsHandle = LoopbackTests.ReviewRegressions.KeepsHandles

extension LoopbackTests.ReviewRegressions.KeepsHandles {
    /// The handle of an open connection (on loop `loop`, if given); waits up to 5 s for one.
    func openHandle(onLoop loop: Int? = nil) async -> ConnectionHandle? {
        var found: ConnectionHandle?
        _ = await eventuallyAsync {
            found = handles.withLock { $0.last { $0.isOpen && (loop == nil || $0.id.loop == loop) } }
            return found != nil
        }
        return found
    }
}

/// Sends `payload` as a frame on `client` and returns the payload of the frame that comes back, on a thread of its
/// own.
func echoedFrame(_ payload: [UInt8], on client: TestClient) async throws -> [UInt8] {
    try await onAThread {
        try client.send(frame(payload))
        return try client.receiveFrame()
    }
}

/// Runs `body` against a started server and always stops it, with `stop() async`.
func withStartedServer<Handler: StreamHandler, Result>(
    _ configuration: ServerConfiguration = testConfiguration(), handler: Handler,
    _ body: (Server<Handler>) async throws -> Result
) async throws -> Result {
    let server = Server(configuration: configuration, handler: handler)
    try server.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

extension Server {
    /// The blocking ``statistics()``, reachable from async code (where `statistics()` means the async form).
    func blockingStatistics() -> ReactorStatistics { statistics() }
}

/// The bound port once `server` listens (its `run()` starts it from another task); nil after 5 s.
func portWhenListening<Handler>(_ server: Server<Handler>) async -> Int? {
    var port: Int?
    _ = await eventuallyAsync {
        port = server.localAddress?.port
        return port != nil
    }
    return port
}

/// Checks `condition` every 10 ms (sleeping as a task, not blocking a thread) for up to `seconds`.
func eventuallyAsync(seconds: Double = 5, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// Runs blocking `body` (socket calls of a test's peer) on a thread of its own and returns its result, so the
/// cooperative pool stays free for the tasks under test.
func onAThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
