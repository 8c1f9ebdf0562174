import Foundation
import ReactorCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Echoes each frame `copies` times and records writability changes.
struct AmplifyingEcho: FrameHandler {
    final class Record: Sendable {
        let writability = Locked<[Bool]>([])
        let reasons = Locked<[CloseReason]>([])
    }
    let record = Record()
    let copies: Int
    let respectWritability: Bool

    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        if respectWritability && !connection.isWritable { return }
        for _ in 0..<copies { connection.write(frame) }
    }

    func onWritabilityChanged(_ isWritable: Bool, connection: inout ConnectionContext) {
        record.writability.withLock { $0.append(isWritable) }
    }

    func onClose(_ id: ConnectionID, reason: CloseReason) {
        record.reasons.withLock { $0.append(reason) }
    }
}

extension LoopbackTests {
    @Suite struct Backpressure {
        @Test func idleConnectionsHoldNoBuffer() throws {
            try withServer(handler: RecordingEcho()) { server, port in
                let clients = try (0..<100).map { _ in try TestClient(port: port) }
                for (index, client) in clients.enumerated() {
                    try client.send(frame(pattern(3000, seed: index)))
                    #expect(try client.receiveFrame() == pattern(3000, seed: index))
                }
                let statistics = server.statistics()
                #expect(statistics.connectionsOpen == 100)
                #expect(statistics.pool.bytesInUse == 0, "no chunk is held by an idle connection")
            }
        }

        /// Pins the pool ceiling of a paused connection. `NeverReadingPeer` (NeverReadingPeerTests.swift) has the hog
        /// keep sending for 10 s towards 256 MiB and bounds the resident memory of a process of its own.
        @Test func aPeerThatStopsReadingPausesItsConnectionAndMemoryStaysBounded() throws {
            let handler = AmplifyingEcho(copies: 1, respectWritability: false)
            try withServer(handler: handler) { server, port in
                let hog = try TestClient(port: port, timeoutSeconds: 1)
                let chunk = (0..<16).flatMap { _ in frame(pattern(16 * 1024 - 4)) }
                var sent = 0
                // Send until the kernel buffers on both sides are full and the server has stopped reading.
                while sent < 256 << 20, (try? hog.send(chunk)) != nil { sent += chunk.count }
                #expect(sent < 64 << 20, "the server stopped reading long before 256 MiB")
                let statistics = server.statistics()
                // Unsent replies: above the 1 MiB high watermark by at most one read budget and one chunk.
                #expect(statistics.pool.bytesInUse <= (1 << 20) + 256 * 1024 + 2 * 16 * 1024 + 64 * 1024)
                #expect(handler.record.writability.withLock { $0 } == [false])
                // Meanwhile another peer is served normally.
                let other = try TestClient(port: port)
                try other.send(frame([1, 2, 3]))
                #expect(try other.receiveFrame() == [1, 2, 3])
            }
        }

        @Test func drainingBelowTheLowWatermarkResumesReadingAndEveryByteArrives() throws {
            let handler = AmplifyingEcho(copies: 1, respectWritability: false)
            try withServer(handler: handler) { _, port in
                let client = try TestClient(port: port)
                let payloads = (0..<400).map { pattern(16_000, seed: $0) }  // 6.4 MB, far past the high watermark
                let bytes = payloads.flatMap(frame)
                let sender = Thread { try? client.send(bytes) }
                sender.start()
                // Read nothing until the server paused (a fixed sleep was sometimes too short under a sanitizer on a
                // busy machine: reading began before the high watermark was reached).
                #expect(eventually { handler.record.writability.withLock { $0 } == [false] })
                for payload in payloads {
                    #expect(try client.receiveFrame() == payload)
                }
                #expect(handler.record.writability.withLock { $0 }.starts(with: [false, true]))
            }
        }

        @Test func aHandlerThatIgnoresBackpressureIsClosedAtTheHardCap() throws {
            let handler = AmplifyingEcho(copies: 512, respectWritability: false)
            var configuration = testConfiguration()
            configuration.limits.writeHighWatermark = 256 * 1024
            configuration.limits.writeLowWatermark = 64 * 1024
            configuration.limits.maxPendingWriteBytes = 2 << 20
            try withServer(configuration, handler: handler) { server, port in
                let client = try TestClient(port: port, timeoutSeconds: 2)
                // One 8 KiB request asks for 4 MiB of replies in a single callback; the client never reads.
                try client.send(frame(pattern(8 * 1024)))
                #expect(eventually { server.statistics().closed(.writeBufferOverflow) == 1 })
                let reasons = handler.record.reasons.withLock { $0 }
                #expect(reasons.count == 1)
                #expect(reasons.first?.kind == .writeBufferOverflow)
                #expect(server.statistics().pool.bytesInUse == 0)
            }
        }
    }
}
