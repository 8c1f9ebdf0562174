import FuzzSupport
@_spi(Fuzzing) import ReactorCore
import ReactorHTTP1
import ReactorHTTPEndpoints

/// reactor-http's server, made once and reused: each input opens one connection on it (with its own decoder
/// limits).
nonisolated(unsafe) private let harness: StreamHandlerHarness<HTTPBenchmarkServer> = {
    do {
        return try StreamHandlerHarness(handler: HTTPBenchmarkServer(), limits: HTTPServerCheck.limits)
    } catch {
        fatalError("cannot create a harness: \(error)")
    }
}()
/// Scratch space kept across inputs for its capacity: the expected conversation, the model decoder's request table,
/// the client's received bytes.
nonisolated(unsafe) private var expected = ExpectedConversation()
nonisolated(unsafe) private let oracleRequest = HTTP1DecodedRequest()
nonisolated(unsafe) private var replies: [UInt8] = []
/// Every 1,024th input checks that no descriptor was left open.
nonisolated(unsafe) private var leakCheck = DescriptorLeakCheck()

/// The entry point: SwiftPM links this executable with `main` aliased to `HTTPServerFuzzer_main`.
@_cdecl("HTTPServerFuzzer_main")
func httpServerFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = harness  // the reactor exists before the first input's descriptor census
    _ = HTTPRequestBuilder.pattern
    return runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = HTTPServerCheck(input: &input)
        check.run(harness: harness, expected: &expected, oracleRequest: oracleRequest, replies: &replies)
        leakCheck.inputDone()
        return 0
    }
}
