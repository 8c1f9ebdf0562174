import Benchmark
import Logging
import ReactorCore

#if canImport(Glibc)
    import Glibc
#endif

/// The framed echo server under test: every request frame is answered with the same payload, copied from the read
/// buffer into a pooled outbound chunk (the same handler as `reactor-bench`).
struct EchoHandler: FrameHandler {
    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
    }
}

/// A real `Server` (one sub-reactor) on 127.0.0.1 and one blocking client connection to it.
///
/// Created at registration (cheap, nothing started); `start()` runs in the benchmark's setup and `stop()` in its
/// teardown, so binding, accepting and the first connection's allocations are never measured.
final class EchoFixture {
    static let payloadLength = 64
    static let frameLength = payloadLength + 4

    let depth: Int
    private var server: Server<EchoHandler>?
    private var client: BlockingClient?
    /// `depth` request frames back to back, sent with one `send`.
    private let request: UnsafeMutableRawBufferPointer
    private let reply: UnsafeMutableRawBufferPointer

    init(depth: Int) {
        self.depth = depth
        request = .allocate(byteCount: depth * Self.frameLength, alignment: 64)
        reply = .allocate(byteCount: depth * Self.frameLength, alignment: 64)
        for index in 0..<depth {
            let base = index * Self.frameLength
            request.storeBytes(of: UInt32(Self.payloadLength).bigEndian, toByteOffset: base, as: UInt32.self)
            for offset in 0..<Self.payloadLength {
                request[base + 4 + offset] = UInt8(truncatingIfNeeded: index &* 31 &+ offset)
            }
        }
    }

    func start() throws {
        var logger = Logger(label: "swift-reactor-benchmarks")
        logger.logLevel = .critical
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, subReactors: 1, drainTimeout: .seconds(2), logger: logger)
        let server = Server(configuration: configuration, handler: EchoHandler())
        try server.start()
        self.server = server
        guard let port = server.localAddress?.port else { throw BlockingClient.Failure(description: "no port") }
        client = try BlockingClient(port: port)
        // The connection's first replies take the pool's first slab and grow its per-loop lists: not measured.
        for _ in 0..<100 { try roundTrip() }
    }

    func stop() {
        client = nil  // closes the socket
        server?.stop()
        server = nil
    }

    /// Sends `depth` frames in one write and reads back all `depth` echoes, checking every byte.
    @inline(__always)
    func roundTrip() throws {
        guard let client else { throw BlockingClient.Failure(description: "not started") }
        try client.send(UnsafeRawBufferPointer(request))
        try client.receive(into: reply)
        guard memcmp(request.baseAddress!, reply.baseAddress!, request.count) == 0 else {
            throw BlockingClient.Failure(description: "echo mismatch")
        }
    }
}

func registerEchoBenchmarks() {
    for (name, depth) in [("Echo.round-trip", 1), ("Echo.pipelined-32", 32)] {
        let fixture = EchoFixture(depth: depth)
        // One iteration: one request/reply exchange on the loopback socket (`depth` frames each way); the client
        // waits for every echo before sending again.
        Benchmark(name, configuration: configuration(scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations {
                try fixture.roundTrip()
            }
        } setup: {
            try fixture.start()
        } teardown: {
            fixture.stop()
        }
    }
}
