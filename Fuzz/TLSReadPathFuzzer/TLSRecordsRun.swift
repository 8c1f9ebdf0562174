import CTLSFuzzSupport
import FuzzSupport
@_spi(Fuzzing) import ReactorCore

/// Records mode (``TLSReadPathCheck``): a real handshake, then a program of operations on the record stream.
///
/// The program is a sequence of operations, each an opcode byte (its value modulo 8) and its operands:
///
/// - 0 `n`: a write of plaintext in valid records: `n` + 1 bytes for `n` < 192, else (`n` − 191) KiB (several
///   records);
/// - 1 `n` `p` `p` `m`: a write of up to 16 KiB (`n` as above) whose one record has byte 5 + `p` % its body length
///   xored with `m` (0x80 for 0): a corrupted record;
/// - 2 `k` `v` `v` `n`: a write of up to 16 KiB whose record is sent behind a forged header (`k` % 3): content type
///   `v` (0x16 for 0x17), version `v` (0x0301 for 0x0303), or a zero-length record (`17 03 03 00 00`) sent in front
///   of the intact record;
/// - 3 `t` `v` `v` `l` `l`: a raw record: content type `t`, version `v`, a length of `l` % 16,641 (within TLS 1.3's
///   limit), its body the next `l` program bytes when `l` ≤ 32, else filler;
/// - 4 `l` `l`: a record longer than TLS allows: `17 03 03`, a length of 16,641 + `l` % 48,895, then as many filler
///   bytes;
/// - 5: close_notify;
/// - 6: the end of the stream without close_notify (the rest of the program is ignored);
/// - 7 `s`: by `s` % 4: read the echo now; wait until the echo of everything sent so far is back; TLS 1.2: a
///   renegotiation (after waiting for the echo), TLS 1.3: a KeyUpdate (`s` % 4 = 3: with update_requested); these
///   two only while nothing bad or final was sent.
///
/// After close_notify or a renegotiation the client cannot write records any more: only raw and overlong records
/// (3, 4) are still sent, and must change nothing. Writes stop once the client has written 1 MiB.
struct RecordsRun {
    /// The first thing the server must refuse.
    enum Bad: CustomStringConvertible {
        case corrupted(at: Int)
        case forgedType(UInt8)
        case forgedVersion(UInt16)
        case zeroLength
        case raw(type: UInt8, version: UInt16, length: Int)
        case overflow(length: Int)

        var description: String {
            switch self {
            case .corrupted(let at): return "a record corrupted at byte \(at)"
            case .forgedType(let type): return "a record with content type \(type)"
            case .forgedVersion(let version): return "a record with version \(String(version, radix: 16))"
            case .zeroLength: return "a zero-length record"
            case .raw(let type, let version, let length):
                return "a raw record (type \(type), version \(String(version, radix: 16)), \(length) bytes)"
            case .overflow(let length): return "a record of \(length) bytes"
            }
        }
    }

    /// How the client ended its stream, if it did before the end of the program.
    enum Ending {
        case none
        case closeNotify
        case renegotiation
    }

    let check: TLSReadPathCheck
    let session: Session
    let received: EchoHandler.Received
    /// The client's plaintext so far (``TLSReadPathCheck/pattern``'s first `written` bytes).
    var written = 0
    /// The first bad record, and how much plaintext was written in valid records before it.
    var bad: (kind: Bad, validBytes: Int)?
    var ending = Ending.none

    init(check: TLSReadPathCheck, session: Session, received: EchoHandler.Received) {
        self.check = check
        self.session = session
        self.received = received
    }

    var harness: TLSReadPathCheck.Harness { session.harness }

    /// The plaintext the server must deliver: everything written in valid records before the first bad record.
    var validBytes: Int { bad?.validBytes ?? written }

    /// Whether anything that ends what the server may deliver has been sent.
    var settled: Bool { bad != nil || ending != .none }

    mutating func run(program: inout FuzzInput) {
        let version = check.tls12 ? CInt(TLS1_2_VERSION) : CInt(TLS1_3_VERSION)
        let client: TLSClient
        if check.tls12 {
            let choice = TLSReadPathCheck.ciphers12[check.suite % TLSReadPathCheck.ciphers12.count]
            client = TLSClient(
                version: version, cipherList: choice.list, cipherSuites: nil, noEncryptThenMAC: choice.noEncryptThenMAC)
        } else {
            client = TLSClient(
                version: version, cipherList: nil,
                cipherSuites: TLSReadPathCheck.suites13[check.suite % TLSReadPathCheck.suites13.count],
                noEncryptThenMAC: false)
        }
        session.client = client
        let resuming = !check.fullHandshake ? TLSReadPathCheck.sessions[check.sessionSlot] : nil
        if let resuming { client.resume(resuming) }
        handshake(client)
        expect(client.version == version, "negotiated \(client.version), asked for \(version)")
        trace("\(check.tls12 ? "TLS 1.2" : "TLS 1.3"), \(client.resumed ? "resumed" : "full handshake")")
        session.readsEcho = true

        var index = 0
        operations: while !program.isAtEnd {
            if closedByKnownBug { break }  // nothing more to learn from this connection
            let opcode = program.byte() % 8
            index += 1
            switch opcode {
            case 0:
                let count = Self.size(program.byte(), maximum: 64 << 10)
                guard canWrite(count, client) else { continue }
                write(count, client)
                trace("\(index): write \(count)")
                session.flushClient()
            case 1:
                let count = Self.size(program.byte(), maximum: 16 << 10)
                let position = Int(program.uint16())
                let mask = program.byte()
                guard canWrite(count, client) else { continue }
                let before = written
                var record = encrypt(count, client)
                let at = 5 + position % (record.count - 5)
                record[at] ^= mask == 0 ? 0x80 : mask
                noteBad(.corrupted(at: at), validBytes: before)
                trace("\(index): corrupted record of \(count) bytes at \(at)")
                send(record)
            case 2:
                let kind = program.byte() % 3
                let value = program.uint16()
                let count = Self.size(program.byte(), maximum: 16 << 10)
                guard canWrite(count, client) else { continue }
                let before = written
                var record = encrypt(count, client)
                switch kind {
                case 0:
                    let type = UInt8(truncatingIfNeeded: value)
                    record[0] = type == 0x17 ? 0x16 : type
                    noteBad(.forgedType(record[0]), validBytes: before)
                case 1:
                    let forged = value == 0x0303 ? 0x0301 : value
                    record[1] = UInt8(forged >> 8)
                    record[2] = UInt8(truncatingIfNeeded: forged)
                    noteBad(.forgedVersion(forged), validBytes: before)
                default:
                    record.insert(contentsOf: [0x17, 0x03, 0x03, 0x00, 0x00], at: 0)
                    noteBad(.zeroLength, validBytes: before)
                }
                trace("\(index): forged header \(record.prefix(5).map { String($0, radix: 16) }) on \(count) bytes")
                send(record)
            case 3:
                let type = program.byte()
                let version = program.uint16()
                let length = Int(program.uint16()) % 16_641
                var record: [UInt8] = [type, UInt8(version >> 8), UInt8(truncatingIfNeeded: version)]
                record += [UInt8(length >> 8), UInt8(truncatingIfNeeded: length)]
                if length <= 32 {
                    for _ in 0..<length { record.append(program.byte()) }
                } else {
                    record += TLSReadPathCheck.pattern[0..<length]
                }
                noteBad(.raw(type: type, version: version, length: length), validBytes: written)
                trace("\(index): raw record \(record.prefix(5).map { String($0, radix: 16) })")
                send(record)
            case 4:
                let length = 16_641 + Int(program.uint16()) % 48_895
                var record: [UInt8] = [0x17, 0x03, 0x03, UInt8(length >> 8), UInt8(truncatingIfNeeded: length)]
                record += TLSReadPathCheck.pattern[0..<length]
                noteBad(.overflow(length: length), validBytes: written)
                trace("\(index): overlong record of \(length) bytes")
                send(record)
            case 5:
                guard ending == .none, client.end == .open else { continue }
                client.closeNotify()
                ending = .closeNotify
                trace("\(index): close_notify")
                session.flushClient()
            case 6:
                trace("\(index): end of stream")
                break operations
            default:
                let what = program.byte() % 4
                switch what {
                case 0:
                    session.collect()
                case 1:
                    sync(client)
                default:
                    // Only while nothing bad was sent: after that the server may be gone, and the client's record
                    // layer may hold part of a record, which defers a renegotiation.
                    guard !settled else { continue }
                    if check.tls12 { sync(client) }  // all the echo back first: the refusal's alert ends the client
                    if closedByKnownBug { continue }
                    if check.tls12 {
                        client.renegotiate()
                        ending = .renegotiation
                        trace("\(index): renegotiation")
                    } else {
                        // With `key-update-spin` skipped, never update_requested: the server's answer is what spins.
                        let requested = what == 3 && !knownBugs.contains("key-update-spin")
                        client.keyUpdate(requested: requested)
                        trace("\(index): KeyUpdate\(requested ? " (update_requested)" : "")")
                    }
                    session.flushClient()
                }
            }
            if !settled && !closedByKnownBug {
                expect(
                    harness.isConnectionOpen,
                    "closed (\(harness.closeReason.map(describe) ?? "?")) after operation \(index), before anything "
                        + "bad or final was sent")
            }
        }

        // The end of the stream: the server answers what is left and closes; the client reads everything.
        expect(
            harness.endPeerStream(collectingReplies: &session.wire),
            "the client saw end of stream but the connection stayed open")
        session.collect()
        client.inputEnded()
        client.readEcho()
        guard let reason = harness.closeReason else { fatalError("closed without telling the handler") }
        trace(
            "\(check.tls12 ? "TLS 1.2" : "TLS 1.3"): \(written) bytes written, \(validBytes) valid, "
                + "\(received.bytes.count) delivered, \(client.echo.count) echoed; "
                + "\(bad.map { "first bad: \($0.kind)" } ?? "no bad record"), ending \(ending); \(describe(reason)); "
                + "client: \(client.end)")
        checkOutcome(reason: reason, client: client)

        // The warm-up (``TLSReadPathCheck/warmUp(harness:received:)``): keep the session of the full handshake, and
        // the resumption must resume it.
        if TLSReadPathCheck.warmingUp {
            if resuming != nil {
                expect(client.resumed, "the warm-up's second connection did not resume the session")
            } else if TLSReadPathCheck.sessions[check.sessionSlot] == nil {
                TLSReadPathCheck.sessions[check.sessionSlot] = client.resumableSession
            }
        }
    }

    /// Completes the handshake: the client's flights go out in pieces, the loop runs, the server's come back,
    /// until the client is done and the handler heard of the connection.
    private func handshake(_ client: TLSClient) {
        var turns = 0
        while true {
            let done = client.handshake()
            session.flushClient()
            harness.runLoopIteration()
            session.collect()
            if done && harness.handlerOpened { return }
            expect(
                harness.isConnectionOpen,
                "the server closed during the handshake: \(harness.closeReason.map(describe) ?? "?")")
            turns += 1
            expect(turns < 1000, "the handshake did not complete")
        }
    }

    /// Valid writes are possible: the client has not ended its stream nor failed, and the pattern has room.
    private func canWrite(_ count: Int, _ client: TLSClient) -> Bool {
        ending == .none && client.end == .open && written + count <= TLSReadPathCheck.pattern.count
    }

    /// Encrypts the next `count` bytes of plaintext.
    private mutating func write(_ count: Int, _ client: TLSClient) {
        TLSReadPathCheck.pattern.withUnsafeBytes {
            client.write(UnsafeRawBufferPointer(rebasing: $0[written..<written + count]))
        }
        written += count
    }

    /// Encrypts the next `count` (at most 16 KiB) bytes of plaintext and takes the one record they make.
    private mutating func encrypt(_ count: Int, _ client: TLSClient) -> [UInt8] {
        expect(client.outputPending == 0, "\(client.outputPending) bytes of the client's output not sent")
        write(count, client)
        var record: [UInt8] = []
        client.takeOutput(into: &record)
        expect(
            record.count > 5 && record.count == 5 + (Int(record[3]) << 8 | Int(record[4])),
            "\(count) bytes did not make one record (\(record.count) bytes)")
        return record
    }

    private mutating func noteBad(_ kind: Bad, validBytes: Int) {
        if !settled { bad = (kind, validBytes) }
    }

    private func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { session.transmit($0) }
    }

    /// Runs the loop and reads the echo until everything written so far has come back (only while nothing bad or
    /// final was sent: then all of it must come back).
    private func sync(_ client: TLSClient) {
        guard !settled, client.end == .open else {
            session.collect()
            return
        }
        var turns = 0
        while client.echo.count < written {
            harness.runLoopIteration()
            session.collect()
            if closedByKnownBug { return }
            expect(
                harness.isConnectionOpen,
                "closed while waiting for the echo: \(harness.closeReason.map(describe) ?? "?")")
            expect(client.end == .open, "the client's session ended while waiting for the echo: \(client.end)")
            turns += 1
            expect(turns < 100_000, "the echo stalled at \(client.echo.count) of \(written) bytes")
        }
    }

    /// `n` + 1 bytes for `n` < 192, else (`n` − 191) KiB, at most `maximum`.
    static func size(_ n: UInt8, maximum: Int) -> Int {
        n < 192 ? Int(n) + 1 : min(maximum, (Int(n) - 191) << 10)
    }

    // MARK: The checks

    /// The largest TLS 1.2 record OpenSSL 3 reads (`SSL3_RT_MAX_ENCRYPTED_LENGTH`, 2^14 + 320: it allows CBC's
    /// padding and MAC beyond TLS 1.3's 2^14 + 256); a longer one is refused as too long before it is decrypted.
    static let longestTLS12Record = 16_384 + 320

    /// The close reason the first bad record or the client's ending calls for.
    ///
    /// - A corrupted record, a forged header, a raw record: `tlsProtocolError` (AEAD and MAC checks cover the
    ///   header, so a forged one fails like a corrupted body, if OpenSSL does not refuse the header first).
    /// - A record over TLS 1.3's limit of 2^14 + 256 bytes: `tlsRecordOverflow`; in TLS 1.2 only past
    ///   ``longestTLS12Record``: below that it is decrypted and fails as a corrupted one (`tlsProtocolError`).
    /// - Nothing bad: `peerClosed` after close_notify, `tlsRenegotiationRefused` after a renegotiation,
    ///   `tlsTruncated` when the stream just ended (with the known bug `truncated-eof-fatal` skipped, `peerReset`
    ///   too).
    func expectedReason() -> Set<CloseReason.Kind> {
        if let bad {
            switch bad.kind {
            case .overflow(let length):
                return check.tls12 && length <= Self.longestTLS12Record ? [.tlsProtocolError] : [.tlsRecordOverflow]
            default:
                return [.tlsProtocolError]
            }
        }
        switch ending {
        case .closeNotify: return [.peerClosed]
        case .renegotiation: return [.tlsRenegotiationRefused]
        case .none: return skipsTruncatedEOF ? [.tlsTruncated, .peerReset] : [.tlsTruncated]
        }
    }

    // MARK: Known bugs (README.md), skipped with FUZZ_KNOWN_BUGS

    /// `write-retry-length`: the connection closed because the server's own `SSL_write` was retried with fewer bytes
    /// than the record OpenSSL still had pending (`SSL_R_BAD_LENGTH`), and the bug is skipped.
    var closedByKnownBug: Bool {
        guard knownBugs.contains("write-retry-length"), case .tlsProtocolError(let code)? = harness.closeReason else {
            return false
        }
        return CTLSFuzz_error_reason(UInt(code.rawValue)) == CTLSFuzz_R_BAD_LENGTH
    }

    /// `truncated-eof-fatal`: the stream ended without close_notify (nothing bad before it), and the bug is
    /// skipped: OpenSSL 3 takes that end of stream as a fatal error (a decode_error alert instead of close_notify,
    /// and no reply written after it can be sent).
    var skipsTruncatedEOF: Bool { knownBugs.contains("truncated-eof-fatal") && bad == nil && ending == .none }

    /// `close-notify-dropped`: a graceful close whose close_notify the socket did not take at once (it was full),
    /// and the bug is skipped: the client reads every reply, then the end of the stream without close_notify.
    func droppedCloseNotify(_ client: TLSClient) -> Bool {
        guard knownBugs.contains("close-notify-dropped"), case .failed(let code) = client.end else { return false }
        return CTLSFuzz_error_reason(code) == CTLSFuzz_R_UNEXPECTED_EOF
    }

    private func checkOutcome(reason: CloseReason, client: TLSClient) {
        if closedByKnownBug {
            checkPrefixes(client: client)
            return
        }
        let expected = expectedReason()
        expect(
            expected.contains(reason.kind),
            "closed with \(describe(reason)), expected \(expected.map { "\($0)" }.sorted()) after "
                + "\(bad.map { "\($0.kind)" } ?? "no bad record"), ending \(ending)")

        // What the handler was given: exactly the plaintext of the valid records, in order (a prefix of it, and
        // all of it); what the client read back: a prefix of that (all of it, then close_notify, after a graceful
        // close).
        checkPrefixes(client: client)
        let delivered = received.bytes
        expect(
            delivered.count == validBytes,
            "the handler was given \(delivered.count) of the \(validBytes) bytes of valid plaintext sent")
        if reason == .peerClosed || (reason == .tlsTruncated && !skipsTruncatedEOF) {
            expect(
                client.echo.count == delivered.count && (client.end == .closeNotify || droppedCloseNotify(client)),
                "a graceful close (\(reason)): the client read back \(client.echo.count) of \(delivered.count) bytes, "
                    + "then \(client.end)")
        } else if reason == .tlsRenegotiationRefused {
            expect(
                client.echo.count == delivered.count,
                "a refused renegotiation: the client read back \(client.echo.count) of \(delivered.count) bytes")
        }

        let allowCut = bad != nil || skipsTruncatedEOF || knownBugs.contains("close-notify-dropped")
        if !allowCut, let problem = TLSRecordFraming.problem(in: session.replies, allowCut: false) {
            fatalError("check failed: the server sent something else than TLS records: \(problem)")
        }
    }

    /// What is left to check after a known bug closed the connection early: the handler was given a prefix of the
    /// valid plaintext, the client read back a prefix of that, and the server sent records (the last one maybe cut).
    private func checkPrefixes(client: TLSClient) {
        let delivered = received.bytes
        TLSReadPathCheck.pattern.withUnsafeBytes { pattern in
            expect(
                delivered.count <= validBytes && pattern.prefix(delivered.count, equals: delivered),
                "the handler was given \(delivered.count) bytes that are not a prefix of the \(validBytes) bytes "
                    + "of valid plaintext sent (\(written) written)")
        }
        delivered.withUnsafeBytes { delivered in
            expect(
                delivered.prefix(delivered.count, startsWith: client.echo),
                "the client read back \(client.echo.count) bytes that are not a prefix of the \(delivered.count) "
                    + "the handler was given")
        }
        if let problem = TLSRecordFraming.problem(in: session.replies, allowCut: true) {
            fatalError("check failed: the server sent something else than TLS records: \(problem)")
        }
    }
}
