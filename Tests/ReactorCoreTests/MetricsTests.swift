import Logging
import MetricsTestKit
import ReactorCore
import ReactorMetrics
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    /// The loops' swift-metrics (through `LoopMetrics.swiftMetrics`) against `statistics()`, and the per-connection
    /// logger, on real loopback sockets.
    @Suite struct Metrics {
        static let connections = 6
        static let messagesPerConnection = 5
        static let payload = 100
        /// Connections closed for sending a length over the limit (`frameTooLong`); the others close cleanly.
        static let tooLong = 2

        /// A counter's total over both loops (and, for closes, one reason).
        static func total(_ metrics: TestMetrics, _ name: String, reason: CloseReason.Kind? = nil) -> Int {
            let dimensions = reason.map { [("reason", $0.description)] } ?? []
            return Int(metrics.counterTotal(label: name, dimensions: dimensions))
        }

        /// A gauge's last value summed over `loops`.
        static func gauge(_ metrics: TestMetrics, _ name: String, loops: Int = 2) throws -> Int {
            try (0..<loops).reduce(0) { sum, loop in
                sum + Int(try metrics.expectGauge(name, [("loop", "\(loop)")]).lastValue ?? -1)
            }
        }

        /// Every counter the statistics also have, as the metrics backend received them.
        static func expectCountersMatch(_ metrics: TestMetrics, _ statistics: ReactorStatistics) {
            #expect(total(metrics, "reactor.connections.opened") == statistics.connectionsAccepted)
            #expect(total(metrics, "reactor.connections.rejected") == statistics.connectionsRejected)
            #expect(total(metrics, "reactor.accept.errors") == statistics.acceptErrors)
            #expect(total(metrics, "reactor.bytes.in") == statistics.bytesIn)
            #expect(total(metrics, "reactor.bytes.out") == statistics.bytesOut)
            #expect(total(metrics, "reactor.messages.in") == statistics.framesIn)
            #expect(total(metrics, "reactor.messages.out") == statistics.framesOut)
            #expect(total(metrics, "reactor.backpressure.pauses") == statistics.backpressurePauses)
            for kind in CloseReason.Kind.allCases {
                #expect(
                    total(metrics, "reactor.connections.closed", reason: kind) == statistics.closed(kind),
                    "closes for \(kind)")
            }
        }

        /// In acceptor mode and in reuse-port mode (where the loops accept, and count rejections, themselves).
        @Test(arguments: [false, true])
        func publishedFiguresMatchStatisticsAfterAKnownWorkload(reusePort: Bool) throws {
            let metrics = TestMetrics()
            var configuration = testConfiguration(maxFrameLength: 1024)
            configuration.reusePort = reusePort
            configuration.maxConnections = Self.connections
            configuration.loopMetrics = .swiftMetrics(interval: .milliseconds(20), factory: metrics)
            let server = Server(configuration: configuration, handler: RecordingEcho())
            try server.start()
            let port = server.localAddress!.port

            var clients: [TestClient] = []
            for _ in 0..<Self.connections { clients.append(try TestClient(port: port)) }
            for (index, client) in clients.enumerated() {
                for message in 0..<Self.messagesPerConnection {
                    let payload = pattern(Self.payload, seed: index * 100 + message)
                    try client.send(frame(payload))
                    #expect(try client.receiveFrame() == payload)
                }
            }
            // One more is over maxConnections: accepted and closed at once, counted by the acceptor.
            #expect(try TestClient(port: port).isClosedByPeer())
            for client in clients[..<Self.tooLong] {
                try client.send([0, 0, 0x07, 0xD0])  // 2000 > 1024
                #expect(client.isClosedByPeer())
            }
            for client in clients[Self.tooLong...] {
                client.shutdownWrite()
                #expect(client.isClosedByPeer())
            }

            // While running: the loops' timers publish on their own.
            let messages = Self.connections * Self.messagesPerConnection
            #expect(
                eventually {
                    Self.total(metrics, "reactor.connections.closed") == Self.connections
                        && Self.total(metrics, "reactor.connections.rejected") == 1
                        && (try? Self.gauge(metrics, "reactor.connections.active")) == 0
                })
            let running = server.statistics()
            Self.expectCountersMatch(metrics, running)
            #expect(Self.total(metrics, "reactor.connections.opened") == Self.connections)
            #expect(Self.total(metrics, "reactor.messages.in") == messages)
            #expect(Self.total(metrics, "reactor.messages.out") == messages)
            #expect(Self.total(metrics, "reactor.bytes.in") == messages * (4 + Self.payload) + Self.tooLong * 4)
            #expect(Self.total(metrics, "reactor.connections.closed", reason: .frameTooLong) == Self.tooLong)
            #expect(
                Self.total(metrics, "reactor.connections.closed", reason: .peerClosed)
                    == Self.connections - Self.tooLong)
            #expect(Self.total(metrics, "reactor.connections.rejected") == 1)
            // Every reason has a series on every loop, at zero if nothing closed for it.
            #expect(metrics.counters(label: "reactor.connections.closed").count == 2 * CloseReason.Kind.allCases.count)
            #expect(Self.total(metrics, "reactor.loop.iterations") > 0)
            if !reusePort {  // every connection was handed over by a task (a reuse-port loop accepts its own)
                #expect(Self.total(metrics, "reactor.loop.wakeups") > 0)
            }

            // After the stop every loop has reported its last figures: everything matches the final statistics.
            server.stop()
            let final = server.statistics()
            Self.expectCountersMatch(metrics, final)
            #expect(Self.total(metrics, "reactor.loop.iterations") == final.loopIterations)
            #expect(Self.total(metrics, "reactor.loop.wakeups") == final.loopWakeups)
            #expect(try Self.gauge(metrics, "reactor.connections.active") == final.connectionsOpen)
            #expect(try Self.gauge(metrics, "reactor.pool.bytes.in_use") == final.pool.bytesInUse)
            #expect(try Self.gauge(metrics, "reactor.pool.bytes.reserved") == final.pool.bytesReserved)
        }

        @Test func backpressurePausesAreCountedAndPublished() throws {
            let metrics = TestMetrics()
            var configuration = testConfiguration(subReactors: 1)
            configuration.limits.writeHighWatermark = 64 * 1024
            configuration.limits.writeLowWatermark = 16 * 1024
            configuration.loopMetrics = .swiftMetrics(factory: metrics)
            let server = Server(configuration: configuration, handler: RecordingEcho())
            try server.start()
            let client = try TestClient(port: server.localAddress!.port)
            // 8 MiB of echoes the client does not read: the server's queue passes the high watermark.
            let request = frame(pattern(60 * 1024))
            for _ in 0..<128 { try client.send(request) }
            #expect(eventually { server.statistics().backpressurePauses > 0 })
            client.reset()
            server.stop()
            let final = server.statistics()
            #expect(final.backpressurePauses > 0)
            #expect(Self.total(metrics, "reactor.backpressure.pauses") == final.backpressurePauses)
        }

        /// The local port of socket `fd` (`getsockname`).
        static func localPort(_ fd: CInt) -> Int {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        /// Logs once when a connection opens, through the connection's own logger.
        struct LoggingEcho: FrameHandler {
            func onOpen(connection: inout ConnectionContext) {
                connection.logger.warning("opened")
                connection.logger.warning("again")  // the kept logger: same metadata
            }

            func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
                connection.write(frame)
            }
        }

        @Test func theConnectionLoggerCarriesTheConnectionIDAndThePeerAddress() throws {
            let record = RecordingLogHandler.Record()
            var configuration = testConfiguration(subReactors: 1)
            configuration.logger = record.logger()
            configuration.logger[metadataKey: "service"] = "test"
            try withServer(configuration, handler: LoggingEcho()) { server, port in
                let client = try TestClient(port: port)
                try client.send(frame([1]))
                #expect(try client.receiveFrame() == [1])
                #expect(eventually { record.count(containing: "again") == 1 })
                let clientAddress = "127.0.0.1:\(Self.localPort(client.fd))"
                let logged = record.metadata.withLock { $0.suffix(2) }
                for metadata in logged {
                    #expect(metadata["reactor.peer.address"] == "\(clientAddress)")
                    #expect(metadata["reactor.connection.id"].map { "\($0)" }?.hasPrefix("conn(0:") == true)
                    #expect(metadata["service"] == "test")  // the server's own metadata stays
                }
                #expect(logged.count == 2 && logged[0] == logged[1])
            }
        }
    }
}
