import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    @Suite struct Stress {
        @Test func hundredStartStopCyclesLeaveDescriptorsAndThreadsWhereTheyWere() throws {
            let descriptorsBefore = openDescriptorCount()
            let threadsBefore = threadCount()
            for cycle in 0..<100 {
                let server = Server(configuration: testConfiguration(), handler: RecordingEcho())
                try server.start()
                if cycle % 10 == 0 {
                    let client = try TestClient(port: server.localAddress!.port)
                    try client.send(frame([UInt8(cycle)]))
                    #expect(try client.receiveFrame() == [UInt8(cycle)])
                }
                server.stop()
            }
            #expect(openDescriptorCount() == descriptorsBefore)
            #expect(threadCount() == threadsBefore)
        }

        @Test func twoHundredPeersResettingMidFrameAndMidReplyLeaveTheServerHealthy() throws {
            try withServer(handler: RecordingEcho()) { server, port in
                for index in 0..<200 {
                    let client = try TestClient(port: port)
                    if index % 2 == 0 {
                        // Mid-frame: a header promising 50,000 bytes, 1,000 of them, then RST.
                        try client.send(Array(frame(pattern(50_000, seed: index)).prefix(1004)))
                    } else {
                        // Mid-reply: 600 KB of requests whose replies are never read, then RST.
                        try? client.send((0..<30).flatMap { _ in frame(pattern(20_000, seed: index)) })
                    }
                    client.reset()
                }
                // Open 0 alone can be seen while connections are still on their way to a sub-reactor.
                #expect(
                    eventually(seconds: 10) {
                        let statistics = server.statistics()
                        return statistics.connectionsClosed == 200 && statistics.connectionsOpen == 0
                    })
                let statistics = server.statistics()
                #expect(statistics.pool.bytesInUse == 0)
                let check = try TestClient(port: port)
                try check.send(frame([1, 2, 3]))
                #expect(try check.receiveFrame() == [1, 2, 3])
            }
        }

        @Test func nineThousandConcurrentConnectionsAreAllServed() throws {
            try withServer(handler: RecordingEcho()) { server, port in
                var clients: [TestClient] = []
                clients.reserveCapacity(9000)
                for _ in 0..<9000 { clients.append(try TestClient(port: port)) }
                for (index, client) in clients.enumerated() {
                    try client.send(frame(pattern(16, seed: index)))
                }
                for (index, client) in clients.enumerated() {
                    #expect(try client.receiveFrame() == pattern(16, seed: index))
                }
                let statistics = server.statistics()
                #expect(statistics.connectionsOpen == 9000)
                #expect(statistics.framesIn == 9000)
            }
        }
    }
}
