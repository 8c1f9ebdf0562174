import CTLSFuzzSupport
import FuzzSupport
@_spi(Fuzzing) import ReactorCore
import ReactorTLS

#if canImport(Glibc)
    import Glibc
#endif

/// The server's TLS context, made once: a throwaway EC P-256 key and self-signed certificate generated in-process
/// (nothing secret is committed or written anywhere), every other setting at its default (TLS 1.2 and 1.3, tickets
/// on), but a 60 s handshake timeout (wall-clock time, like the linger timeout).
private let serverContext: TLSServerContext = {
    var certificate: UnsafeMutablePointer<CChar>?
    var key: UnsafeMutablePointer<CChar>?
    guard CTLSFuzz_make_identity(&certificate, &key) == 1, let certificate, let key else {
        fatalError("cannot make the server's key and certificate")
    }
    var configuration = TLSServerConfiguration(
        certificateChain: .pem(String(cString: certificate)), privateKey: .pem(String(cString: key)))
    free(certificate)
    free(key)
    configuration.handshakeTimeout = .seconds(60)
    do {
        return try TLSServerContext(configuration: configuration)
    } catch {
        fatalError("cannot create the server's TLS context: \(error)")
    }
}()

/// What the echo handler was given on the current connection.
private let received = EchoHandler.Received()

/// One echo server per limit style, made once and reused: each input opens one connection on the one it picks.
nonisolated(unsafe) private let harnesses: [TLSReadPathCheck.Harness] = (0..<TLSReadPathCheck.styles).map { style in
    do {
        return try StreamHandlerHarness(
            handler: EchoHandler(received: received), limits: TLSReadPathCheck.limits(style: style),
            transportProvider: serverContext)
    } catch {
        fatalError("cannot create a harness: \(error)")
    }
}

/// Every 1,024th input checks that no descriptor was left open.
nonisolated(unsafe) private var leakCheck = DescriptorLeakCheck()

/// The entry point: SwiftPM links this executable with `main` aliased to `TLSReadPathFuzzer_main`.
@_cdecl("TLSReadPathFuzzer_main")
func tlsReadPathFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = harnesses  // the reactors exist before the first input's descriptor census
    _ = TLSReadPathCheck.pattern
    _ = TLSClient.context
    TLSReadPathCheck.warmUp(harness: harnesses[0], received: received)
    return runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        let check = TLSReadPathCheck(input: &input)
        check.run(harness: harnesses[check.style], received: received)
        leakCheck.inputDone()
        return 0
    }
}
