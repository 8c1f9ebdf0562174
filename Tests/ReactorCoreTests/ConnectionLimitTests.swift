import ReactorCore
import Testing

extension LoopbackTests {
    @Suite struct ConnectionLimit {
        @Test func connectionsBeyondMaxConnectionsAreClosedAtOnceAndCounted() throws {
            var configuration = testConfiguration()
            configuration.maxConnections = 5
            try withServer(configuration, handler: RecordingEcho()) { server, port in
                var admitted: [TestClient] = []
                for index in 0..<5 {
                    let client = try TestClient(port: port)
                    try client.send(frame([UInt8(index)]))
                    #expect(try client.receiveFrame() == [UInt8(index)])
                    admitted.append(client)
                }
                let rejected = try (0..<3).map { _ in try TestClient(port: port) }
                for client in rejected { #expect(client.isClosedByPeer()) }
                #expect(eventually { server.statistics().connectionsRejected == 3 })
                // The admitted ones are unaffected.
                try admitted[0].send(frame([42]))
                #expect(try admitted[0].receiveFrame() == [42])

                // Room again once two close.
                admitted.removeLast(2)
                #expect(eventually { server.statistics().connectionsOpen == 3 })
                let late = try TestClient(port: port)
                try late.send(frame([7]))
                #expect(try late.receiveFrame() == [7])
                #expect(server.statistics().connectionsRejected == 3)
            }
        }
    }
}
