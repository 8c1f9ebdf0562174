import Foundation
import ReactorCore
import Synchronization
import Testing

/// Records every opened connection's id, in order.
struct IDRecordingEcho: FrameHandler {
    final class Record: Sendable {
        let opened = Locked<[ConnectionID]>([])
    }
    let record = Record()

    func onOpen(connection: inout ConnectionContext) {
        let id = connection.id
        record.opened.withLock { $0.append(id) }
    }

    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
    }
}

extension LoopbackTests {
    @Suite struct CrossThread {
        @Test func writeAndCloseFromAnotherThreadReachTheConnection() throws {
            let handler = IDRecordingEcho()
            try withServer(testConfiguration(subReactors: 1), handler: handler) { server, port in
                let client = try TestClient(port: port)
                #expect(eventually { handler.record.opened.withLock { $0.count } == 1 })
                let id = handler.record.opened.withLock { $0[0] }
                #expect(server.isOpen(id))
                server.write([7, 7, 7], to: id)
                #expect(try client.receiveFrame() == [7, 7, 7])
                server.close(id)
                #expect(client.isClosedByPeer())
                #expect(eventually { !server.isOpen(id) })
            }
        }

        @Test func aCloseForAClosedAndReusedDescriptorLeavesTheNewConnectionAlone() throws {
            let handler = IDRecordingEcho()
            try withServer(testConfiguration(subReactors: 1), handler: handler) { server, port in
                var first = Optional(try TestClient(port: port))
                #expect(eventually { handler.record.opened.withLock { $0.count } == 1 })
                let stale = handler.record.opened.withLock { $0[0] }
                first = nil
                #expect(eventually { !server.isOpen(stale) })
                // Connect until the server's side lands on the stale descriptor number again.
                var clients: [TestClient] = []
                var reused: ConnectionID?
                for attempt in 0..<20 where reused == nil {
                    clients.append(try TestClient(port: port))
                    #expect(eventually { handler.record.opened.withLock { $0.count } == attempt + 2 })
                    let newest = handler.record.opened.withLock { $0.last! }
                    if newest.fd == stale.fd { reused = newest }
                }
                let reusedID = try #require(reused)
                #expect(reusedID.generation != stale.generation)
                #expect(!server.isOpen(stale))
                server.close(stale)
                server.write([1], to: stale)
                let victim = clients.last!
                try victim.send(frame([5, 5]))
                #expect(try victim.receiveFrame() == [5, 5], "the new connection got nothing meant for the old one")
                #expect(server.isOpen(reusedID))
                _ = first
            }
        }
    }
}

extension LoopbackTests.CrossThread {
    @Test func tasksPostedFromManyThreadsAtOnceAreAllRunNoWakeupIsLost() throws {
        let handler = IDRecordingEcho()
        try withServer(testConfiguration(subReactors: 1), handler: handler) { server, port in
            let client = try TestClient(port: port)
            #expect(eventually { handler.record.opened.withLock { $0.count } == 1 })
            let id = handler.record.opened.withLock { $0[0] }
            let threads = 4
            let perThread = 5000
            // Each write is one task posted to the loop; the posters race the loop's wakeup handling.
            let done = Atomic<Int>(0)
            for thread in 0..<threads {
                Thread.detachNewThread {
                    for index in 0..<perThread {
                        server.write([UInt8(thread), UInt8(truncatingIfNeeded: index)], to: id)
                    }
                    done.add(1, ordering: .relaxed)
                }
            }
            var next = [Int](repeating: 0, count: threads)
            for _ in 0..<(threads * perThread) {
                let payload = try client.receiveFrame()
                let thread = Int(payload[0])
                #expect(payload[1] == UInt8(truncatingIfNeeded: next[thread]), "per-thread order is kept")
                next[thread] += 1
            }
            #expect(next == [Int](repeating: perThread, count: threads))
            #expect(eventually { done.load(ordering: .relaxed) == threads })
        }
    }
}
