@_spi(Fuzzing) import FuzzSupport
@_spi(Fuzzing) import ReactorCore
import ReactorRESP
import ReactorRedisStore

/// One fuzz input for reactor-redis's command path: a stream of requests (``RedisRequestBuilder``) sent in random
/// pieces to the real ``RedisCommandHandler`` behind ``RESPStreamHandler`` (as reactor-redis runs them:
/// ``UnlockedRedisHandler`` or ``ShardedRedisHandler``), on a never-started sub-reactor's real read path
/// (``StreamHandlerHarness``), the fuzzer playing the client and the loop thread.
///
/// What the server must do is read off the stream with the server's own decoder (``RESPRequestDecoder`` with the
/// server's limits; RESPRequestDecoderFuzzer checks it against a model of redis): the requests in order, up to the
/// first that ends the connection: `QUIT` (one reply, then a close), `host:` or `post` (redis's HTTP guard: a close
/// without a reply), or a protocol error (one error reply, then a close). Checked:
///
/// - no crash, no AddressSanitizer or LeakSanitizer report;
/// - every reply is well-formed (``RESPReplyParser``): RESP2, or RESP3 once a `HELLO 3` was answered (a `HELLO 2`
///   or `HELLO 3` reply is in the protocol it asks for, and switches to it unless it is an error; after an `EXEC`
///   that ran a queued `HELLO`, either protocol, until the next `HELLO`);
/// - exactly one reply per request, counted over everything received until the server closed: no reply missing,
///   none extra, no bytes after the last one;
/// - the connection stays open until a request that ends it has been sent (checked after every loop turn while
///   sending), and then closes for that reason: `closedByHandler` for `QUIT` and the HTTP guard,
///   `decodingFailed(.malformedMessage)` for a protocol error; without one it closes only after the client's end of
///   stream, as `peerClosed`, or `truncatedFrame` with exactly the bytes of the unfinished request left;
/// - the close reaches the handler with the connection's own state, the connection lifecycle only moves forward,
///   and afterwards no connection, admission or pool byte is left over.
///
/// After the check, a second connection sends `FLUSHALL` and must get `+OK`, so the next input starts from an empty
/// store and the input frees what it allocated (libFuzzer counts mallocs and frees per input for leak detection).
///
/// Input layout (missing bytes read as zero):
///
/// - byte 0: bit 0 the sharded keyspace (two loops' worth of locks; otherwise the unlocked one-loop keyspace), bits
///   1–2 the reactor's `SO_SNDBUF` (default, the kernel's minimum, 8 KiB, 64 KiB: small ones force partial writes
///   of replies), bit 3 a minimal `SO_SNDBUF` for the client, bits 4–6 the chance (n/8) to read replies after each
///   piece;
/// - byte 1: the largest piece, 2^(n % 12) bytes;
/// - bytes 2–9: the seed of the piece sizes;
/// - the rest: the program ``RedisRequestBuilder`` runs.
struct RedisCommandCheck {
    /// The store's settings (redis's defaults) and the limits ``RedisServer`` sets from them.
    static let settings = RedisSettings()
    /// The linger timeout is a minute, not 2 s: it is wall-clock time, and a fuzzer starved of CPU (nice 19 on a
    /// loaded machine) once spent over 2 s between the harness's reads of 2 MB of replies, and the loop closed as
    /// designed with `peerStoppedReading`.
    static let limits: ConnectionLimits = {
        var limits = RedisServer.configure(ServerConfiguration(subReactors: 1), settings).limits
        limits.lingerTimeout = .seconds(60)
        return limits
    }()
    /// The decoder the server runs (``RedisServer``).
    static let decoder = RESPRequestDecoder(maxBulkLength: settings.maxBulkLength)
    static let sendBuffers: [Int?] = [nil, 1, 8 << 10, 64 << 10]

    let sharded: Bool
    let serverSendBuffer: Int?
    let peerSendBuffer: Int?
    let readChance: Int
    let largestPiece: Int
    var random: SplitMix64
    let stream: [UInt8]

    init(input: inout FuzzInput) {
        let flags = Int(input.byte())
        sharded = flags & 1 != 0
        serverSendBuffer = Self.sendBuffers[(flags >> 1) & 3]
        peerSendBuffer = flags & 8 != 0 ? 1 : nil
        readChance = (flags >> 4) & 7
        largestPiece = 1 << (Int(input.byte()) % 12)
        random = SplitMix64(seed: input.uint64())
        var builder = RedisRequestBuilder(program: input.rest())
        stream = builder.build()
    }

    /// What ends a connection before the client does.
    enum Ending: CustomStringConvertible {
        /// `QUIT`: `+OK`, then a close.
        case quit
        /// `host:` or `post` (redis's guard against HTTP): a close without a reply.
        case httpGuard
        /// A protocol error: its error reply, then a close.
        case protocolError(RESPProtocolError)

        /// Replies it writes.
        var replies: Int {
            if case .httpGuard = self { return 0 }
            return 1
        }

        var description: String {
            switch self {
            case .quit: return "QUIT"
            case .httpGuard: return "host: or post"
            case .protocolError(let error): return "protocol error \(error)"
            }
        }
    }

    /// The protocol a request's reply is in.
    enum ReplyProtocol {
        /// The connection's.
        case current
        /// `HELLO 2` or `HELLO 3` outside a transaction: its reply is in the version it asks for, and the connection
        /// switches to it unless the reply is an error.
        case hello(Int)
        /// EXEC of a transaction that queued a HELLO: the replies in its array may switch protocol, so it and what
        /// follows (until the next HELLO outside a transaction) are read in either.
        case mixed
    }

    /// What the server must make of the stream.
    struct Expected {
        /// Each request that gets a reply: where it ends in the stream, and its reply's protocol.
        var requests: [(end: Int, reply: ReplyProtocol)] = []
        /// What ends the connection, where it starts in the stream and where it ends.
        var ending: (kind: Ending, start: Int, end: Int)?
        /// Unconsumed bytes at the end of the stream (an unfinished request), when nothing ends the connection.
        var leftover = 0
        /// Replies the client must receive in all.
        var replyCount: Int { requests.count + (ending?.kind.replies ?? 0) }
        /// The bytes of the stream sent after which the connection may close: all of a request that ends it, or
        /// the first byte of a protocol error (the decoder may tell before the rest arrives); nil when nothing may
        /// close it before the client's end of stream.
        var closeAllowedAt: Int? {
            guard let ending else { return nil }
            if case .protocolError = ending.kind { return ending.start + 1 }
            return ending.end
        }
    }

    /// The stream decoded as the server decodes it. Transactions are followed only as far as protocols need: between
    /// `MULTI` and `EXEC` or `DISCARD` commands are queued (`+QUEUED`), but `QUIT`, `host:` and `post` still run.
    func expected(arguments: RESPArguments) -> Expected {
        var expected = Expected()
        var offset = 0
        var inTransaction = false
        var queuedHello = false
        stream.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let step: RESPRequestDecoder.Step
                do throws(RESPProtocolError) {
                    step = try Self.decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...]), into: arguments)
                } catch {
                    expected.ending = (.protocolError(error), offset, offset)
                    return
                }
                switch step {
                case .skip(let consumed):
                    offset += consumed
                case .needMoreInput:
                    expected.leftover = bytes.count - offset
                    return
                case .request(_, let consumed):
                    let name = String(
                        decoding: arguments[0].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
                    if name == "quit" || name == "host:" || name == "post" {
                        expected.ending = (name == "quit" ? .quit : .httpGuard, offset, offset + consumed)
                        return
                    }
                    var reply = ReplyProtocol.current
                    switch name {
                    case "multi" where arguments.count == 1 && !inTransaction:
                        inTransaction = true
                        queuedHello = false
                    case "exec":
                        if inTransaction && arguments.count == 1 && queuedHello { reply = .mixed }
                        inTransaction = false  // EXEC with arguments ends the transaction too (EXECABORT)
                    case "discard" where arguments.count == 1:
                        inTransaction = false
                    case "hello" where inTransaction:
                        queuedHello = true
                    case "hello" where arguments.count >= 2:
                        let version = String(decoding: arguments[1], as: UTF8.self)
                        if version == "2" || version == "3" { reply = .hello(version == "2" ? 2 : 3) }
                    default:
                        break
                    }
                    offset += consumed
                    expected.requests.append((offset, reply))
                }
            }
        }
        return expected
    }

    /// Runs the input on `harness`; `arguments` and `replies` are scratch space kept across inputs.
    mutating func run<Handler: RESPSpecializedHandler>(
        harness: StreamHandlerHarness<Handler>, arguments: RESPArguments, replies: inout [UInt8]
    ) {
        let expected = expected(arguments: arguments)
        if verbose {
            print(
                "stream (\(stream.count) bytes): \(String(decoding: stream.prefix(300), as: UTF8.self).debugDescription)"
            )
            print("expected: \(expected.requests.count) requests, ending \(expected.ending.map { "\($0)" } ?? "none")")
        }
        replies.removeAll(keepingCapacity: true)
        do {
            try harness.connect(serverSendBuffer: serverSendBuffer, peerSendBuffer: peerSendBuffer)
        } catch {
            fatalError("connect failed: \(error)")
        }
        expect(harness.isConnectionOpen, "the connection did not open")

        // Send the stream piece by piece, running the loop after each write; the connection must stay open until
        // a request that ends it was sent.
        stream.withUnsafeBytes { stream in
            _ = sendInPieces(
                stream, random: &random, largestPiece: largestPiece, readChance: readChance,
                send: { harness.sendPiece($0, collectingReplies: &replies) },
                read: {
                    _ = harness.drainReplies(into: &replies)
                    harness.runLoopIteration()
                },
                shouldGoOn: { sent in
                    guard !harness.isConnectionOpen else { return true }
                    expect(
                        expected.closeAllowedAt.map { sent >= $0 } ?? false,
                        "closed (\(harness.closeReason.map { "\($0)" } ?? "?")) after \(sent) bytes; the stream's "
                            + "ending: \(expected.ending.map { "\($0)" } ?? "none")")
                    return false
                })
        }

        // End of stream: the server answers what is left and closes; the client reads until end of stream.
        expect(
            harness.endPeerStream(collectingReplies: &replies),
            "the client saw end of stream but the connection stayed open")
        guard let reason = harness.closeReason else { fatalError("closed without telling the handler") }
        trace(
            "\(stream.count) bytes, \(expected.replyCount) replies expected, \(replies.count) bytes of replies, \(reason)"
        )
        check(reason: reason, expected: expected)
        checkReplies(replies, expected: expected)
        expectClosedCleanly(harness)
        harness.disconnect()
        flush(harness, replies: &replies)
    }

    private func check(reason: CloseReason, expected: Expected) {
        switch (expected.ending?.kind, reason) {
        case (.quit, .closedByHandler), (.httpGuard, .closedByHandler),
            (.protocolError, .decodingFailed(.malformedMessage)):
            break
        case (nil, .peerClosed) where expected.leftover == 0:
            break
        case (nil, .truncatedFrame(let buffered)) where expected.leftover > 0:
            expect(buffered == expected.leftover, "truncatedFrame with \(buffered) bytes, \(expected.leftover) left")
        default:
            fatalError(
                "check failed: closed with \(reason), expected \(expected.ending.map { "\($0)" } ?? "none") "
                    + "(\(expected.leftover) bytes left)")
        }
    }

    /// Every reply well-formed, exactly one per request, nothing after the last.
    private func checkReplies(_ replies: [UInt8], expected: Expected) {
        var current = RESPReplyParser.RESPProtocol.resp2
        var offset = 0
        replies.withUnsafeBytes { bytes in
            for index in 0..<expected.replyCount {
                let reply = index < expected.requests.count ? expected.requests[index].reply : .current
                var protocolOfReply = current
                switch reply {
                case .current: break
                case .hello(let version): protocolOfReply = version == 3 ? .resp3 : .resp2
                case .mixed: protocolOfReply = .either
                }
                switch RESPReplyParser.read(bytes, from: offset, in: protocolOfReply) {
                case .reply(let length, let isError):
                    if case .mixed = reply { current = .either }
                    if case .hello = reply, !isError { current = protocolOfReply }
                    offset += length
                case .incomplete:
                    fatalError(
                        "check failed: \(index) of \(expected.replyCount) replies, then \(bytes.count - offset) bytes "
                            + "of an incomplete one: \(Self.show(bytes, from: offset))")
                case .malformed(let reason, let at):
                    fatalError(
                        "check failed: reply \(index) (\(protocolOfReply)) is malformed: \(reason) at byte \(at): "
                            + Self.show(bytes, from: offset))
                }
            }
            expect(
                offset == bytes.count,
                "\(bytes.count - offset) bytes after the \(expected.replyCount) replies: \(Self.show(bytes, from: offset))"
            )
        }
    }

    /// Empties the store through a second connection (`FLUSHALL`, which must answer `+OK`).
    private func flush<Handler: RESPSpecializedHandler>(
        _ harness: StreamHandlerHarness<Handler>, replies: inout [UInt8]
    ) {
        replies.removeAll(keepingCapacity: true)
        do {
            try harness.connect()
        } catch {
            fatalError("connect failed: \(error)")
        }
        let request: StaticString = "*1\r\n$8\r\nFLUSHALL\r\n"
        let written = harness.send(UnsafeRawBufferPointer(start: request.utf8Start, count: request.utf8CodeUnitCount))
        expect(written == request.utf8CodeUnitCount, "FLUSHALL: \(written.map { "\($0)" } ?? "nil") bytes sent")
        expect(harness.endPeerStream(collectingReplies: &replies), "FLUSHALL's connection stayed open")
        expect(replies.elementsEqual("+OK\r\n".utf8), "FLUSHALL answered \(Self.show(replies, from: 0))")
        harness.disconnect()
    }

    /// Up to 200 bytes from `offset`, for a failure message.
    static func show<Bytes: Collection<UInt8>>(_ bytes: Bytes, from offset: Int) -> String {
        String(decoding: bytes.dropFirst(offset).prefix(200), as: UTF8.self).debugDescription
    }
}
