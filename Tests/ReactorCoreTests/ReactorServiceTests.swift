import Logging
import ReactorCore
import ReactorServiceLifecycle
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// `ReactorService` under swift-service-lifecycle: a `ServiceGroup`'s graceful shutdown and its cancellation stop
/// the server gracefully and the group returns; a shutdown that comes before the service runs never starts the
/// server. Real loopback sockets; every wait is bounded. Under ``LoopbackTests`` (so in this test target, not one of
/// its own) because every test that opens sockets or starts loop threads must run one at a time.
extension LoopbackTests {
    @Suite struct ServiceLifecycleService {
        @Test func aServiceGroupStopsTheServerOnGracefulShutdown() async throws {
            let (server, group, running, client) = try await Self.serving()
            #expect(try await echoedFrame([1, 2, 3], on: client) == [1, 2, 3])

            await group.triggerGracefulShutdown()
            try await running.value
            #expect(server.localAddress == nil, "stopped when the group returns")
            let final = await server.statistics()
            #expect(final.connectionsAccepted == 1 && final.connectionsOpen == 0)
            #expect(final.closed(.shutdown) == 1, "the connection closed by the graceful stop")
            #expect(try await onAThread { try client.receiveUntilEndOfStream() }.isEmpty, "the peer gets a FIN")
        }

        @Test func cancellingTheGroupStopsTheServerGracefully() async throws {
            let (server, _, running, client) = try await Self.serving()
            #expect(try await echoedFrame([7], on: client) == [7])

            running.cancel()
            try await running.value
            #expect(server.localAddress == nil)
            #expect(await server.statistics().closed(.shutdown) == 1)
            #expect(try await onAThread { try client.receiveUntilEndOfStream() }.isEmpty)
        }

        /// The graceful shutdown had begun before the service ran: `run()` returns without starting the server (no
        /// "server started" is logged, nothing is bound).
        @Test func aShutdownBeforeTheServiceRunsNeverStartsTheServer() async throws {
            let record = RecordingLogHandler.Record()
            var configuration = testConfiguration(subReactors: 1)
            configuration.logger = record.logger()
            configuration.logger.logLevel = .info
            let server = Server(configuration: configuration, handler: RecordingEcho())
            try await testGracefulShutdown { trigger in
                trigger.triggerGracefulShutdown()
                try await ReactorService(server).run()
            }
            #expect(server.localAddress == nil)
            #expect(record.count(containing: "server started") == 0)
        }

        @Test func theServiceIsNamedByItsAddress() async throws {
            let server = Server(configuration: testConfiguration(subReactors: 1), handler: RecordingEcho())
            let service = ReactorService(server)
            #expect(service.description == "ReactorService(127.0.0.1:0)")
            try server.start()
            #expect(service.description == "ReactorService(\(server.localAddress!))")
            await server.stop()
        }

        /// An echo server in a running `ServiceGroup` (the task running it) and a client connected to it.
        static func serving() async throws -> (
            Server<RecordingEcho>, ServiceGroup, Task<Void, any Error>, TestClient
        ) {
            let server = Server(configuration: testConfiguration(subReactors: 1), handler: RecordingEcho())
            let group = ServiceGroup(services: [ReactorService(server)], logger: quietLogger)
            let running = Task { try await group.run() }
            let port = try #require(await portWhenListening(server))
            return (server, group, running, try TestClient(port: port))
        }

        static var quietLogger: Logger {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            return logger
        }
    }
}
