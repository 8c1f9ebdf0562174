import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The write API of ``ConnectionContext``, checked byte for byte on a blocking client: raw writes of every input
/// type, gathering writes, writes formatted in place (`write(reserving:_:)`, in and out of the read batch), frames
/// with the standard and another length field, and a `FrameHandler`'s `write(frame)`.
extension LoopbackTests {
    @Suite struct WriteAPI {
        /// Reads one command byte at a time and answers each with one form of write. Commands it does not know
        /// are ignored. `z` answers `Z`: a sentinel that shows nothing else was written before it.
        struct Writer: StreamHandler {
            static let rawSpanBytes: [UInt8] = [0x52, 0x00, 0xFF, 0x0A, 0x7F]
            static let pointerBytes: [UInt8] = [0x55, 0x01, 0x02, 0xFE]
            static let arrayBytes: [UInt8] = [0x59, 0x80, 0x81]
            static let header: [UInt8] = [0xAA, 0xBB]
            static let body: [UInt8] = Array("body".utf8)
            static let trailer: [UInt8] = [0x0D, 0x0A]
            /// A payload for the 2-byte little-endian frame: 300 bytes, so both header bytes are non-zero.
            static let littleEndianPayload = pattern(300, seed: 1)
            /// The size of the reservations made outside the read batch, and how much of them is used.
            static let timerReservation = 100_000
            static let timerWritten = 90_000
            static let taskReservation = 40_000
            /// A reservation larger than the loop's staging buffer (256 KiB), made in the read batch.
            static let largeReservation = 300 * 1024
            /// Unused. A handler of size zero makes ThreadSanitizer report a "Swift access race" between the loop's
            /// `handler.onInputEnded` and `SubReactor.join()` when a test stops the server while its client's FIN
            /// is being handled (seen with this handler; gone with this stored property).
            var unused = 0

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                while !input.isEmpty {
                    let command = input.withUnsafeBytes { $0[0] }
                    if command == UInt8(ascii: "e") {
                        // `e`, a length byte, that many bytes: echoed as a RawSpan taken from the input itself.
                        guard input.count >= 2 else { return }
                        let length = Int(input.withUnsafeBytes { $0[1] })
                        guard input.count >= 2 + length else { return }
                        connection.write(input.bytes.extracting(2..<(2 + length)))
                        input.consume(2 + length)
                        continue
                    }
                    input.consume(1)
                    answer(command, connection: &connection)
                }
            }

            func answer(_ command: UInt8, connection: inout ConnectionContext) {
                switch command {
                case UInt8(ascii: "r"):
                    connection.write(Self.rawSpanBytes.span.bytes)
                case UInt8(ascii: "u"):
                    Self.pointerBytes.withUnsafeBytes { connection.write($0) }
                case UInt8(ascii: "a"):
                    connection.write(Self.arrayBytes)
                case UInt8(ascii: "s"):
                    connection.write("static\n" as StaticString)
                case UInt8(ascii: "2"):
                    connection.write(Self.header.span.bytes, Self.body.span.bytes)
                case UInt8(ascii: "3"):
                    connection.write(Self.header.span.bytes, Self.body.span.bytes, Self.trailer.span.bytes)
                case UInt8(ascii: "p"):
                    // Reserves 64 bytes, uses 5: only those 5 go out.
                    connection.write(reserving: 64) { buffer in
                        for (index, byte) in "12345".utf8.enumerated() { buffer[index] = byte }
                        return 5
                    }
                case UInt8(ascii: "P"):
                    // Uses all of it.
                    connection.write(reserving: 200) { buffer in
                        for index in 0..<200 { buffer[index] = UInt8(index) }
                        return 200
                    }
                case UInt8(ascii: "0"):
                    connection.write(reserving: 16) { _ in 0 }
                case UInt8(ascii: "L"):
                    connection.write(reserving: Self.largeReservation) { buffer in
                        fill(buffer, seed: 2)
                        return Self.largeReservation
                    }
                case UInt8(ascii: "f"):
                    connection.writeFrame([1, 2, 3])
                case UInt8(ascii: "F"):
                    connection.writeFrame([UInt8]())
                case UInt8(ascii: "l"):
                    connection.writeFrame(
                        Self.littleEndianPayload,
                        using: LengthFieldEncoder(lengthFieldLength: 2, byteOrder: .littleEndian))
                case UInt8(ascii: "t"):
                    // From a timer on the connection's loop: outside the read batch, no staging buffer.
                    let handle = connection.handle
                    handle.eventLoop.schedule(after: .milliseconds(5)) {
                        _ = handle.withContext { context in
                            context.write(reserving: Self.timerReservation) { buffer in
                                fill(UnsafeMutableRawBufferPointer(rebasing: buffer[..<Self.timerWritten]), seed: 3)
                                return Self.timerWritten
                            }
                            context.write("Z" as StaticString)
                        }
                    }
                case UInt8(ascii: "x"):
                    // From a task posted to the loop.
                    let handle = connection.handle
                    handle.eventLoop.execute {
                        _ = handle.withContext { context in
                            context.write(reserving: Self.taskReservation) { buffer in
                                fill(buffer, seed: 4)
                                return Self.taskReservation
                            }
                            context.write("Z" as StaticString)
                        }
                    }
                case UInt8(ascii: "c"):
                    connection.write("A" as StaticString)
                    connection.close()
                    connection.write("B" as StaticString)
                case UInt8(ascii: "H"):
                    connection.write(reserving: 3 << 20) { buffer in
                        fill(buffer, seed: 5)
                        return buffer.count
                    }
                case UInt8(ascii: "z"):
                    connection.write("Z" as StaticString)
                default:
                    break
                }
            }
        }

        /// Sends `commands` (each answered at once) and checks that exactly `expected` then the sentinel arrive.
        func check(
            _ commands: String, answers expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
        )
            throws
        {
            try withServerAndClient(testConfiguration(subReactors: 1), handler: Writer()) { _, client in
                try client.send(Array(commands.utf8) + Array("z".utf8))
                let received = try client.receive(exactly: expected.count + 1)
                #expect(received == expected + Array("Z".utf8), sourceLocation: sourceLocation)
            }
        }

        @Test func rawWritesOfEveryInputType() throws {
            try check("r", answers: Writer.rawSpanBytes)
            try check("u", answers: Writer.pointerBytes)
            try check("a", answers: Writer.arrayBytes)
            try check("s", answers: Array("static\n".utf8))
            try check(
                "ruas", answers: Writer.rawSpanBytes + Writer.pointerBytes + Writer.arrayBytes + Array("static\n".utf8))
        }

        @Test func aRawSpanOfTheInputIsWrittenAsIs() throws {
            try check("e\u{5}hello" + "e\u{0}" + "e\u{3}abc", answers: Array("helloabc".utf8))
        }

        @Test func gatheringWritesQueueThePiecesInOrderAsOneRun() throws {
            try check("2", answers: Writer.header + Writer.body)
            try check("3", answers: Writer.header + Writer.body + Writer.trailer)
            try check(
                "23r",
                answers: Writer.header + Writer.body + Writer.header + Writer.body + Writer.trailer
                    + Writer.rawSpanBytes)
        }

        @Test func aReservationSendsOnlyTheBytesTheBodyReturns() throws {
            try check("p", answers: Array("12345".utf8))
            try check("P", answers: (0..<200).map { UInt8($0) })
            try check("0", answers: [])
            try check("p0pP", answers: Array("1234512345".utf8) + (0..<200).map { UInt8($0) })
        }

        @Test func aReservationLargerThanTheStagingBufferInTheReadBatch() throws {
            try check(
                "sLs",
                answers: Array("static\n".utf8) + filled(Writer.largeReservation, seed: 2) + Array("static\n".utf8))
        }

        @Test func aLargeReservationFromALoopTimerFormatsStraightIntoTheOutboundBytes() throws {
            try withServerAndClient(testConfiguration(subReactors: 1), handler: Writer()) { _, client in
                try client.send(Array("t".utf8))
                let received = try client.receive(exactly: Writer.timerWritten + 1)
                #expect(received == filled(Writer.timerWritten, seed: 3) + Array("Z".utf8))
                // Nothing else follows: the unused 10 000 reserved bytes were not sent.
                try client.send(Array("z".utf8))
                #expect(try client.receive(exactly: 1) == Array("Z".utf8))
            }
        }

        @Test func aLargeReservationFromATaskOnTheLoopThroughWithContext() throws {
            try Self.checkReservationFromATask(testConfiguration(subReactors: 1))
        }

        /// Sends `x` to a ``Writer`` on a server with `configuration`: the reservation a task posted to the loop
        /// makes (``Writer/taskReservation`` bytes) arrives, then the sentinel.
        static func checkReservationFromATask(
            _ configuration: ServerConfiguration, sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            try withServerAndClient(configuration, handler: Writer()) { _, client in
                try client.send(Array("x".utf8))
                let received = try client.receive(exactly: Writer.taskReservation + 1)
                #expect(
                    received == filled(Writer.taskReservation, seed: 4) + Array("Z".utf8),
                    sourceLocation: sourceLocation)
            }
        }

        /// A check run in a child process of its own (see ``ChildProcess``): if a write traps, only the child dies.
        enum ChildCheck: String, Codable, Sendable {
            /// The child of ``aReservationLargerThanTheLargestPooledChunkIsWritten()``.
            case threeMebibyteReservation
            /// The child of ``aReservationOutsideTheReadBatchIsWrittenWhenMaxBufferedInputIsSmall()``.
            case reservationFromATaskWithASmallPool

            /// Runs in the child.
            func run() throws {
                switch self {
                case .threeMebibyteReservation:
                    try withServerAndClient(testConfiguration(subReactors: 1), handler: Writer()) { _, client in
                        try client.send(Array("Hz".utf8))
                        let received = try client.receive(exactly: (3 << 20) + 1)
                        #expect(received == filled(3 << 20, seed: 5) + Array("Z".utf8))
                    }
                case .reservationFromATaskWithASmallPool:
                    var configuration = testConfiguration(subReactors: 1)
                    configuration.limits.maxBufferedInput = 8192
                    try WriteAPI.checkReservationFromATask(configuration)
                }
            }
        }

        /// Runs `check` in a child process (with a 60 s watchdog) and expects it to exit successfully; if it does
        /// not, what the child wrote to standard error is recorded too.
        func expectSuccessInAChildProcess(
            _ check: ChildCheck, sourceLocation: SourceLocation = #_sourceLocation
        ) async {
            let standardError = ChildProcess.makeStandardErrorFile()
            let result = await #expect(processExitsWith: .success, sourceLocation: sourceLocation) {
                [standardError = standardError as String, check = check as ChildCheck] in
                ChildProcess.prepare(standardErrorPath: standardError, watchdogSeconds: 60)
                try check.run()
            }
            ChildProcess.finish(
                standardErrorPath: standardError, childSucceeded: result != nil, sourceLocation: sourceLocation)
        }

        /// A reservation is only bounded by the hard cap on unsent bytes (16 MiB by default): 3 MiB is more than
        /// the largest pooled chunk (the class holding `maxBufferedInput`, 2 MiB by default). Run in a child
        /// process: if the reservation traps, only the child dies.
        @Test func aReservationLargerThanTheLargestPooledChunkIsWritten() async {
            await expectSuccessInAChildProcess(.threeMebibyteReservation)
        }

        /// With `maxBufferedInput` at 8 KiB the pool's largest chunk is the 16 KiB outbound chunk: a 40 000-byte
        /// reservation made outside the read batch (from a task on the loop) must still be written. In a child
        /// process, like the test above.
        @Test func aReservationOutsideTheReadBatchIsWrittenWhenMaxBufferedInputIsSmall() async {
            await expectSuccessInAChildProcess(.reservationFromATaskWithASmallPool)
        }

        @Test func framesWithTheStandardAndATwoByteLittleEndianHeader() throws {
            try check("f", answers: [0, 0, 0, 3, 1, 2, 3])
            try check("F", answers: [0, 0, 0, 0])
            try check("l", answers: [0x2C, 0x01] + Writer.littleEndianPayload)
            try check("flF", answers: [0, 0, 0, 3, 1, 2, 3, 0x2C, 0x01] + Writer.littleEndianPayload + [0, 0, 0, 0])
        }

        /// The documentation of ``ConnectionContext``: "writes after ``close()`` are dropped".
        @Test func aWriteAfterCloseIsDropped() throws {
            try withServerAndClient(testConfiguration(subReactors: 1), handler: Writer()) { _, client in
                try client.send(Array("c".utf8))
                let received = try client.receiveUntilEndOfStream()
                #expect(received == Array("A".utf8), "\(String(decoding: received, as: UTF8.self))")
            }
        }

        /// Echoes frames with `write(frame)`.
        struct FrameEcho: FrameHandler {
            /// Unused; see ``Writer/unused``.
            var unused = 0

            func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
                connection.write(frame)
            }
        }

        @Test func aFrameHandlerWritingAFrameStillWritesALengthPrefixedFrame() throws {
            try withServerAndClient(testConfiguration(subReactors: 1), handler: FrameEcho()) { _, client in
                try client.send([0, 0, 0, 3, 7, 8, 9] + [0, 0, 0, 0] + frame(pattern(70_000, seed: 6)))
                #expect(try client.receive(exactly: 7) == [0, 0, 0, 3, 7, 8, 9])
                #expect(try client.receive(exactly: 4) == [0, 0, 0, 0])
                #expect(try client.receive(exactly: 70_004) == frame(pattern(70_000, seed: 6)))
            }
        }
    }
}

/// Fills `buffer` with ``filled(_:seed:)``'s bytes.
private func fill(_ buffer: UnsafeMutableRawBufferPointer, seed: Int) {
    for index in 0..<buffer.count { buffer[index] = byte(at: index, seed: seed) }
}

/// `count` deterministic bytes that differ per `seed`.
private func filled(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { byte(at: $0, seed: seed) }
}

private func byte(at index: Int, seed: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: index &* 7 &+ seed &* 13 &+ (index >> 9))
}
