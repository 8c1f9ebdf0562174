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
nonisolated(unsafe) private var replies: [UInt8] = []
nonisolated(unsafe) private var expectedEcho: [UInt8] = []
/// Inputs run so far (every 1,024th also checks the process's descriptors).
nonisolated(unsafe) private var inputs = 0

/// The entry point: SwiftPM links this executable with `main` aliased to `ReadPathFuzzer_main`.
@_cdecl("ReadPathFuzzer_main")
func readPathFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = ReadPathCheck(input: &input)
        check.run(
            harness: harnesses[check.harnessIndex], reference: &reference, replies: &replies,
            expectedEcho: &expectedEcho)
        inputs += 1
        if inputs % 1024 == 0 {
            // Every connection gave back both its sockets; each harness keeps exactly its epoll and eventfd.
            let sockets = openDescriptorCount(linkPrefix: "socket:")
            expect(sockets == 0, "\(sockets) sockets open between inputs")
            let pollers = openDescriptorCount(linkPrefix: "anon_inode:[eventpoll]")
            let eventFDs = openDescriptorCount(linkPrefix: "anon_inode:[eventfd]")
            expect(
                pollers == harnesses.count && eventFDs == harnesses.count, "\(pollers) epoll, \(eventFDs) eventfd open")
        }
        return 0
    }
}
