import ReactorCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Sends `count` numbered frames on open, checks every echo, and closes when all came back.
struct CountingClient: FrameHandler {
    final class Record: Sendable {
        let received = Atomic<Int>(0)
        let mismatches = Atomic<Int>(0)
        let reasons = Locked<[CloseReason]>([])
    }
    let record = Record()
    let count: Int
    var receivedByConnection: [ConnectionID: Int] = [:]

    mutating func onOpen(connection: inout ConnectionContext) {
        for index in 0..<count { connection.writeFrame(pattern(32, seed: index)) }
    }

    mutating func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        let index = receivedByConnection[connection.id, default: 0]
        receivedByConnection[connection.id] = index + 1
        if frame.bytes != pattern(32, seed: index) { record.mismatches.add(1, ordering: .relaxed) }
        record.received.add(1, ordering: .relaxed)
        if index + 1 == count { connection.close() }
    }

    func onClose(_ id: ConnectionID, reason: CloseReason) {
        record.reasons.withLock { $0.append(reason) }
    }
}

extension LoopbackTests {
    @Suite struct ClientSide {
        @Test func clientConnectionsOnReactorLoopsGetEveryEcho() throws {
            try withServer(handler: RecordingEcho()) { server, port in
                let handler = CountingClient(count: 100)
                let client = Client(configuration: ClientConfiguration(loops: 2), handler: handler)
                try client.start()
                defer { client.stop() }
                for _ in 0..<10 { try client.connect(to: ReactorSocketAddress(host: "127.0.0.1", port: port)) }
                #expect(eventually { handler.record.reasons.withLock { $0.count } == 10 })
                #expect(handler.record.received.load(ordering: .relaxed) == 1000)
                #expect(handler.record.mismatches.load(ordering: .relaxed) == 0)
                #expect(handler.record.reasons.withLock { $0 }.allSatisfy { $0 == .closedByHandler })
                #expect(eventually { server.statistics().framesIn == 1000 })
            }
        }

        @Test func connectingToAClosedPortReportsConnectFailed() throws {
            // Find a port nobody listens on: bind a server, note its port, stop it.
            let probe = Server(configuration: testConfiguration(subReactors: 1), handler: RecordingEcho())
            try probe.start()
            let port = probe.localAddress!.port
            probe.stop()
            let handler = CountingClient(count: 1)
            let client = Client(configuration: ClientConfiguration(), handler: handler)
            try client.start()
            defer { client.stop() }
            try client.connect(to: ReactorSocketAddress(host: "127.0.0.1", port: port))
            #expect(eventually { handler.record.reasons.withLock { $0.count } == 1 })
            let reasons = handler.record.reasons.withLock { $0 }
            #expect(reasons.first?.kind == .connectFailed)
            #expect(client.statistics().closed(.connectFailed) == 1)
        }
    }
}
