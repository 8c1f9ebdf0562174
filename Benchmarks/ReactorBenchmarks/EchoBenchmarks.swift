import Benchmark
import Logging
import ReactorCore
import ReactorMetrics

#if canImport(Glibc)
    import Glibc
#endif

/// The framed echo server under test: every request frame is answered with the same payload, copied from the read
/// buffer into the outbound bytes (the same handler as `reactor-bench`).
struct EchoHandler: FrameHandler {
    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
    }
}

/// The 2-byte little-endian length-field echo: `Decoded(LengthFieldDecoder(2, LE), handler)` decodes, the handler
/// writes each payload back behind a header from the matching `LengthFieldEncoder`.
struct LittleEndian16EchoHandler: MessageHandler {
    static let decoder = LengthFieldDecoder(lengthFieldLength: 2, byteOrder: .littleEndian)
    static let prepender = LengthFieldEncoder(lengthFieldLength: 2, byteOrder: .littleEndian)

    func onMessage(_ message: RawSpan, state: inout Void, connection: inout ConnectionContext) {
        connection.writeFrame(message, using: Self.prepender)
    }
}

/// The line echo: `Decoded(DelimiterDecoder.lines(), handler)` strips the delimiter, the handler writes the line
/// back followed by `\n`.
struct LineEchoHandler: MessageHandler {
    func onMessage(_ message: RawSpan, state: inout Void, connection: inout ConnectionContext) {
        connection.write(message)
        connection.write("\n")
    }
}

/// The raw stream echo: no decoder at all, every unconsumed byte is written back and consumed.
struct StreamEchoHandler: StreamHandler {
    func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
        connection.write(input.bytes)
        input.consume(input.count)
    }
}

/// A real `Server` (one sub-reactor) running `Handler` on 127.0.0.1 and one blocking client connection to it.
///
/// Created at registration (cheap, nothing started); `start()` runs in the benchmark's setup and `stop()` in its
/// teardown, so binding, accepting and the first connection's allocations are never measured.
///
/// With `straddling`, every send ends in the middle of a message: the client sent the first half of message 0
/// once, at the start, and each exchange sends the rest of it, messages 1 ..< depth, and the first half of the next
/// message 0, then reads the `depth` echoes. So the server keeps a partial message after (nearly) every read: the
/// read path's tail handling (copy into a pooled chunk, copy back in front of the next read, `expect(atLeast:)`,
/// a delimiter scan resuming at `newBytesAt`) runs on every exchange.
final class EchoFixture<Handler: StreamHandler> {
    static var payloadLength: Int { 64 }

    let depth: Int
    private let makeHandler: () -> Handler
    private var server: Server<Handler>?
    private var client: BlockingClient?
    /// What one exchange sends with one `send`.
    private let request: UnsafeMutableRawBufferPointer
    /// What one exchange must read back, byte for byte: `depth` whole messages (or their replies).
    private let expected: UnsafeMutableRawBufferPointer
    private let reply: UnsafeMutableRawBufferPointer
    /// Sent once after connecting (straddling: the first half of message 0), never echoed on its own.
    private let prefix: [UInt8]
    /// Sent once after connecting, before the exchanges, and its reply checked: state the exchanges rely on (a
    /// key a GET reads).
    private let preamble: (request: [UInt8], reply: [UInt8])?
    /// A byte that, in the expected replies, matches any byte of the reply (a field that changes, such as HTTP's
    /// `Date`); nil: every byte is compared.
    private let wildcard: UInt8?
    /// Where the server's loops report their counters (nil: nowhere, the default).
    private let loopMetrics: LoopMetrics?
    /// Makes the server's transport (TLS) at start; nil: plain TCP.
    private let makeTransport: (() throws -> any ConnectionTransportProvider)?

    /// `encode(index, payload)` returns the wire bytes of request `index` (`payload`: 64 printable bytes), which are
    /// also the expected reply unless `reply(index, payload)` gives it.
    init(
        depth: Int, straddling: Bool, handler: @escaping () -> Handler, encode: (Int, [UInt8]) -> [UInt8],
        reply answer: ((Int, [UInt8]) -> [UInt8])? = nil, preamble: (request: [UInt8], reply: [UInt8])? = nil,
        wildcard: UInt8? = nil, loopMetrics: LoopMetrics? = nil,
        transport makeTransport: (() throws -> any ConnectionTransportProvider)? = nil
    ) {
        self.makeTransport = makeTransport
        self.depth = depth
        self.loopMetrics = loopMetrics
        self.wildcard = wildcard
        self.preamble = preamble
        self.makeHandler = handler
        var wire: [UInt8] = []
        var replies: [UInt8] = []
        var firstLength = 0
        for index in 0..<depth {
            let payload = (0..<Self.payloadLength).map { UInt8(truncatingIfNeeded: 0x20 + (index &* 31 &+ $0) % 0x5F) }
            let message = encode(index, payload)
            wire += message
            replies += answer?(index, payload) ?? message
            if index == 0 { firstLength = wire.count }
        }
        let cut = straddling ? firstLength / 2 : 0
        prefix = Array(wire[..<cut])
        let sent = Array(wire[cut...] + wire[..<cut])
        request = .allocate(byteCount: sent.count, alignment: 64)
        request.copyBytes(from: sent)
        expected = .allocate(byteCount: replies.count, alignment: 64)
        expected.copyBytes(from: replies)
        reply = .allocate(byteCount: replies.count, alignment: 64)
    }

    func start() throws {
        var logger = Logger(label: "swift-reactor-benchmarks")
        logger.logLevel = .critical
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, subReactors: 1, drainTimeout: .seconds(2), logger: logger)
        configuration.loopMetrics = loopMetrics
        configuration.transport = try makeTransport?()
        let server = Server(configuration: configuration, handler: makeHandler())
        try server.start()
        self.server = server
        guard let port = server.localAddress?.port else { throw BlockingClient.Failure(description: "no port") }
        let client = try BlockingClient(port: port)
        // The handshake is setup, never measured: the gate is what each exchange costs afterwards.
        if makeTransport != nil { try client.startTLS() }
        self.client = client
        if let preamble {
            try preamble.request.withUnsafeBytes { try client.send($0) }
            let answer = UnsafeMutableRawBufferPointer.allocate(byteCount: preamble.reply.count, alignment: 8)
            defer { answer.deallocate() }
            try client.receive(into: answer)
            guard answer.elementsEqual(preamble.reply) else {
                throw BlockingClient.Failure(description: "preamble: unexpected reply")
            }
        }
        if !prefix.isEmpty { try prefix.withUnsafeBytes { try client.send($0) } }
        // The connection's first replies take the pool's first slabs and grow its per-loop lists: not measured.
        for _ in 0..<100 { try roundTrip() }
        if !prefix.isEmpty { try checkKeepsPartialMessage(server) }
    }

    /// Straddling only: between exchanges the server must hold the half message in a pooled chunk, or this
    /// benchmark would not measure the read path's tail handling at all. (`statistics()` allocates: setup only.)
    private func checkKeepsPartialMessage(_ server: Server<Handler>) throws {
        for _ in 0..<100 {
            if server.statistics().pool.classes.contains(where: { $0.chunksInUse > 0 }) { return }
            usleep(10_000)  // the half message may still be on its way to the server
        }
        throw BlockingClient.Failure(description: "straddling: the server holds no partial message between exchanges")
    }

    func stop() {
        client = nil  // closes the socket
        server?.stop()
        server = nil
    }

    /// Sends one exchange's bytes in one write and reads back all `depth` echoes, checking every byte.
    @inline(__always)
    func roundTrip() throws {
        guard let client else { throw BlockingClient.Failure(description: "not started") }
        try client.send(UnsafeRawBufferPointer(request))
        try client.receive(into: reply)
        if let wildcard {
            for index in 0..<expected.count where expected[index] != wildcard && expected[index] != reply[index] {
                throw BlockingClient.Failure(description: "echo mismatch at byte \(index)")
            }
        } else {
            guard memcmp(expected.baseAddress!, reply.baseAddress!, expected.count) == 0 else {
                throw BlockingClient.Failure(description: "echo mismatch")
            }
        }
    }
}

/// Echo benchmarks for a server running `handler`: `\(prefix)round-trip` (one message per exchange) and
/// `\(prefix)pipelined-32` (32 messages in one send), plus `\(prefix)straddling-32` when `straddling` (32 messages
/// per exchange, every send cut in the middle of a message). The server answers each message with the message
/// itself, or with `reply(index, payload)` when given; `wildcard` bytes in the replies match any byte.
func registerEcho<Handler: StreamHandler>(
    _ prefix: String, straddling: Bool = false, handler: @escaping () -> Handler,
    encode: @escaping (Int, [UInt8]) -> [UInt8], reply: ((Int, [UInt8]) -> [UInt8])? = nil, wildcard: UInt8? = nil,
    loopMetrics: LoopMetrics? = nil, transport: (() throws -> any ConnectionTransportProvider)? = nil,
    afterStop: @escaping () -> Void = {}
) {
    var cases = [("\(prefix)round-trip", 1, false), ("\(prefix)pipelined-32", 32, false)]
    if straddling { cases.append(("\(prefix)straddling-32", 32, true)) }
    for (name, depth, straddles) in cases {
        let fixture = EchoFixture(
            depth: depth, straddling: straddles, handler: handler, encode: encode, reply: reply, wildcard: wildcard,
            loopMetrics: loopMetrics, transport: transport)
        // One iteration: one request/reply exchange on the loopback socket (`depth` messages each way); the client
        // waits for every echo before sending again.
        Benchmark(name, configuration: configuration(scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations {
                try fixture.roundTrip()
            }
        } setup: {
            try fixture.start()
        } teardown: {
            fixture.stop()
            afterStop()
        }
    }
}

func registerEchoBenchmarks() {
    // The framework's own frames (4-byte big-endian length) through a FrameHandler.
    registerEcho(
        "Echo.", straddling: true, handler: { EchoHandler() },
        encode: { _, payload in withUnsafeBytes(of: UInt32(payload.count).bigEndian) { Array($0) } + payload })
    // 2-byte little-endian length field: Decoded(LengthFieldDecoder, MessageHandler) + writeFrame(_:using:).
    registerEcho(
        "Echo.le16-", straddling: true,
        handler: { Decoded(LittleEndian16EchoHandler.decoder, LittleEndian16EchoHandler()) },
        encode: { _, payload in withUnsafeBytes(of: UInt16(payload.count).littleEndian) { Array($0) } + payload })
    // Lines: Decoded(DelimiterDecoder.lines(), MessageHandler), each line written back with "\n".
    registerEcho(
        "Echo.lines-", straddling: true, handler: { Decoded(DelimiterDecoder.lines(), LineEchoHandler()) },
        encode: { _, payload in payload + [0x0A] })
    // No codec: a raw StreamHandler writes back every byte it is shown (64-byte chunks of a plain byte stream).
    registerEcho("Echo.stream-", handler: { StreamEchoHandler() }, encode: { _, payload in payload })
    // The frame echo observed: the loop reports its metrics to a swift-metrics backend every 100 us (so every
    // measured sample of 1,000 exchanges includes hundreds of reports, where the default 1 s would fall in few),
    // and the handler reads its connection's logger on every frame. Both must allocate nothing.
    let backend = TextMetricsFactory()
    registerEcho(
        "Echo.observed-", handler: { ObservedEchoHandler() },
        encode: { _, payload in withUnsafeBytes(of: UInt32(payload.count).bigEndian) { Array($0) } + payload },
        loopMetrics: .swiftMetrics(interval: .microseconds(100), factory: backend),
        afterStop: {
            // Proof that the reports ran: the loop's iterations reached the backend.
            let iterations = backend.value("reactor.loop.iterations", [("loop", "0")]) ?? 0
            precondition(iterations > 0, "the observed echo's loop reported no metrics")
        })
}

/// ``EchoHandler`` that also takes its connection's logger on every frame (built once, when the connection opens)
/// and checks its level, as a handler deciding whether to log would.
struct ObservedEchoHandler: FrameHandler {
    func onOpen(connection: inout ConnectionContext) {
        connection.logger.debug("opened")
    }

    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        if connection.logger.logLevel <= .trace { connection.logger.trace("frame") }
        connection.write(frame)
    }
}
