import CTLSFuzzSupport
@_spi(Fuzzing) import FuzzSupport
@_spi(Fuzzing) import ReactorCore

/// One fuzz input for the TLS read path: one connection to an echo server (``EchoHandler``) behind ReactorTLS's
/// `TLSServerContext`, on a never-started sub-reactor's real connection path (``StreamHandlerHarness`` with a
/// transport provider), the fuzzer playing the client and the loop thread. Two modes, by the first byte:
///
/// - **Raw**: the rest of the input is the whole client stream (garbage, a hello cut short, plain text), sent in
///   random pieces, then the client's end of stream. Checked: the handler never hears of the connection (no
///   handshake can complete), which closes with one of ``rawReasons``; `tlsPlaintextPeer`, with nothing sent back,
///   exactly when the first byte is printable ASCII; nothing but TLS records comes back.
/// - **Records**: an OpenSSL client (``TLSClient``, memory BIOs) completes a real handshake (TLS 1.2 or 1.3, with the
///   suite the input picks), then the input is a program of operations on the stream (``Operation``): valid records
///   of plaintext, a record with a byte of its ciphertext flipped, a real record behind a forged header (content
///   type, version, a zero length), a raw record, a record longer than TLS allows, close_notify, the end of the
///   stream without close_notify, a renegotiation (TLS 1.2) or a KeyUpdate (TLS 1.3), reading the echo. Checked:
///   - the handler is given exactly the plaintext of the valid records sent before the first bad one (or before
///     the stream ended), in order: a prefix of what the client sent in valid records, nothing after a bad record
///     (``expectedReason`` explains why all of it, not just a prefix: what arrived before a bad record is
///     delivered before the failure is acted on);
///   - what the client reads back through its session is a prefix of that; all of it, followed by the server's
///     close_notify, when the server closed gracefully;
///   - the connection stays open until the first bad record, close_notify, renegotiation or end of stream is sent,
///     then closes for the reason that matches it (``expectedReason``);
///   - nothing but TLS records comes back (the last one may be cut by an abortive close).
///
/// Both modes: no crash, no AddressSanitizer or LeakSanitizer report, `onClose` gets the connection's own state (or
/// none when the handshake never completed), the lifecycle only moves forward, and afterwards no connection,
/// admission or pool byte is left; every 1,024 inputs, no descriptor more than after the first
/// (``DescriptorLeakCheck``).
///
/// Input layout (missing bytes read as zero):
///
/// - byte 0: bit 0 the mode (0 raw, 1 records), bits 1–2 the reactor's limits (``limits(style:)``), bit 3 a minimal
///   `SO_SNDBUF` for the server (its records leave in partial writes), bit 4 a minimal one for the client, bits 5–6
///   the chance (2n/8) to read the replies after each piece, bit 7 a full handshake (otherwise the client resumes
///   the session ``warmUp(harness:received:)`` made for the version and suite: no certificate, no signature);
/// - byte 1: bits 0–3 the largest piece, 2^(n % 15) bytes; bit 4 TLS 1.2 (otherwise 1.3); bits 5–7 the suite
///   (``suites13``, ``ciphers12``);
/// - bytes 2–9: the seed of the piece sizes;
/// - the rest: the raw stream, or the program of operations.
struct TLSReadPathCheck {
    typealias Harness = StreamHandlerHarness<EchoHandler>

    /// The number of limit styles (one harness each).
    static let styles = 4

    /// Style bit 0: a 4 KiB read buffer and a 1 KiB read budget per wakeup, so a read stops while OpenSSL still
    /// holds decrypted records (`hasBufferedInput`: read again at the end of the loop turn). Bit 1: 4 KiB / 1 KiB
    /// write watermarks, so the echo pauses reading and resumes it (with records waiting in OpenSSL). Always: a
    /// 60 s linger and no read timeout (wall-clock time: a starved fuzzer must not meet them).
    static func limits(style: Int) -> ConnectionLimits {
        var limits = ConnectionLimits()
        limits.lingerTimeout = .seconds(60)
        limits.readTimeout = nil
        if style & 1 != 0 {
            limits.readBufferSize = 4096
            limits.maxReadBytesPerWakeup = 1024
        }
        if style & 2 != 0 {
            limits.outboundChunkSize = 4096
            limits.writeHighWatermark = 4096
            limits.writeLowWatermark = 1024
        }
        return limits
    }

    /// TLS 1.3 suites the client offers (nil: OpenSSL's default list, the server's preference wins).
    static let suites13: [String?] = [
        nil, "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384",
    ]
    /// TLS 1.2 cipher lists the client offers, and whether it refuses encrypt-then-MAC (CBC with MAC-then-encrypt).
    static let ciphers12: [(list: String?, noEncryptThenMAC: Bool)] = [
        (nil, false), ("ECDHE-ECDSA-AES128-GCM-SHA256", false), ("ECDHE-ECDSA-CHACHA20-POLY1305", false),
        ("ECDHE-ECDSA-AES128-SHA", false), ("ECDHE-ECDSA-AES128-SHA", true), ("ECDHE-ECDSA-AES256-SHA384", false),
        ("ECDHE-ECDSA-AES256-SHA384", true), ("ECDHE-ECDSA-AES128-SHA256", true),
    ]

    /// The reasons a raw stream may end with: no handshake can complete, so the handler never hears of it.
    /// `peerClosed`: the stream ended before or during the handshake (the transport's handshake reports EOF as the
    /// peer's end); `tlsPlaintextPeer`: a printable first byte; `tlsRecordOverflow`: a record header longer than
    /// TLS allows; `tlsHandshakeFailed`: anything else OpenSSL refuses.
    static let rawReasons: Set<CloseReason.Kind> = [
        .peerClosed, .tlsPlaintextPeer, .tlsRecordOverflow, .tlsHandshakeFailed,
    ]

    /// The plaintext every client writes: byte k of a connection's plaintext is `pattern[k]` (pseudo-random, so a
    /// byte delivered twice, out of order or from the wrong record shows). Also the filler of raw record bodies.
    static let pattern: [UInt8] = {
        var random = SplitMix64(seed: 0x544C_5346_555A_5A00)
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        bytes.withUnsafeMutableBytes { buffer in
            for index in stride(from: 0, to: buffer.count, by: 8) {
                buffer.storeBytes(of: random.next(), toByteOffset: index, as: UInt64.self)
            }
        }
        return bytes
    }()

    let records: Bool
    let style: Int
    let serverSendBuffer: Int?
    let peerSendBuffer: Int?
    let readChance: Int
    let fullHandshake: Bool
    let largestPiece: Int
    let tls12: Bool
    let suite: Int
    let seed: UInt64
    let rest: UnsafeRawBufferPointer

    /// The session each records-mode input resumes, by version and suite (``sessionSlot``): made once, at start.
    nonisolated(unsafe) static var sessions: [OpaquePointer?] = Array(
        repeating: nil, count: ciphers12.count + suites13.count)

    /// True during ``warmUp(harness:received:)``.
    nonisolated(unsafe) static var warmingUp = false

    /// The slot in ``sessions`` of this input's version and suite.
    var sessionSlot: Int { tls12 ? suite % Self.ciphers12.count : Self.ciphers12.count + suite % Self.suites13.count }

    /// Makes the sessions the inputs resume: for each version and suite, a full handshake, a byte echoed (a TLS 1.3
    /// session is resumable once its ticket was read) and close_notify, then a second connection that must resume
    /// it. Once per process, before the first input, so every input of a run finds the same sessions. (The server's
    /// tickets live 2 hours: a later resumption falls back to a full handshake, which is checked the same way.)
    static func warmUp(harness: Harness, received: EchoHandler.Received) {
        warmingUp = true
        defer { warmingUp = false }
        for slot in 0..<sessions.count {
            let tls12 = slot < ciphers12.count
            let suite = tls12 ? slot : slot - ciphers12.count
            for full in [true, false] {
                // Records mode, a full handshake or not; version and suite; a one-byte write, sync, close_notify.
                let bytes: [UInt8] =
                    [full ? 0x81 : 0x01, UInt8(suite << 5) | (tls12 ? 0x10 : 0) | 0x0e]
                    + [UInt8](
                        repeating: 0, count: 8) + [0x00, 0x00, 0x07, 0x01, 0x05]
                bytes.withUnsafeBufferPointer { buffer in
                    var input = FuzzInput(data: buffer.baseAddress, size: buffer.count)
                    TLSReadPathCheck(input: &input).run(harness: harness, received: received)
                }
                expect(sessions[slot] != nil, "no resumable session for slot \(slot)")
            }
        }
    }

    init(input: inout FuzzInput) {
        let flags = Int(input.byte())
        records = flags & 1 != 0
        style = (flags >> 1) & 3
        serverSendBuffer = flags & 8 != 0 ? 1 : nil
        peerSendBuffer = flags & 16 != 0 ? 1 : nil
        readChance = 2 * ((flags >> 5) & 3)
        fullHandshake = flags & 0x80 != 0
        let shape = Int(input.byte())
        largestPiece = 1 << ((shape & 15) % 15)
        tls12 = shape & 16 != 0
        suite = shape >> 5
        seed = input.uint64()
        rest = input.rest()
    }

    /// Runs the input on `harness` (the one for ``style``); `received` is the echo handler's record.
    func run(harness: Harness, received: EchoHandler.Received) {
        received.bytes.removeAll(keepingCapacity: true)
        do {
            try harness.connect(serverSendBuffer: serverSendBuffer, peerSendBuffer: peerSendBuffer)
        } catch {
            fatalError("connect failed: \(error)")
        }
        expect(harness.isConnectionOpen, "the connection did not register")
        expect(!harness.handlerOpened, "the handler heard of the connection before its handshake")
        let session = Session(
            harness: harness, random: SplitMix64(seed: seed), largestPiece: largestPiece, readChance: readChance)
        if records {
            var program = FuzzInput(data: rest.baseAddress?.assumingMemoryBound(to: UInt8.self), size: rest.count)
            var run = RecordsRun(check: self, session: session, received: received)
            run.run(program: &program)
        } else {
            runRaw(session: session, received: received)
        }
        expectClosedCleanly(harness)
        harness.disconnect()
    }

    /// Raw mode: the input is the client's whole stream.
    private func runRaw(session: Session, received: EchoHandler.Received) {
        let harness = session.harness
        let sent = session.transmit(rest, pieces: 1024)  // cheap without a handshake: up to 1 KiB byte by byte
        expect(
            harness.endPeerStream(collectingReplies: &session.wire),
            "the client saw end of stream but the connection stayed open")
        session.collect()
        guard let reason = harness.closeReason else { fatalError("closed without telling the handler") }
        trace("raw: \(rest.count) bytes, \(sent) sent; \(session.replies.count) bytes back; \(describe(reason))")
        expect(!harness.handlerOpened, "a raw stream completed a handshake (\(describe(reason)))")
        expect(received.bytes.isEmpty, "a raw stream delivered \(received.bytes.count) bytes")
        expect(Self.rawReasons.contains(reason.kind), "a raw stream closed with \(describe(reason))")
        if let first = rest.first, first >= 0x20 && first < 0x7F {
            expect(
                reason == .tlsPlaintextPeer && session.replies.isEmpty,
                "a printable first byte: closed with \(describe(reason)), \(session.replies.count) bytes sent back")
        } else {
            expect(reason != .tlsPlaintextPeer, "tlsPlaintextPeer for a first byte of \(rest.first ?? 0)")
        }
        if let problem = TLSRecordFraming.problem(in: session.replies, allowCut: true) {
            fatalError("check failed: the server sent something else than TLS records: \(problem)")
        }
    }
}

/// A close reason with OpenSSL's text for its error code.
func describe(_ reason: CloseReason) -> String {
    switch reason {
    case .tlsProtocolError(let code), .tlsHandshakeFailed(let code), .tlsCertificateRejected(let code):
        return "\(reason) [\(TLSClient.describe(UInt(code.rawValue)))]"
    default:
        return "\(reason)"
    }
}

/// The client side of one connection: the harness's socket, the pieces the client's bytes go out in, and every
/// byte the server sent back (handed on to the TLS client once it has one).
final class Session {
    let harness: TLSReadPathCheck.Harness
    var random: SplitMix64
    let largestPiece: Int
    let readChance: Int
    /// The TLS client, once there is one (records mode).
    var client: TLSClient?
    /// Whether the client reads the echo when replies are collected (not during the handshake).
    var readsEcho = false
    /// Replies read from the socket and not yet handed on.
    var wire: [UInt8] = []
    /// Every byte the server sent.
    private(set) var replies: [UInt8] = []

    init(harness: TLSReadPathCheck.Harness, random: SplitMix64, largestPiece: Int, readChance: Int) {
        self.harness = harness
        self.random = random
        self.largestPiece = largestPiece
        self.readChance = readChance
    }

    /// Sends `bytes` in random pieces, running the loop after each write and collecting the replies at random
    /// moments; stops when the connection is gone. Returns the bytes sent. At most about `pieces` pieces (a piece is
    /// at least a `pieces`th of the bytes): a 64 KiB write in one-byte pieces would cost 65,536 loop turns of TLS
    /// reads, and what matters is where records are cut, which a few dozen cuts per write cover.
    @discardableResult
    func transmit(_ bytes: UnsafeRawBufferPointer, pieces: Int = 32) -> Int {
        sendInPieces(
            bytes, random: &random, smallestPiece: bytes.count / pieces, largestPiece: largestPiece,
            readChance: readChance,
            send: { harness.sendPiece($0, collectingReplies: &wire) },
            read: {
                _ = harness.drainReplies(into: &wire)
                harness.runLoopIteration()
                collect()
            })
    }

    /// Sends whatever the client has written.
    @discardableResult
    func flushClient() -> Int {
        guard let client, client.outputPending > 0 else { return 0 }
        var bytes: [UInt8] = []
        client.takeOutput(into: &bytes)
        return bytes.withUnsafeBytes { transmit($0) }
    }

    /// Reads the replies that arrived and hands them to the client (which reads the echo, after the handshake).
    func collect() {
        _ = harness.drainReplies(into: &wire)
        guard !wire.isEmpty else {
            if readsEcho { client?.readEcho() }
            return
        }
        replies += wire
        client?.receive(wire)
        wire.removeAll(keepingCapacity: true)
        if readsEcho { client?.readEcho() }
    }
}
