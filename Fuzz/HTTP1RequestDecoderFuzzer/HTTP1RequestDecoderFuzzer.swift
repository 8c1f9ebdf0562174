import FuzzSupport
import ReactorHTTP1

/// The decoded-request table, reused for every call of every input as a loop reuses its own.
nonisolated(unsafe) private let request = HTTP1DecodedRequest()

/// The entry point: SwiftPM links this executable with `main` aliased to `HTTP1RequestDecoderFuzzer_main`.
@_cdecl("HTTP1RequestDecoderFuzzer_main")
func http1RequestDecoderFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = HTTP1Check(input: &input)
        check.run(request: request)
        return 0
    }
}
