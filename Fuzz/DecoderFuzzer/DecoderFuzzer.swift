import FuzzSupport
@_spi(Benchmarks) import ReactorCore

/// The pool every input shares, as a loop's connections share theirs; sized for the largest limit an input can pick.
nonisolated(unsafe) private let pool = SlabPool(largestChunk: DecoderCheck.largestMaxFrameLength)
/// The reference model, kept across inputs for its capacity.
nonisolated(unsafe) private var reference = ReferenceFrames()

/// The entry point: SwiftPM links this executable with `main` aliased to `DecoderFuzzer_main`.
@_cdecl("DecoderFuzzer_main")
func decoderFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = DecoderCheck(input: &input)
        check.run(pool: pool, reference: &reference)
        return 0
    }
}
