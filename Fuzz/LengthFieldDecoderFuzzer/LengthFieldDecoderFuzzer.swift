import FuzzSupport

/// The reference model and the decode loop, kept across inputs for their capacity.
nonisolated(unsafe) private var expected = ExpectedDecoding()
nonisolated(unsafe) private var loop = DecodeLoop()

/// The entry point: SwiftPM links this executable with `main` aliased to `LengthFieldDecoderFuzzer_main`.
@_cdecl("LengthFieldDecoderFuzzer_main")
func lengthFieldDecoderFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = LengthFieldCheck(input: &input)
        check.run(expected: &expected, loop: &loop)
        return 0
    }
}
