import Benchmark
import ReactorCore
import ReactorRESP

/// The requests the RESP benchmarks send, cycling through the first `kinds` of: `SET key:NNNNNN <64-byte value>`,
/// `GET key:NNNNNN` and `PING` as multibulk arrays (what client libraries send), and an inline `PING` (what
/// `redis-benchmark`'s PING_INLINE sends). `payload` is the value a SET carries; NNNNNN is `index`.
func respRequest(_ index: Int, _ payload: [UInt8], kinds: Int = 4) -> [UInt8] {
    let key = Array("key:".utf8) + Array(String(index % 1_000_000).utf8).padded(to: 6)
    func bulk(_ bytes: [UInt8]) -> [UInt8] { Array("$\(bytes.count)\r\n".utf8) + bytes + [0x0D, 0x0A] }
    switch index % kinds {
    case 0: return Array("*3\r\n".utf8) + bulk(Array("SET".utf8)) + bulk(key) + bulk(payload)
    case 1: return Array("*2\r\n".utf8) + bulk(Array("GET".utf8)) + bulk(key)
    case 2: return Array("*1\r\n".utf8) + bulk(Array("PING".utf8))
    default: return Array("PING\r\n".utf8)
    }
}

/// What ``TinyRESPHandler`` answers to ``respRequest(_:_:)``.
func respReply(_ index: Int, _ payload: [UInt8]) -> [UInt8] {
    switch index % 4 {
    case 0: return Array("+OK\r\n".utf8)
    case 1: return Array("$\(TinyRESPHandler.value.utf8CodeUnitCount)\r\n\(TinyRESPHandler.value)\r\n".utf8)
    default: return Array("+PONG\r\n".utf8)
    }
}

extension Array where Element == UInt8 {
    /// The digits left-padded with `0` to `width`.
    fileprivate func padded(to width: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(ascii: "0"), count: Swift.max(0, width - count)) + self
    }
}

/// The smallest useful Redis: `PING` → `+PONG`, `GET` → a fixed 64-byte bulk string, `SET` → `+OK` (the value is
/// not kept), anything else an error. Dispatches on `RESPCommandName` and writes with the reply writers, so a
/// request costs no allocation of its own: whatever the benchmark counts is the framework's.
struct TinyRESPHandler: RESPCommandHandler {
    static let value: StaticString = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
    static let ping = RESPCommandName("PING")
    static let get = RESPCommandName("GET")
    static let set = RESPCommandName("SET")

    func onCommand(_ command: borrowing RESPCommand, state: inout Void, connection: inout ConnectionContext) {
        switch command.name {
        case Self.ping: connection.writeSimpleString("PONG")
        case Self.get: connection.writeBulkString(Self.value)
        case Self.set: connection.writeSimpleString("OK")
        default: connection.writeError("ERR unknown command" as StaticString)
        }
    }
}

/// `depth` requests of ``respRequest(_:_:kinds:)`` (the first `kinds` kinds) in one buffer, pipelined, and what
/// decoding them must find.
struct RESPRequestBuffer {
    let bytes: UnsafeMutableRawBufferPointer
    let requestCount: Int
    /// The arguments of all the requests together.
    let argumentCount: Int

    init(depth: Int, kinds: Int) {
        var wire: [UInt8] = []
        var arguments = 0
        for index in 0..<depth {
            let payload = (0..<64).map { UInt8(truncatingIfNeeded: 0x21 + (index &* 31 &+ $0) % 0x5E) }
            wire += respRequest(index, payload, kinds: kinds)
            arguments += [3, 2, 1, 1][index % kinds]
        }
        bytes = .allocate(byteCount: wire.count, alignment: 64)
        bytes.copyBytes(from: wire)
        requestCount = depth
        argumentCount = arguments
    }
}

/// `RESPStreamHandler.onRead`'s loop over one buffer: decode at the front of the unconsumed bytes, hand the request
/// on (here: look its name up and touch every argument), consume it, repeat until the decoder needs more.
@inline(__always)
func decodeRESP(
    _ decoder: RESPRequestDecoder, _ input: UnsafeRawBufferPointer, into arguments: RESPArguments
) -> (requests: Int, arguments: Int, bytes: Int) {
    var offset = 0
    var requests = 0
    var argumentTotal = 0
    var bytes = 0
    while offset < input.count {
        let step: RESPRequestDecoder.Step
        do throws(RESPProtocolError) {
            step = try decoder.decode(UnsafeRawBufferPointer(rebasing: input[offset...]), into: arguments)
        } catch {
            preconditionFailure("decoding failed: \(error)")
        }
        switch step {
        case .request(let count, let consumed):
            requests += 1
            argumentTotal += count
            if RESPCommandName(bytes: arguments[0]) == TinyRESPHandler.set { bytes &+= 1 }
            for index in 0..<count {
                let argument = arguments[index]
                bytes &+= argument.count
                if !argument.isEmpty { bytes &+= Int(argument[0]) }
            }
            offset += consumed
        case .skip(let consumed):
            offset += consumed
        case .needMoreInput:
            return (requests, argumentTotal, bytes)
        }
    }
    return (requests, argumentTotal, bytes)
}

func registerRESPBenchmarks() {
    // One iteration: decode 32 pipelined multibulk requests (16 × `SET key:NNNNNN <64-byte value>` and
    // `GET key:NNNNNN`, 2,096 bytes) in place, with one RESPArguments reused throughout, as a loop reuses its own.
    let buffer = RESPRequestBuffer(depth: 32, kinds: 2)
    let decoder = RESPRequestDecoder()
    let arguments = RESPArguments()
    Benchmark("RESPDecode.in-place", configuration: configuration(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            let tally = decodeRESP(decoder, UnsafeRawBufferPointer(buffer.bytes), into: arguments)
            precondition(
                tally.requests == buffer.requestCount && tally.arguments == buffer.argumentCount,
                "decoded \(tally.requests) requests")
            blackHole(tally.bytes)
        }
    }

    // A real Server running RESPStreamHandler(TinyRESPHandler()) on 127.0.0.1: one request per exchange, 32
    // pipelined per exchange, and 32 per exchange with every send cut in the middle of a SET (the server keeps a
    // partial request between reads, asks for the rest with expect(atLeast:) and decodes it again once it is there).
    // Every reply byte is checked.
    registerEcho(
        "RESP.", straddling: true, handler: { RESPStreamHandler(TinyRESPHandler()) },
        encode: { index, payload in respRequest(index, payload) }, reply: respReply)
}
