import FuzzSupport

/// The reference model, the decode loop and the mapped stream, kept across inputs for their capacity.
nonisolated(unsafe) private var expected = ExpectedDecoding()
nonisolated(unsafe) private var loop = DecodeLoop()
nonisolated(unsafe) private var mapped: [UInt8] = []

/// The entry point: SwiftPM links this executable with `main` aliased to `DelimiterDecoderFuzzer_main`.
@_cdecl("DelimiterDecoderFuzzer_main")
func delimiterDecoderFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = DelimiterCheck(input: &input)
        check.run(expected: &expected, loop: &loop, mapped: &mapped)
        return 0
    }
}
