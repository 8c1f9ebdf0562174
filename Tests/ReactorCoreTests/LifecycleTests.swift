import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    @Suite struct Lifecycle {
        @Test func stopReleasesEveryDescriptorAndThread() throws {
            let descriptorsBefore = openDescriptorCount()
            let threadsBefore = threadCount()
            do {
                let server = Server(configuration: testConfiguration(), handler: RecordingEcho())
                try server.start()
                let port = server.localAddress!.port
                #expect(threadCount() == threadsBefore + 3, "two sub-reactors and the acceptor are running")
                let clients = try (0..<50).map { _ in try TestClient(port: port) }
                for client in clients {
                    try client.send(frame(pattern(100)))
                    #expect(try client.receiveFrame() == pattern(100))
                }
                // One client leaves a partial frame behind, one a pile of unread replies.
                try clients[0].send([0, 0, 1, 0, 7])
                try clients[1].send((0..<100).flatMap { _ in frame(pattern(8000)) })
                server.stop()
                for client in clients { #expect(client.isClosedByPeer(discardingData: true)) }
                let statistics = server.statistics()
                #expect(statistics.connectionsOpen == 0)
                // The one with unread replies may be reported as having stopped reading (during the stop).
                #expect(statistics.closed(.shutdown) + statistics.closed(.peerStoppedReading) == 50)
                #expect(statistics.closed(.shutdown) >= 49)
                #expect(statistics.pool.bytesInUse == 0)
            }
            #expect(openDescriptorCount() == descriptorsBefore)
            #expect(threadCount() == threadsBefore)
        }

        @Test func stopIsIdempotentAndWaitUntilClosedReturns() throws {
            let server = Server(configuration: testConfiguration(), handler: RecordingEcho())
            try server.start()
            server.stop()
            server.stop()
            server.waitUntilClosed()
            #expect(server.localAddress == nil)
        }

        @Test func bindingABusyPortThrowsAndLeaksNothing() throws {
            let first = Server(configuration: testConfiguration(), handler: RecordingEcho())
            try first.start()
            defer { first.stop() }
            let descriptorsBefore = openDescriptorCount()
            let threadsBefore = threadCount()
            var configuration = testConfiguration()
            configuration.port = first.localAddress!.port
            let second = Server(configuration: configuration, handler: RecordingEcho())
            #expect(throws: SystemError.self) { try second.start() }
            #expect(openDescriptorCount() == descriptorsBefore)
            #expect(threadCount() == threadsBefore)
        }
    }
}
