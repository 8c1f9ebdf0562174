import Logging
import ReactorCore
import ReactorServiceLifecycle
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// ``ReactorService`` under swift-service-lifecycle: a `ServiceGroup`'s graceful shutdown and its cancellation stop
/// the server gracefully and the group returns; a shutdown that comes before the service runs never starts the
/// server. Real loopback sockets; every wait is bounded.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ReactorServiceTests {
    @Test func aServiceGroupStopsTheServerOnGracefulShutdown() async throws {
        let server = Server(configuration: Self.configuration(), handler: Echo())
        let group = ServiceGroup(services: [ReactorService(server)], logger: Self.quietLogger)
        let running = Task { try await group.run() }
        let peer = try await Peer(server: server)
        #expect(await peer.handle.writeFrame([1, 2, 3]))
        #expect(await peer.eventuallyReceived([0, 0, 0, 3, 1, 2, 3]))

        await group.triggerGracefulShutdown()
        try await running.value
        #expect(server.localAddress == nil, "stopped when the group returns")
        let final = await server.statistics()
        #expect(final.connectionsAccepted == 1 && final.connectionsOpen == 0)
        #expect(final.closed(.shutdown) == 1, "the connection closed by the graceful stop")
        #expect(await eventually { !peer.handle.isOpen }, "the peer saw the close")
        peer.client.stop()
    }

    @Test func cancellingTheGroupStopsTheServerGracefully() async throws {
        let server = Server(configuration: Self.configuration(), handler: Echo())
        let group = ServiceGroup(services: [ReactorService(server)], logger: Self.quietLogger)
        let running = Task { try await group.run() }
        let peer = try await Peer(server: server)
        #expect(await peer.handle.writeFrame([7]))
        #expect(await peer.eventuallyReceived([0, 0, 0, 1, 7]))

        running.cancel()
        try await running.value
        #expect(server.localAddress == nil)
        #expect(await server.statistics().closed(.shutdown) == 1)
        peer.client.stop()
    }

    /// The graceful shutdown had begun before the service ran: `run()` returns without starting the server (no
    /// "server started" is logged, nothing is bound).
    @Test func aShutdownBeforeTheServiceRunsNeverStartsTheServer() async throws {
        let messages = RecordedMessages()
        var configuration = Self.configuration()
        configuration.logger = Logger(label: "test") { _ in RecordingHandler(messages: messages) }
        let server = Server(configuration: configuration, handler: Echo())
        try await testGracefulShutdown { trigger in
            trigger.triggerGracefulShutdown()
            try await ReactorService(server).run()
        }
        #expect(server.localAddress == nil)
        #expect(!messages.all.contains("server started"), "\(messages.all)")
    }

    @Test func theServiceIsNamedByItsAddress() async throws {
        let server = Server(configuration: Self.configuration(), handler: Echo())
        let service = ReactorService(server)
        #expect(service.description == "ReactorService(127.0.0.1:0)")
        try server.start()
        #expect(service.description == "ReactorService(\(server.localAddress!))")
        await server.stop()
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    static func configuration() -> ServerConfiguration {
        ServerConfiguration(host: "127.0.0.1", port: 0, subReactors: 1, drainTimeout: .seconds(2), logger: quietLogger)
    }
}

/// Echoes every frame.
struct Echo: FrameHandler {
    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
    }
}

/// A ReactorCore ``Client`` connected to the server under test, recording what it receives.
struct Peer {
    let client: Client<Recorder>
    let handle: ConnectionHandle
    let received: Lock<[UInt8]>

    /// Waits (up to 5 s) for `server` to listen, then connects.
    init<Handler>(server: Server<Handler>) async throws {
        var address: ReactorSocketAddress?
        _ = await eventually {
            address = server.localAddress
            return address != nil
        }
        let recorder = Recorder()
        client = Client(
            configuration: ClientConfiguration(loops: 1, logger: ReactorServiceTests.quietLogger), handler: recorder)
        try client.start()
        handle = try client.connect(to: try #require(address))
        received = recorder.received
    }

    func eventuallyReceived(_ bytes: [UInt8]) async -> Bool {
        await eventually { received.withLock { $0 } == bytes }
    }
}

/// Appends every byte a client connection receives.
struct Recorder: StreamHandler {
    let received = Lock<[UInt8]>([])

    func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
        let bytes = input.bytes.withUnsafeBytes { Array($0) }
        received.withLock { $0 += bytes }
        input.consume(bytes.count)
    }
}

/// The messages logged through a ``RecordingHandler``.
final class RecordedMessages: Sendable {
    private let messages = Lock<[String]>([])
    var all: [String] { messages.withLock { $0 } }
    func append(_ message: String) { messages.withLock { $0.append(message) } }
}

/// A log handler that records every message's text.
struct RecordingHandler: LogHandler {
    let messages: RecordedMessages
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.append("\(event.message)")
    }
}

/// Checks `condition` every 10 ms (sleeping as a task) for up to 5 s.
func eventually(_ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(5)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
