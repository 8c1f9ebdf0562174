import ReactorCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    @Suite struct Echo {
        @Test("frames of edge sizes are echoed byte for byte", arguments: [0, 1, 4095, 4096, 65536, 1 << 20])
        func framesOfEdgeSizesAreEchoed(size: Int) throws {
            try withServer(handler: RecordingEcho()) { _, port in
                let client = try TestClient(port: port)
                let payload = pattern(size, seed: size)
                try client.send(frame(payload))
                #expect(try client.receiveFrame() == payload)
            }
        }

        @Test func thousandsOfFramesInOneWriteAreAllEchoedInOrder() throws {
            try withServer(handler: RecordingEcho()) { server, port in
                let client = try TestClient(port: port)
                let payloads = (0..<5000).map { pattern($0 % 97, seed: $0) }
                try client.send(payloads.flatMap(frame))
                for payload in payloads {
                    #expect(try client.receiveFrame() == payload)
                }
                #expect(server.statistics().framesIn == 5000)
            }
        }

        @Test func framesFedOneBytePerWriteAreReassembled() throws {
            try withServer(handler: RecordingEcho()) { _, port in
                let client = try TestClient(port: port)
                let payloads = [pattern(0), pattern(3, seed: 1), pattern(300, seed: 2), pattern(5000, seed: 3)]
                for byte in payloads.flatMap(frame) {
                    try client.send([byte])
                }
                for payload in payloads {
                    #expect(try client.receiveFrame() == payload)
                }
            }
        }

        @Test func twoHundredConcurrentConnectionsOverTwoSubReactorsAreEachEchoedExactly() throws {
            let handler = RecordingEcho()
            try withServer(handler: handler) { server, port in
                let clients = try (0..<200).map { _ in try TestClient(port: port) }
                // Every connection has 20 frames in flight before any reply is read.
                for (index, client) in clients.enumerated() {
                    try client.send((0..<20).flatMap { frame(pattern(64 + $0, seed: index * 100 + $0)) })
                }
                for (index, client) in clients.enumerated() {
                    for frameIndex in 0..<20 {
                        #expect(try client.receiveFrame() == pattern(64 + frameIndex, seed: index * 100 + frameIndex))
                    }
                }
                #expect(handler.record.loops.withLock { $0 } == [0, 1])
                let statistics = server.statistics()
                #expect(statistics.connectionsAccepted == 200)
                #expect(statistics.framesIn == 4000)
            }
        }

        @Test func seedStyleReplyClosureAnswersEveryFrame() throws {
            let server = Server(configuration: testConfiguration()) { request in
                request.bytes.reversed()
            }
            try server.start()
            defer { server.stop() }
            let client = try TestClient(port: server.localAddress!.port)
            try client.send(frame([1, 2, 3]) + frame([]) + frame([9]))
            #expect(try client.receiveFrame() == [3, 2, 1])
            #expect(try client.receiveFrame() == [])
            #expect(try client.receiveFrame() == [9])
        }
    }
}
