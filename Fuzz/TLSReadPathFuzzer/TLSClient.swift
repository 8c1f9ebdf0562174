import CTLSFuzzSupport
import FuzzSupport

/// The fuzzer's TLS client: an OpenSSL client on a pair of memory BIOs (`CTLSFuzzSupport`), whose records the fuzzer
/// carries to the server's socket itself and whose input is whatever the harness read from the socket.
///
/// Memory BIOs rather than `SSL_set_fd` on the harness's end of the socket pair: every byte the client produces passes
/// through the fuzzer, which can then cut it into pieces, flip a byte of a record's ciphertext, put a forged record
/// header in front of it or drop it, and the harness keeps its socket to itself (it reads the replies and shuts the
/// write side as for the other whole-server targets). The client never touches a descriptor.
final class TLSClient {
    /// How the server's output ended, as the client read it.
    enum End: Equatable, CustomStringConvertible {
        /// Nothing yet: more may come.
        case open
        /// The server's close_notify: its output ended cleanly, after everything it sent.
        case closeNotify
        /// The client failed: an alert from the server, a bad record, the server's end of stream without
        /// close_notify. `code` is OpenSSL's packed error code.
        case failed(code: UInt)

        var description: String {
            switch self {
            case .open: return "open"
            case .closeNotify: return "close_notify"
            case .failed(let code): return "failed [\(TLSClient.describe(code))]"
            }
        }
    }

    /// The context every client comes from (no certificate verification: the server's is the throwaway one).
    nonisolated(unsafe) static let context: OpaquePointer = {
        guard let context = CTLSFuzz_client_context_new() else { fatalError("cannot create the client context") }
        return context
    }()

    /// Scratch space for the client's output and the echo it reads.
    nonisolated(unsafe) private static let scratch = UnsafeMutableRawBufferPointer.allocate(
        byteCount: 64 * 1024, alignment: 16)

    private let ssl: OpaquePointer
    /// The plaintext the client read back (the server's echo), in order.
    private(set) var echo: [UInt8] = []
    /// How the server's output ended.
    private(set) var end = End.open

    /// A client speaking only `version` (`TLS1_2_VERSION`, `TLS1_3_VERSION`), with the given TLS 1.2 cipher list or
    /// TLS 1.3 suites (nil: OpenSSL's default), MAC-then-encrypt for CBC suites when `noEncryptThenMAC`.
    init(version: CInt, cipherList: String?, cipherSuites: String?, noEncryptThenMAC: Bool) {
        guard
            let ssl = CTLSFuzz_client_new(
                Self.context, version, cipherList, cipherSuites, noEncryptThenMAC ? 1 : 0)
        else { fatalError("cannot create a client (version \(version), \(cipherList ?? cipherSuites ?? "default"))") }
        self.ssl = ssl
        echo.reserveCapacity(4096)
    }

    deinit {
        CTLSFuzz_client_free(ssl)
    }

    /// Offers `session` (from ``resumableSession``) for resumption in the handshake to come.
    func resume(_ session: OpaquePointer) {
        expect(CTLSFuzz_client_set_session(ssl, session) == 1, "the client could not offer a session")
    }

    /// The session, if it can be resumed (a new reference, freed with `CTLSFuzz_session_free`).
    var resumableSession: OpaquePointer? { CTLSFuzz_client_resumable_session(ssl) }

    /// Whether the handshake resumed the session offered.
    var resumed: Bool { CTLSFuzz_client_resumed(ssl) == 1 }

    /// The negotiated protocol version.
    var version: CInt { CTLSFuzz_client_version(ssl) }

    /// One handshake step: true once the handshake completed; traps if it failed.
    func handshake() -> Bool {
        var detail: UInt = 0
        switch CTLSFuzz_client_handshake(ssl, &detail) {
        case CTLSFuzz_OK: return true
        case CTLSFuzz_WANT_READ: return false
        default: fatalError("check failed: the client's handshake failed: \(Self.describe(detail))")
        }
    }

    /// Encrypts `bytes` into records waiting in the client's output.
    func write(_ bytes: UnsafeRawBufferPointer) {
        expect(CTLSFuzz_client_write(ssl, bytes.baseAddress, bytes.count) == 1, "the client could not write")
    }

    /// Queues close_notify.
    func closeNotify() {
        expect(CTLSFuzz_client_close_notify(ssl) == 1, "the client could not send close_notify")
    }

    /// TLS 1.2: queues a renegotiation's ClientHello.
    func renegotiate() {
        expect(CTLSFuzz_client_renegotiate(ssl) == 1, "the client could not start a renegotiation")
    }

    /// TLS 1.3: queues a KeyUpdate.
    func keyUpdate(requested: Bool) {
        expect(CTLSFuzz_client_key_update(ssl, requested ? 1 : 0) == 1, "the client could not send a KeyUpdate")
    }

    /// Takes everything the client has written so far (records, alerts, handshake messages), appended to `bytes`.
    func takeOutput(into bytes: inout [UInt8]) {
        while CTLSFuzz_client_output_pending(ssl) > 0 {
            let count = CTLSFuzz_client_take_output(ssl, Self.scratch.baseAddress, Self.scratch.count)
            if count == 0 { break }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: Self.scratch[0..<count]))
        }
    }

    /// Bytes the client has written and nobody took yet.
    var outputPending: Int { CTLSFuzz_client_output_pending(ssl) }

    /// Hands the client what the server sent (the raw bytes the harness read).
    func receive(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, end == .open else { return }
        bytes.withUnsafeBytes { CTLSFuzz_client_give_input(ssl, $0.baseAddress, $0.count) }
    }

    /// The server's end of stream: once the bytes received are used up, the client reads EOF.
    func inputEnded() {
        CTLSFuzz_client_input_ended(ssl)
    }

    /// Reads the echo the client has received so far, until it needs more bytes or the server's output ended.
    func readEcho() {
        while end == .open {
            var count = 0
            var detail: UInt = 0
            let status = CTLSFuzz_client_read(ssl, Self.scratch.baseAddress, Self.scratch.count, &count, &detail)
            switch status {
            case CTLSFuzz_OK:
                echo.append(contentsOf: UnsafeRawBufferPointer(rebasing: Self.scratch[0..<count]))
            case CTLSFuzz_WANT_READ:
                return
            case CTLSFuzz_CLOSED:
                end = .closeNotify
            default:
                end = .failed(code: detail)
            }
        }
    }

    /// OpenSSL's text for a packed error code.
    static func describe(_ code: UInt) -> String {
        var text = [CChar](repeating: 0, count: 256)
        CTLSFuzz_error_string(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
