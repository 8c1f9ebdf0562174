@_spi(Fuzzing) import FuzzSupport
@_spi(Fuzzing) import ReactorCore
import ReactorHTTP1
import ReactorHTTPEndpoints

/// One fuzz input for reactor-http's whole server path: a stream of requests (``HTTPRequestBuilder``) sent in random
/// pieces to the real ``HTTPBenchmarkServer`` (``HTTPBenchmarkEndpoints`` behind ``HTTP1StreamHandler`` and
/// ``HTTP1RequestDecoder``) on a never-started sub-reactor's real read path (``StreamHandlerHarness``), the fuzzer
/// playing the client and the loop thread.
///
/// Two models, each checked:
///
/// 1. The builder's own (``RequestIntent``), independent of the decoder: up to the first request it cannot vouch for
///    (raw bytes, a changed byte), each well-formed request within the limits is answered by the reference model of
///    the endpoints (200 with the exact body for `GET`/`HEAD` `/plaintext` and `/json`, the request's body for
///    `POST /echo`, 405, 404, no body for `HEAD`, `Connection` as the version and the request's field say), ending
///    where the builder says; a request with a defect (smuggling cases and the others of
///    ``HTTPRequestBuilder/Mutation``) or over a limit is refused with its status (any error status when both);
///    nothing after a request that does not keep the connection alive is answered; a request cut short at the
///    end is not answered and stays buffered.
/// 2. The decoder's reading of the whole stream (``ExpectedConversation/decode(_:decoder:request:)``), the model of
///    the endpoints applied to each request: the builder's intents must agree with it (the same boundaries, the
///    same answers), and the server must write exactly what it says, whatever the bytes.
///
/// Checked against the bytes the client received: every byte belongs to a well-formed HTTP/1.1 response
/// (``HTTPResponseParser``), the final responses are exactly the expected ones in order (status, `Content-Length`,
/// `Content-Type`, `Server`, `Connection`, body), a `100 Continue` only where the request asked for one (at most one
/// per request), an error status only as the last response, always with `Connection: close` and an empty body, and
/// nothing after the last. The server closes (the client reads end of stream before ending its own) exactly when
/// the last response carries `Connection: close`, with `closedByHandler` (after the endpoints' response) or
/// `decodingFailed` (after a refusal); otherwise at the client's end of stream, with `peerClosed`, or
/// `truncatedFrame` with exactly the bytes of the unfinished request. Then, as RedisCommandFuzzer: the close reached
/// the handler with the connection's state, the lifecycle only moved forward, no connection, admission or pool byte
/// is left, and no leak (LeakSanitizer).
///
/// Input layout (missing bytes read as zero):
///
/// - byte 0: bit 0 small decoder limits (from bytes 10–14; otherwise reactor-http's defaults), bit 1 a minimal
///   `SO_SNDBUF` for the server (partial writes of responses), bits 4–6 the chance (n/8) to read responses after
///   each piece;
/// - byte 1: the largest piece, 2^(n % 11) bytes;
/// - bytes 2–9: the seed of the piece sizes;
/// - bytes 10–14: small limits: request line 16 + n % 64, header section 16 + 2n, fields 1 + n % 8, body n % 128,
///   chunk line 1 + n % 16;
/// - the rest: the program ``HTTPRequestBuilder`` runs.
struct HTTPServerCheck {
    /// reactor-http's decoder with its default limits, and its `maxBufferedInput` for them.
    static let defaultDecoder = HTTP1RequestDecoder()
    static let limits: ConnectionLimits = {
        var limits = ConnectionLimits()
        let decoder = defaultDecoder
        limits.maxBufferedInput =
            decoder.maxHeaderSectionLength + decoder.maxBodyLength + decoder.maxBodyLength / 4 + 65536
        // Wall-clock time: a minute, so that a fuzzer starved of CPU is not closed as a peer that stopped reading
        // (as RedisCommandFuzzer once was with the 2 s default).
        limits.lingerTimeout = .seconds(60)
        return limits
    }()

    let decoder: HTTP1RequestDecoder
    let serverSendBuffer: Int?
    let readChance: Int
    let largestPiece: Int
    var random: SplitMix64
    let stream: [UInt8]
    let intents: [RequestIntent]

    init(input: inout FuzzInput) {
        let flags = Int(input.byte())
        serverSendBuffer = flags & 2 != 0 ? 1 : nil
        readChance = (flags >> 4) & 7
        largestPiece = 1 << (Int(input.byte()) % 11)
        random = SplitMix64(seed: input.uint64())
        let small = HTTP1RequestDecoder(
            maxRequestLineLength: 16 + Int(input.byte()) % 64, maxHeaderSectionLength: 16 + 2 * Int(input.byte()),
            maxFieldCount: 1 + Int(input.byte()) % 8, maxBodyLength: Int(input.byte()) % 128,
            maxChunkLineLength: 1 + Int(input.byte()) % 16)
        decoder = flags & 1 != 0 ? small : Self.defaultDecoder
        var builder = HTTPRequestBuilder(program: input.rest(), decoder: decoder)
        builder.build()
        stream = builder.stream
        intents = builder.intents
    }

    mutating func run(
        harness: StreamHandlerHarness<HTTPBenchmarkServer>, expected: inout ExpectedConversation,
        oracleRequest: HTTP1DecodedRequest, replies: inout [UInt8]
    ) {
        trace(
            "limits: request line \(decoder.maxRequestLineLength), header section \(decoder.maxHeaderSectionLength), "
                + "fields \(decoder.maxFieldCount), body \(decoder.maxBodyLength); stream: "
                + String(decoding: stream.prefix(2048), as: UTF8.self).debugDescription)
        stream.withUnsafeBytes { expected.decode($0, decoder: decoder, request: oracleRequest) }
        checkIntents(expected)

        harness.handler.base.decoder = decoder
        replies.removeAll(keepingCapacity: true)
        do {
            try harness.connect(serverSendBuffer: serverSendBuffer)
        } catch {
            fatalError("connect failed: \(error)")
        }
        let serverCloses = expected.ending.serverCloses
        stream.withUnsafeBytes { stream in
            _ = sendInPieces(
                stream, random: &random, smallestPiece: max(1, stream.count / 256), largestPiece: largestPiece,
                readChance: readChance,
                send: { harness.sendPiece($0, collectingReplies: &replies) },
                read: {
                    _ = harness.drainReplies(into: &replies)
                    harness.runLoopIteration()
                },
                shouldGoOn: { sent in
                    guard !harness.isConnectionOpen else { return true }
                    expect(
                        serverCloses,
                        "closed (\(harness.closeReason.map { "\($0)" } ?? "?")) after \(sent) bytes, expected "
                            + "\(expected.ending)")
                    return false
                })
        }

        // Before the client ends its stream: the server has closed (the client reads end of stream) exactly when
        // its last response says so.
        var sawEnd = false
        var quiet = 0
        while quiet < 3 {
            let events = harness.runLoopIteration()
            let before = replies.count
            if !harness.drainReplies(into: &replies) {
                sawEnd = true
                break
            }
            quiet = events == 0 && replies.count == before ? quiet + 1 : 0
        }
        expect(
            sawEnd == serverCloses,
            sawEnd
                ? "the server closed before the client's end of stream, expected \(expected.ending)"
                : "the server did not close after its last response, expected \(expected.ending)")

        expect(
            harness.endPeerStream(collectingReplies: &replies),
            "the client saw end of stream but the connection stayed open")
        guard let reason = harness.closeReason else { fatalError("closed without telling the handler") }
        trace(
            "\(stream.count) bytes, \(intents.count) requests built, \(expected.responses.count) responses expected, "
                + "then \(expected.ending); \(replies.count) bytes of responses, \(reason)")
        check(reason: reason, ending: expected.ending)
        checkResponses(replies, expected: expected)
        expectClosedCleanly(harness)
        harness.disconnect()
    }

    /// The builder's intents agree with the decoder's reading, up to the first the builder cannot vouch for.
    private func checkIntents(_ expected: ExpectedConversation) {
        for (index, intent) in intents.enumerated() {
            switch intent.kind {
            case .valid(let response):
                expect(
                    index < expected.responses.count,
                    "request \(index) (well-formed, ending at \(intent.end)) not answered: \(expected.responses.count) "
                        + "answered, then \(expected.ending)")
                expect(
                    expected.ends[index] == intent.end,
                    "request \(index) ends at \(expected.ends[index]), built to end at \(intent.end)")
                expect(
                    response.same(
                        as: expected.responses[index], store: HTTPRequestBuilder.pattern, otherStore: expected.bodies),
                    "request \(index): the decoder's reading is answered \(expected.responses[index]), the "
                        + "builder's with \(response)")
                if response.connection == .close {
                    expect(
                        expected.responses.count == index + 1 && expected.ending == .closedAfterResponse,
                        "request \(index) closes, but \(expected.responses.count) answered, then \(expected.ending)")
                    return
                }
            case .refused(let status):
                var refused = false
                if case .refused(let actual, _) = expected.ending {
                    refused = status.map { $0 == actual } ?? true
                }
                expect(
                    expected.responses.count == index && refused,
                    "request \(index) must be refused (\(status.map { "\($0)" } ?? "any status")), but "
                        + "\(expected.responses.count) answered, then \(expected.ending)")
                return
            case .truncated(let leftover):
                var open = false
                if case .open(let actual, _) = expected.ending { open = actual == leftover }
                expect(
                    expected.responses.count == index && open,
                    "request \(index) is cut after \(leftover) bytes, but \(expected.responses.count) answered, then "
                        + "\(expected.ending)")
                return
            case .unknown:
                return
            }
        }
        expect(
            expected.responses.count == intents.count && expected.ending == .open(leftover: 0, continueAllowed: false),
            "\(intents.count) requests, \(expected.responses.count) answered, then \(expected.ending)")
    }

    private func check(reason: CloseReason, ending: ExpectedEnding) {
        switch (ending, reason) {
        case (.closedAfterResponse, .closedByHandler), (.refused, .decodingFailed(.malformedMessage)):
            break
        case (.open(let leftover, _), .peerClosed) where leftover == 0:
            break
        case (.open(let leftover, _), .truncatedFrame(let buffered)) where leftover > 0:
            expect(buffered == leftover, "truncatedFrame with \(buffered) bytes, \(leftover) left")
        default:
            fatalError("check failed: closed with \(reason), expected \(ending)")
        }
    }

    /// Every byte belongs to a well-formed response, exactly the expected ones, nothing after the last.
    private func checkResponses(_ replies: [UInt8], expected: ExpectedConversation) {
        replies.withUnsafeBytes { bytes in
            var offset = 0
            func parse(_ what: @autoclosure () -> String, bodyless: Bool) -> HTTPResponseParser.Response {
                switch HTTPResponseParser.read(bytes, from: offset, bodyless: bodyless) {
                case .response(let response):
                    offset = response.end
                    return response
                case .incomplete:
                    fatalError(
                        "check failed: \(what()): \(bytes.count - offset) bytes of an incomplete response: "
                            + Self.show(bytes, from: offset))
                case .malformed(let reason, let at):
                    fatalError(
                        "check failed: \(what()) is malformed: \(reason) at byte \(at): "
                            + Self.show(bytes, from: offset))
                }
            }
            /// A `100 Continue`, if one comes (allowed only when `allowed`).
            func interim(_ index: Int, allowed: Bool) {
                guard Self.startsWithContinue(bytes, at: offset) else { return }
                expect(allowed, "a 100 Continue before response \(index), whose request did not ask for one")
                let response = parse("100 Continue before response \(index)", bodyless: true)
                expect(response.fieldCount == 0, "100 Continue with fields: \(Self.show(bytes, from: offset))")
            }
            for (index, response) in expected.responses.enumerated() {
                interim(index, allowed: response.continueAllowed)
                let start = offset
                let actual = parse("response \(index) of \(expected.responses.count)", bodyless: response.isHEAD)
                check(actual, index: index, against: response, bodies: expected.bodies, bytes: bytes, start: start)
            }
            switch expected.ending {
            case .open(_, let continueAllowed):
                interim(expected.responses.count, allowed: continueAllowed)
            case .closedAfterResponse:
                break
            case .refused(let status, let continueAllowed):
                interim(expected.responses.count, allowed: continueAllowed)
                let start = offset
                let refusal = parse("the refusal (\(status))", bodyless: false)
                expect(
                    refusal.status == status && refusal.contentLength == 0 && refusal.connection == .close
                        && refusal.contentType == nil && refusal.server == nil,
                    "the refusal: expected \(status) with Content-Length: 0 and Connection: close, got "
                        + Self.show(bytes, from: start))
            }
            expect(
                offset == bytes.count,
                "\(bytes.count - offset) bytes after the last response (\(expected.ending)): "
                    + Self.show(bytes, from: offset))
        }
    }

    private func check(
        _ actual: HTTPResponseParser.Response, index: Int, against expected: ExpectedResponse, bodies: [UInt8],
        bytes: UnsafeRawBufferPointer, start: Int
    ) {
        let same = expected.bodyBytes(in: bodies) { body in
            actual.status == expected.status && actual.contentLength == body.count
                && actual.connection == expected.connection
                && (expected.isHEAD || sameBytes(UnsafeRawBufferPointer(rebasing: bytes[actual.body]), body))
        }
        let contentType = actual.contentType.map { Array(bytes[$0]) }
        let server = actual.server.map { Array(bytes[$0]) }
        expect(
            same && contentType == expected.contentType
                && server == (expected.hasServerField ? Array("reactor-http".utf8) : nil),
            "response \(index): expected \(expected), got " + Self.show(bytes, from: start))
    }

    private static func startsWithContinue(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        let prefix: StaticString = "HTTP/1.1 1"
        guard bytes.count - offset >= prefix.utf8CodeUnitCount else { return false }
        return UnsafeRawBufferPointer(rebasing: bytes[offset...]).prefix(
            prefix.utf8CodeUnitCount, startsWith: Array("HTTP/1.1 1".utf8))
    }

    /// Up to 300 bytes from `offset`, for a failure message.
    static func show(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> String {
        String(decoding: bytes[offset...].prefix(300), as: UTF8.self).debugDescription
    }
}
