import CHTTPParser
import FuzzSupport
import ReactorHTTP1

/// The decoded-request table, reused for every input as a loop reuses its own.
nonisolated(unsafe) private let request = HTTP1DecodedRequest()

/// The entry point: SwiftPM links this executable with `main` aliased to `HTTP1DifferentialFuzzer_main`.
@_cdecl("HTTP1DifferentialFuzzer_main")
func http1DifferentialFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        let stream = Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
        HTTP1Differential(stream: stream).run(request: request)
        return 0
    }
}
