import Dispatch
import Foundation
@_spi(Benchmarks) import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// ``ConnectionHandle``: taken in a callback, used from other threads (writes, close, `isOpen`, `isWritable`) and
/// from the connection's own loop (`withContext` in a ``LoopTimer``); the handle `Client.connect(to:)` returns; a
/// handle never reaches a later connection on the same descriptor.
extension LoopbackTests {
    @Suite struct ConnectionHandles {
        /// What the handler saw, shared with the test thread.
        final class Record: Sendable {
            let handles = Locked<[ConnectionHandle]>([])
            let received = Locked<[UInt8]>([])
            let writability = Locked<[Bool]>([])
            let closes = Locked<[(id: ConnectionID, reason: CloseReason)]>([])

            var openedCount: Int { handles.withLock { $0.count } }
            var closedCount: Int { closes.withLock { $0.count } }

            /// The handle of the `index`th connection opened (waits up to 5 s for it).
            func handle(_ index: Int = 0) throws -> ConnectionHandle {
                _ = eventually { openedCount > index }
                return try #require(handles.withLock { $0.count > index ? $0[index] : nil })
            }
        }

        /// Stores every connection's handle on open; records (and optionally echoes) what arrives. Used on both sides:
        /// by servers and by clients.
        struct KeepsHandles: StreamHandler {
            let record = Record()
            var echoes = false

            func onOpen(connection: inout ConnectionContext) {
                let handle = connection.handle
                record.handles.withLock { $0.append(handle) }
            }

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                let bytes = input.withUnsafeBytes { Array($0) }
                record.received.withLock { $0 += bytes }
                if echoes { connection.write(input.bytes) }
                input.consume(input.count)
            }

            func onWritabilityChanged(_ isWritable: Bool, state: inout Void, connection: inout ConnectionContext) {
                record.writability.withLock { $0.append(isWritable) }
            }

            func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
                record.closes.withLock { $0.append((id, reason)) }
            }
        }

        /// Runs `body` with a client connected to a one-loop server running `handler`, and the handle `handler`
        /// took of that connection. (A `body` whose only `try` is inside `#expect` is written `(client, handle)
        /// throws in`: the compiler does not infer it throwing from the macro's expansion.)
        func withConnection(
            _ handler: KeepsHandles = KeepsHandles(), _ body: (TestClient, ConnectionHandle) throws -> Void
        ) throws {
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { _, client in
                try body(client, try handler.record.handle())
            }
        }

        @Test func theServerGivesAHandleForAConnectionID() throws {
            let handler = KeepsHandles()
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { server, client in
                let id = try handler.record.handle().id
                let handle = try #require(server.handle(for: id))
                #expect(handle == (try handler.record.handle()))
                #expect(handle.write(Array("by id".utf8)))
                #expect(try client.receive(exactly: 5) == Array("by id".utf8))
                // On the loop (a timer action), the same id gives the context at once.
                let wrote = Locked<Bool?>(nil)
                _ = handle.eventLoop.schedule(after: .milliseconds(1)) {
                    let done: Void? = server.handle(for: id)?.withContext { $0.write("!" as StaticString) }
                    wrote.withLock { $0 = done != nil }
                }
                #expect(eventually { wrote.withLock { $0 } == true })
                #expect(try client.receive(exactly: 1) == Array("!".utf8))
                #expect(server.handle(for: ConnectionID(loop: 7, fd: id.fd, generation: id.generation)) == nil)
            }
        }

        @Test func aWriteFromAnotherThreadReachesTheConnectionAndWhenQueuedSaysTrue() throws {
            try withConnection { (client, handle) throws in
                #expect(handle.isOpen)
                #expect(handle.isWritable)
                #expect(!handle.eventLoop.inEventLoop)
                let queued = Locked<[(queued: Bool, onLoop: Bool)]>([])
                let accepted = handle.write([1, 2, 3]) { ok in
                    let onLoop = handle.eventLoop.inEventLoop
                    queued.withLock { $0.append((ok, onLoop)) }
                }
                #expect(accepted)
                #expect(try client.receive(exactly: 3) == [1, 2, 3])
                #expect(eventually { queued.withLock { $0.count } == 1 })
                #expect(queued.withLock { $0.map(\.queued) } == [true])
                #expect(queued.withLock { $0.map(\.onLoop) } == [true], "whenQueued runs on the owning loop")
                #expect(handle.writeFrame([9, 8]))
                #expect(try client.receive(exactly: 6) == [0, 0, 0, 2, 9, 8])
            }
        }

        @Test func writesFromOneThreadArriveInTheOrderIssued() throws {
            try withConnection { client, handle in
                let results = Locked<[Bool]>([])
                let writer = Thread {
                    for index in 0..<1000 {
                        let ok = handle.write([UInt8(index >> 8), UInt8(index & 0xff), 0xA5])
                        results.withLock { $0.append(ok) }
                    }
                }
                writer.start()
                let received = try client.receive(exactly: 3000)
                let expected: [UInt8] = (0..<1000).flatMap { index -> [UInt8] in
                    [UInt8(index >> 8), UInt8(index & 0xff), 0xA5]
                }
                #expect(received == expected)
                #expect(eventually { results.withLock { $0.count } == 1000 })
                #expect(results.withLock { $0.allSatisfy { $0 } })
            }
        }

        @Test func afterThePeerClosedAWriteReturnsFalseAndIsOpenIsFalse() throws {
            let handler = KeepsHandles()
            try withServer(testConfiguration(subReactors: 1), handler: handler) { _, port in
                var client: TestClient? = try TestClient(port: port)
                let handle = try handler.record.handle()
                #expect(handle.isOpen)
                client = nil
                #expect(eventually { handler.record.closedCount == 1 })
                #expect(!handle.isOpen)
                #expect(!handle.isWritable)
                let called = Locked<[Bool]>([])
                #expect(!handle.write([1]) { ok in called.withLock { $0.append(ok) } })
                #expect(!handle.writeFrame([1]))
                #expect(!handle.close())
                // Nothing was posted: whenQueued is never called (a task would have run by now).
                let probe = DispatchSemaphore(value: 0)
                handle.eventLoop.execute { probe.signal() }
                #expect(probe.wait(timeout: .now() + 5) == .success)
                #expect(called.withLock { $0 }.isEmpty)
                #expect(handler.record.closes.withLock { $0.map(\.reason) } == [.peerClosed])
                _ = client
            }
        }

        @Test func closeThroughTheHandleSendsTheQueuedBytesThenEndOfStream() throws {
            let handler = KeepsHandles()
            try withConnection(handler) { (client, handle) throws in
                #expect(handle.write(Array("last words".utf8)))
                #expect(handle.close())
                #expect(try client.receive(exactly: 10) == Array("last words".utf8))
                #expect(client.isClosedByPeer(allowingReset: false))
                #expect(eventually { !handle.isOpen })
                #expect(eventually { handler.record.closes.withLock { $0.map(\.reason) } == [.closedByHandler] })
                #expect(handler.record.closes.withLock { $0.map(\.id) } == [handle.id])
            }
        }

        @Test func isWritableFollowsTheWatermarksWhileTheClientStopsReadingAndThenDrains() throws {
            let handler = KeepsHandles()
            var configuration = testConfiguration(subReactors: 1)
            configuration.limits.writeHighWatermark = 64 * 1024
            configuration.limits.writeLowWatermark = 16 * 1024
            try withServer(configuration, handler: handler) { _, port in
                // A small receive buffer on the client, so the kernel takes little of what the server sends.
                let client = try TestClient(unconnectedWithTimeout: 10)
                var size: CInt = 16 * 1024
                setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
                try client.connect(port: port)
                let handle = try handler.record.handle()
                #expect(handle.isWritable)

                // Write 32 KiB pieces, one at a time, until the handle reports the connection not writable.
                let piece = 32 * 1024
                var pieces = 0
                while handle.isWritable && pieces < 256 {  // at most 8 MiB, half the hard cap
                    #expect(handle.write(pattern(piece, seed: pieces)))
                    pieces += 1
                    // Two round trips through the loop: the write's task ran, then the flush after it.
                    for _ in 0..<2 {
                        let done = DispatchSemaphore(value: 0)
                        handle.eventLoop.execute { done.signal() }
                        #expect(done.wait(timeout: .now() + 5) == .success)
                    }
                }
                #expect(!handle.isWritable, "over the 64 KiB high watermark after \(pieces) pieces")
                #expect(handle.isOpen)
                #expect(handler.record.writability.withLock { $0 } == [false])

                // The client drains every byte; the handle becomes writable again.
                for index in 0..<pieces {
                    #expect(try client.receive(exactly: piece) == pattern(piece, seed: index))
                }
                #expect(eventually { handle.isWritable })
                #expect(handler.record.writability.withLock { $0 } == [false, true])
            }
        }

        @Test func withContextFromALoopTimerOnTheConnectionsLoopWritesWithoutAHop() throws {
            try withConnection { (client, handle) throws in
                let events = Locked<[String]>([])
                handle.eventLoop.schedule(after: .milliseconds(20)) {
                    events.withLock { $0.append("fired onLoop=\(handle.eventLoop.inEventLoop)") }
                    let id = handle.withContext { context in
                        context.write("tick " as StaticString)
                        return context.id
                    }
                    events.withLock { $0.append("withContext id=\(id.map { "\($0)" } ?? "nil")") }
                    let accepted = handle.write(Array("tock".utf8)) { queued in
                        events.withLock { $0.append("queued \(queued)") }
                    }
                    events.withLock { $0.append("write returned \(accepted)") }
                }
                #expect(try client.receive(exactly: 9) == Array("tick tock".utf8))
                // On the loop, whenQueued ran inside write, before it returned: no task was posted.
                #expect(
                    events.withLock { $0 } == [
                        "fired onLoop=true", "withContext id=\(handle.id)", "queued true", "write returned true",
                    ])
            }
        }

        @Test func withContextReturnsNilOnceTheConnectionClosed() throws {
            let handler = KeepsHandles()
            try withServer(testConfiguration(subReactors: 1), handler: handler) { _, port in
                var client: TestClient? = try TestClient(port: port)
                let handle = try handler.record.handle()
                client = nil
                #expect(eventually { !handle.isOpen })
                let result = Locked<[Bool]>([])
                handle.eventLoop.schedule(after: .milliseconds(1)) {
                    let ran = handle.withContext { _ in true }
                    result.withLock { $0.append(ran ?? false) }
                }
                #expect(eventually { result.withLock { $0.count } == 1 })
                #expect(result.withLock { $0 } == [false])
                _ = client
            }
        }

        @Test func aHandleOfAClosedConnectionDoesNotReachTheConnectionThatReusedItsDescriptor() throws {
            let handler = KeepsHandles(echoes: true)
            try withServer(testConfiguration(subReactors: 1), handler: handler) { _, port in
                var first: TestClient? = try TestClient(port: port)
                let stale = try handler.record.handle()
                first = nil
                #expect(eventually { !stale.isOpen })
                // Connect until the server's side of a new connection lands on the stale descriptor number.
                var clients: [TestClient] = []
                var reused: ConnectionHandle?
                for attempt in 1...20 where reused == nil {
                    clients.append(try TestClient(port: port))
                    let newest = try handler.record.handle(attempt)
                    if newest.id.fd == stale.id.fd { reused = newest }
                }
                let fresh = try #require(reused)
                #expect(fresh.id.generation != stale.id.generation)
                #expect(fresh != stale)
                #expect(fresh.isOpen)
                #expect(!stale.isOpen)
                #expect(!stale.isWritable)
                #expect(!stale.write(Array("stale".utf8)))
                #expect(!stale.writeFrame([1, 2, 3]))
                #expect(!stale.close())
                // Even run on the loop, the stale handle finds no connection.
                let found = Locked<[Bool]>([])
                stale.eventLoop.execute {
                    let ran = stale.withContext { context in
                        context.write("stale" as StaticString)
                        return true
                    }
                    found.withLock { $0.append(ran ?? false) }
                }
                #expect(eventually { found.withLock { $0.count } == 1 })
                #expect(found.withLock { $0 } == [false])
                // The new connection got nothing meant for the old one, and is still open.
                let victim = clients.last!
                try victim.send(Array("fresh".utf8))
                #expect(try victim.receive(exactly: 5) == Array("fresh".utf8))
                #expect(fresh.isOpen)
                _ = first
            }
        }

        // MARK: Client handles

        /// Runs `body` with a started ``Client`` of `loops` loops, the client handler's record, the address of a
        /// one-loop server that echoes and the server handler's record (both handlers are ``KeepsHandles``). Stops
        /// both.
        func withClientAndEchoServer(
            loops: Int, _ body: (Client<KeepsHandles>, Record, ReactorSocketAddress, Record) throws -> Void
        ) throws {
            let serverHandler = KeepsHandles(echoes: true)
            try withServer(testConfiguration(subReactors: 1), handler: serverHandler) { _, port in
                let clientHandler = KeepsHandles()
                let client = Client(configuration: ClientConfiguration(loops: loops), handler: clientHandler)
                try client.start()
                defer { client.stop() }
                try body(
                    client, clientHandler.record, ReactorSocketAddress(host: "127.0.0.1", port: port),
                    serverHandler.record)
            }
        }

        @Test func clientConnectReturnsTheHandleTheHandlerSeesAndItsWritesReachTheServer() throws {
            try withClientAndEchoServer(loops: 2) { client, clientRecord, server, serverRecord in
                let handle = try client.connect(to: server)
                let opened = try clientRecord.handle()
                #expect(opened.id == handle.id)
                #expect(opened == handle)
                #expect(handle.isOpen)
                #expect(client.isOpen(handle.id))

                #expect(handle.write(Array("ping".utf8)))
                #expect(eventually { serverRecord.received.withLock { $0 } == Array("ping".utf8) })
                #expect(eventually { clientRecord.received.withLock { $0 } == Array("ping".utf8) })

                #expect(handle.close())
                #expect(eventually { clientRecord.closedCount == 1 })
                #expect(clientRecord.closes.withLock { $0.map(\.id) } == [handle.id])
                #expect(clientRecord.closes.withLock { $0.map(\.reason) } == [.closedByHandler])
                #expect(eventually { serverRecord.closes.withLock { $0.map(\.reason) } == [.peerClosed] })
                #expect(!handle.isOpen)
                #expect(!handle.write([1]))
            }
        }

        @Test func aWriteThroughTheHandleRightAfterConnectArrivesOnceConnected() throws {
            try withClientAndEchoServer(loops: 1) { client, clientRecord, server, serverRecord in
                var handles: [ConnectionHandle] = []
                for index in 0..<10 {
                    let handle = try client.connect(to: server)
                    // Possibly before the handshake completed.
                    #expect(handle.write([UInt8(index), 0xC1]))
                    handles.append(handle)
                }
                #expect(eventually { serverRecord.received.withLock { $0.count } == 20 })
                let received = serverRecord.received.withLock { $0 }
                #expect(Set((0..<10).map { received[2 * $0] }) == Set(0..<10))
                #expect(eventually { clientRecord.received.withLock { $0.count } == 20 })
                #expect(clientRecord.closes.withLock { $0.isEmpty })
                #expect(Set(clientRecord.handles.withLock { $0 }) == Set(handles))
            }
        }
    }
}
