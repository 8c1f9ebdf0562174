import FuzzSupport
import ReactorRESP

/// The arguments object, reused for every call of every input as a loop reuses its own.
nonisolated(unsafe) private let arguments = RESPArguments()

/// The entry point: SwiftPM links this executable with `main` aliased to `RESPRequestDecoderFuzzer_main`.
@_cdecl("RESPRequestDecoderFuzzer_main")
func respRequestDecoderFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    ReferenceRESP.checkAgainstRedisExamples()
    return runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = RESPCheck(input: &input)
        check.run(arguments: arguments)
        return 0
    }
}
