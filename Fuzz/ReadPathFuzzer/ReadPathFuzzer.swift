import FuzzSupport
@_spi(Fuzzing) import ReactorCore

/// One harness (one never-started sub-reactor) per combination of limits, made once and reused: each input opens and
/// closes one connection on the harness it picks.
nonisolated(unsafe) private let harnesses: [ReadPathHarness] = (0..<ReadPathCheck.styles).flatMap { style in
    ReadPathCheck.maxFrameLengths.map { maxFrameLength in
        do {
            return try ReadPathHarness(limits: ReadPathCheck.limits(style: style, maxFrameLength: maxFrameLength))
        } catch {
            fatalError("cannot create a harness: \(error)")
        }
    }
}
/// The reference model and the reply buffers, kept across inputs for their capacity.
nonisolated(unsafe) private var reference = ReferenceFrames()
nonisolated(unsafe) private var records = ReferenceRecords()
nonisolated(unsafe) private var replies: [UInt8] = []
nonisolated(unsafe) private var expectedEcho: [UInt8] = []
/// Inputs run so far, and the process's descriptors after the first (when every harness exists and its connection
/// has closed). Every 1,024th input checks that none were added: each connection gave back both its sockets.
/// (A baseline rather than zero sockets, in case the process inherited one.)
nonisolated(unsafe) private var inputs = 0
nonisolated(unsafe) private var baseline = DescriptorCensus()

/// The entry point: SwiftPM links this executable with `main` aliased to `ReadPathFuzzer_main`.
@_cdecl("ReadPathFuzzer_main")
func readPathFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = ReadPathCheck(input: &input)
        check.run(
            harness: harnesses[check.harnessIndex], reference: &reference, records: &records, replies: &replies,
            expectedEcho: &expectedEcho)
        inputs += 1
        if inputs == 1 {
            baseline = DescriptorCensus()
            expect(
                baseline.pollers >= harnesses.count && baseline.eventFDs >= harnesses.count,
                "\(baseline) for \(harnesses.count) reactors")
        } else if inputs % 1024 == 0 {
            let now = DescriptorCensus()
            expect(now == baseline, "\(now) open after \(inputs) inputs, \(baseline) after the first")
        }
        return 0
    }
}
