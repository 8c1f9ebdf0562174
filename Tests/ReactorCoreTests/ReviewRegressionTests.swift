import Dispatch
import Foundation
import Logging
import ReactorCore
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Regression tests for the defects an independent review of the stream API found, each the reviewer's experiment
/// turned into a test:
///
/// 1. a copied write appended into an inbound chunk handed to the outbound queue (`outboundChunkSize` >= 32 KiB);
/// 2. a handed-off chunk pinning far more pool memory than the queue counted;
/// 3. a post to a stopped loop trapping (`Client.connect` racing `stop()`, a `LoopTimer` cancelled after `stop()`);
/// 4. a `skip(_:)` beyond the view lost after a large message echoed by reference (and two skips not adding up);
/// 5. a handle write on a closing connection reporting success for bytes it dropped;
/// 6. `maxBufferedInput` depending on how the reads were cut;
/// 7. `onInputEnded`'s `newBytesOffset` counting bytes the handler was never shown.
///
/// Tests wait for what the server has read (``ReactorStatistics/bytesIn``) or what the handler saw before sending
/// the next piece, so each piece is a read of its own whatever the scheduling.
extension LoopbackTests {
    @Suite struct ReviewRegressions {
        // MARK: - Shared

        /// A one-loop test configuration with `outboundChunkSize` set.
        static func configuration(outboundChunkSize: Int? = nil) -> ServerConfiguration {
            var configuration = testConfiguration(subReactors: 1)
            if let outboundChunkSize { configuration.limits.outboundChunkSize = outboundChunkSize }
            return configuration
        }

        /// Waits (up to 5 s) until `server` has read at least `count` bytes; returns whether it did.
        static func waitForBytesIn<Handler: StreamHandler>(_ server: Server<Handler>, atLeast count: Int) -> Bool {
            eventually { server.statistics().bytesIn >= count }
        }

        /// Where `received` first differs from `expected` (`nil`: equal), so a failure names a byte offset instead of
        /// printing tens of thousands of bytes.
        static func firstDifference(_ received: [UInt8], _ expected: [UInt8]) -> Int? {
            if let index = received.indices.first(where: { $0 < expected.count && received[$0] != expected[$0] }) {
                return index
            }
            return received.count == expected.count ? nil : min(received.count, expected.count)
        }

        /// A 5-byte header of the skip test protocol: a type byte and a 4-byte big-endian length.
        static func header(_ type: Character, _ length: Int) -> [UInt8] {
            [
                type.asciiValue!, UInt8(length >> 24 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff),
                UInt8(length & 0xff),
            ]
        }

        // MARK: - 1. Copied writes never land in a referenced inbound chunk

        /// Waits for 40 000 bytes, then answers with their first half by reference, one copied byte, and their
        /// second half by reference. Records the size of every view it is shown.
        struct SplitEcho: StreamHandler {
            let views = Locked<[Int]>([])

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                let count = input.count
                views.withLock { $0.append(count) }
                if count < 40000 {
                    input.expect(atLeast: 40000)
                    return
                }
                input.withUnsafeBytes { bytes in
                    connection.write(UnsafeRawBufferPointer(rebasing: bytes[0..<20000]))  // >= 16 KiB: by reference
                    connection.write("|" as StaticString)  // copied: appended to the outbound queue
                    connection.write(UnsafeRawBufferPointer(rebasing: bytes[20000..<40000]))
                }
                input.consume(40000)
            }
        }

        /// E1: the first 100 bytes make the handler expect 40 000, so the rest is read straight into a pooled chunk
        /// (of the 64 KiB class). With 64 KiB outbound chunks that chunk, once handed to the outbound queue, was of
        /// the queue's own class and the copied `|` was appended into it, overwriting input byte 20 000 before the
        /// second half was referenced.
        @Test(arguments: [16 * 1024, 64 * 1024])
        func aCopiedWriteBetweenTwoReferencedHalvesLeavesTheInputIntact(outboundChunkSize: Int) throws {
            let handler = SplitEcho()
            let configuration = Self.configuration(outboundChunkSize: outboundChunkSize)
            try withServerAndClient(configuration, handler: handler, clientTimeoutSeconds: 5) { _, client in
                let data = pattern(40000, seed: 1)
                try client.send(Array(data[0..<100]))
                #expect(eventually { handler.views.withLock { $0 } == [100] })
                try client.send(Array(data[100...]))
                let reply = try client.receive(exactly: 40001)
                let expected = Array(data[0..<20000]) + Array("|".utf8) + Array(data[20000...])
                #expect(Self.firstDifference(reply, expected) == nil, "the reply differs from the input at this offset")
            }
        }

        /// Answers every frame twice (by reference both times when the frame is in a chunk) and records the frames.
        struct EchoTwice: FrameHandler {
            let frames = Locked<[[UInt8]]>([])

            func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
                let payload = frame.withUnsafeBytes { Array($0) }
                frames.withLock { $0.append(payload) }
                connection.write(frame)
                connection.write(frame)
            }
        }

        /// E1b: the built-in ``FrameHandler`` path. The second write of a frame echoed by reference copies its
        /// 4-byte header into the queue: with 64 KiB outbound chunks it went into the referenced chunk, over the
        /// next frame's bytes.
        @Test(arguments: [16 * 1024, 64 * 1024])
        func aFrameEchoedTwiceByReferenceLeavesTheNextFrameIntact(outboundChunkSize: Int) throws {
            let handler = EchoTwice()
            let configuration = Self.configuration(outboundChunkSize: outboundChunkSize)
            try withServerAndClient(configuration, handler: handler, clientTimeoutSeconds: 5) { server, client in
                let bigPayload = pattern(40000, seed: 2)
                let smallPayload = Array("0123456789".utf8)
                let big = frame(bigPayload)
                try client.send(Array(big[0..<100]))
                #expect(Self.waitForBytesIn(server, atLeast: 100))
                try client.send(Array(big[100...]) + frame(smallPayload))
                let reply = try client.receive(exactly: 2 * big.count + 2 * (4 + smallPayload.count))
                let expected = big + big + frame(smallPayload) + frame(smallPayload)
                #expect(Self.firstDifference(reply, expected) == nil, "the reply differs at this offset")
                #expect(eventually { handler.frames.withLock { $0.count } == 2 })
                #expect(handler.frames.withLock { $0 } == [bigPayload, smallPayload])
            }
        }

        // MARK: - 2. A handed-off chunk pins about what is counted

        /// The README's echo; records writability changes.
        struct RecordingWritabilityEcho: FrameHandler {
            let writability = Locked<[Bool]>([])

            func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
                connection.write(frame)
            }

            func onWritabilityChanged(_ isWritable: Bool, connection: inout ConnectionContext) {
                writability.withLock { $0.append(isWritable) }
            }
        }

        /// E8: after one 1 MiB frame echoed by reference the loop predicted 1 MiB messages and read every following
        /// 17 KiB frame into a chunk of that size, handed off whole: with the peer not reading, the queue counted
        /// about 1 MiB (the high watermark) while the pool had tens of MiB in use. Now a chunk is handed off only
        /// when the message fills at least half of it, so what the pool has in use stays near the high watermark.
        @Test func smallFramesAfterALargeOneDoNotPinLargeChunks() throws {
            let handler = RecordingWritabilityEcho()
            let configuration = Self.configuration()
            let highWatermark = configuration.limits.writeHighWatermark
            try withServerAndClient(configuration, handler: handler, clientTimeoutSeconds: 1) { server, client in
                // Warm-up: one large frame, echoed by reference (it arrives in two reads, the second into a chunk).
                let large = frame(pattern((1 << 20) - 64, seed: 3))
                try client.send(Array(large[0..<100]))
                #expect(Self.waitForBytesIn(server, atLeast: 100))
                try client.send(Array(large[100...]))
                #expect(Self.firstDifference(try client.receive(exactly: large.count), large) == nil)

                // 17 KiB frames the client never reads the replies to. A small receive buffer (set only now: the
                // warm-up would crawl through it) makes them back up on the server quickly.
                var small: CInt = 4096
                setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<CInt>.size))
                let small17 = frame(pattern(17 * 1024, seed: 4))
                var sent = 0
                while sent < 400, (try? client.send(small17)) != nil {
                    sent += 1
                    usleep(2000)
                }
                #expect(eventually { handler.writability.withLock { $0.contains(false) } })
                var peak = 0
                for _ in 0..<10 {
                    peak = max(peak, server.statistics().pool.bytesInUse)
                    usleep(30_000)
                }
                let pool = server.statistics().pool
                let inUse = pool.classes.filter { $0.chunksInUse > 0 }.map {
                    "\($0.chunkSize >> 10) KiB x \($0.chunksInUse)"
                }
                #expect(
                    peak <= 4 * highWatermark,
                    "sent \(sent) frames of 17 KiB; pool in use peaked at \(peak >> 10) KiB (now \(inUse))")
                client.reset()
            }
        }

        // MARK: - 3. Posts to a stopped loop are refused, never a crash

        /// Consumes everything; records each connection's handle.
        struct KeepsHandles: StreamHandler {
            let handles = Locked<[ConnectionHandle]>([])

            func onOpen(connection: inout ConnectionContext) {
                let handle = connection.handle
                handles.withLock { $0.append(handle) }
            }

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                input.consume(input.count)
            }
        }

        /// What runs in a child process: before the fix each of these trapped (a write to the stopped loop's closed
        /// eventfd, or a precondition), which would have taken the whole test run down with it.
        enum ChildCheck: String, Codable, Sendable {
            /// E6: `Client.connect(to:)` after and racing `stop()`.
            case connectRacingStop
            /// E7: a `LoopTimer` cancelled or scheduled, and handle calls, after the server stopped.
            case postsAfterStop

            func run() throws {
                switch self {
                case .connectRacingStop: try ReviewRegressions.connectRacingStop()
                case .postsAfterStop: try ReviewRegressions.postsAfterStop()
                }
            }
        }

        /// Runs `check` in a child process (60 s watchdog) and expects it to exit successfully.
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

        @Test func connectAfterOrRacingClientStopThrowsInsteadOfTrapping() async {
            await expectSuccessInAChildProcess(.connectRacingStop)
        }

        @Test func aLoopTimerAndAHandleUsedAfterServerStopDoNotTrap() async {
            await expectSuccessInAChildProcess(.postsAfterStop)
        }

        /// A client configuration that logs nothing below critical.
        static func quietClientConfiguration() -> ClientConfiguration {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            return ClientConfiguration(loops: 1, logger: logger)
        }

        /// The child of ``connectAfterOrRacingClientStopThrowsInsteadOfTrapping()``: a connect after `stop()`
        /// throws `ECANCELED`; a connect racing `stop()` (200 rounds, the stop a few microseconds later each time)
        /// either connects or throws `ECANCELED`, and returns within 2 s.
        static func connectRacingStop() throws {
            try withServer(testConfiguration(subReactors: 1), handler: KeepsHandles()) { server, _ in
                let address = try #require(server.localAddress)

                let stopped = Client(configuration: quietClientConfiguration(), handler: KeepsHandles())
                try stopped.start()
                stopped.stop()
                let error = #expect(throws: SystemError.self) { try stopped.connect(to: address) }
                #expect(error?.errno.rawValue == ECANCELED)

                var outcomes: [String: Int] = [:]
                for round in 0..<200 {
                    let client = Client(configuration: quietClientConfiguration(), handler: KeepsHandles())
                    try client.start()
                    let outcome = Locked<String?>(nil)
                    let done = DispatchSemaphore(value: 0)
                    Thread.detachNewThread {
                        do {
                            _ = try client.connect(to: address)
                            outcome.withLock { $0 = "connected" }
                        } catch let error as SystemError where error.errno.rawValue == ECANCELED {
                            outcome.withLock { $0 = "cancelled" }
                        } catch {
                            outcome.withLock { $0 = "threw \(error)" }
                        }
                        done.signal()
                    }
                    usleep(UInt32(round % 60))
                    client.stop()
                    let returned = done.wait(timeout: .now() + 2) == .success
                    #expect(returned, "round \(round): Client.connect still blocked 2 s after stop() returned")
                    guard returned else { break }
                    outcomes[outcome.withLock { $0 } ?? "nil", default: 0] += 1
                }
                #expect(Set(outcomes.keys).isSubset(of: ["connected", "cancelled"]), "\(outcomes)")
                #expect(outcomes.values.reduce(0, +) == 200, "\(outcomes)")
                print("connect racing stop:", outcomes)
            }
        }

        /// The child of ``aLoopTimerAndAHandleUsedAfterServerStopDoNotTrap()``.
        static func postsAfterStop() throws {
            let handler = KeepsHandles()
            let server = Server(configuration: testConfiguration(subReactors: 1), handler: handler)
            try server.start()
            let client = try TestClient(port: server.localAddress!.port, timeoutSeconds: 5)
            #expect(eventually { handler.handles.withLock { $0.count } == 1 })
            let handle = try #require(handler.handles.withLock { $0.first })
            server.stop()
            #expect(!handle.isOpen)
            #expect(!handle.write([1, 2, 3]))
            #expect(!handle.close())
            let fired = Locked(false)
            let timer = LoopTimer(on: handle.eventLoop) { fired.withLock { $0 = true } }
            timer.cancel()  // from this thread: a post to the stopped loop
            timer.schedule(after: .milliseconds(1))
            timer.cancel()
            handle.eventLoop.schedule(after: .milliseconds(1)) { fired.withLock { $0 = true } }
            usleep(50_000)
            #expect(!fired.withLock { $0 }, "a timer fired on a stopped loop")
            withExtendedLifetime(client) {}
        }

        // MARK: - 4. skip(_:) beyond the view is honoured

        /// Messages of a type byte and a 4-byte length: `E` is echoed, `S` skipped with one `skip(_:)`, `T` skipped
        /// with two (half each). Any other type byte is skipped input shown to the handler: recorded, and closes.
        struct SkipOrEcho: StreamHandler {
            let wrongTypes = Locked<[UInt8]>([])

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                while true {
                    if input.count < 5 {
                        input.expect(atLeast: 5)
                        return
                    }
                    let (type, length) = input.withUnsafeBytes { bytes in
                        (bytes[0], Int(bytes[1]) << 24 | Int(bytes[2]) << 16 | Int(bytes[3]) << 8 | Int(bytes[4]))
                    }
                    switch type {
                    case UInt8(ascii: "E"):
                        if input.count < 5 + length {
                            input.expect(atLeast: 5 + length)
                            return
                        }
                        input.withUnsafeBytes { bytes in
                            connection.write(UnsafeRawBufferPointer(rebasing: bytes[5..<5 + length]))
                        }
                        input.consume(5 + length)
                    case UInt8(ascii: "S"):
                        input.consume(5)
                        input.skip(length)
                    case UInt8(ascii: "T"):
                        input.consume(5)
                        input.skip(length / 2)
                        input.skip(length - length / 2)
                    default:
                        wrongTypes.withLock { $0.append(type) }
                        connection.close()
                        return
                    }
                    if input.isEmpty { return }
                }
            }
        }

        /// E2: a 40 000-byte message echoed by reference made the loop read the next input straight into a chunk,
        /// past the 29 000 bytes still to skip: the handler was shown them.
        @Test func aSkipBeyondTheViewAfterALargeEchoedMessageIsHonoured() throws {
            let handler = SkipOrEcho()
            try withServerAndClient(Self.configuration(), handler: handler, clientTimeoutSeconds: 5) {
                server, client in
                let echoed = pattern(40000, seed: 5)
                let first = Self.header("E", 40000) + Array(echoed[0..<100])
                try client.send(first)
                #expect(Self.waitForBytesIn(server, atLeast: first.count))
                let second =
                    Array(echoed[100...]) + Self.header("S", 30000) + [UInt8](repeating: 0xAA, count: 1000)
                try client.send(second)
                #expect(Self.firstDifference(try client.receive(exactly: 40000), echoed) == nil)
                #expect(Self.waitForBytesIn(server, atLeast: first.count + second.count))
                try client.send([UInt8](repeating: 0xAA, count: 29000) + Self.header("E", 3) + Array("abc".utf8))
                #expect(try client.receive(exactly: 3) == Array("abc".utf8))
                #expect(handler.wrongTypes.withLock { $0 } == [])
            }
        }

        /// Two `skip(_:)` calls beyond the view add up (the second used to replace the first).
        @Test func twoSkipsBeyondTheViewAddUp() throws {
            let handler = SkipOrEcho()
            try withServerAndClient(Self.configuration(), handler: handler, clientTimeoutSeconds: 5) {
                server, client in
                try client.send(Self.header("T", 20000))
                #expect(Self.waitForBytesIn(server, atLeast: 5))
                try client.send([UInt8](repeating: 0xAA, count: 20000) + Self.header("E", 3) + Array("xyz".utf8))
                #expect(try client.receive(exactly: 3) == Array("xyz".utf8))
                #expect(handler.wrongTypes.withLock { $0 } == [])
            }
        }

        // MARK: - 5. Handle writes on a closing connection report the drop

        /// On its first read: takes the handle, queues a reply larger than the socket buffers take and closes, so
        /// the connection stays open but closing while the peer does not read; consumes everything.
        struct ClosesAfterALargeReply: StreamHandler {
            static let replyCount = 8 << 20
            let handle = Locked<ConnectionHandle?>(nil)

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                input.consume(input.count)
                let current = connection.handle
                let first = handle.withLock { stored -> Bool in
                    guard stored == nil else { return false }
                    stored = current
                    return true
                }
                guard first else { return }
                connection.write([UInt8](repeating: 0x5A, count: Self.replyCount))
                connection.close()
            }
        }

        /// E3: writes through the handle of a connection that is closing (its handler called `close()`, its last
        /// reply is still going out) are dropped. From another thread `whenQueued` now says false (it said true);
        /// on the loop the write returns false (it returned true).
        @Test func aHandleWriteOnAClosingConnectionReportsThatNothingWasQueued() throws {
            let handler = ClosesAfterALargeReply()
            var configuration = Self.configuration()
            configuration.limits.lingerTimeout = .seconds(30)  // closing (not closed) for the whole test, however slow
            try withServer(configuration, handler: handler) { _, port in
                let client = try TestClient(unconnectedWithTimeout: 5)
                var small: CInt = 4096  // the reply backs up on the server
                setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<CInt>.size))
                try client.connect(port: port)
                defer { client.reset() }  // the server's close is immediate once the client is gone
                try client.send(Array("x".utf8))
                #expect(eventually { handler.handle.withLock { $0 } != nil })
                let handle = try #require(handler.handle.withLock { $0 })
                #expect(handle.isOpen, "the connection is closing, with most of its reply unsent")

                // From this thread.
                let queued = Locked<Bool?>(nil)
                let returned = handle.write(Array("late\n".utf8)) { ok in queued.withLock { $0 = ok } }
                #expect(returned, "called elsewhere, a write says whether the connection was open")
                let queuedFrame = Locked<Bool?>(nil)
                _ = handle.writeFrame(Array("late".utf8)) { ok in queuedFrame.withLock { $0 = ok } }
                #expect(eventually { queued.withLock { $0 } != nil && queuedFrame.withLock { $0 } != nil })
                #expect(queued.withLock { $0 } == false)
                #expect(queuedFrame.withLock { $0 } == false)

                // On the loop.
                let onLoop = Locked<(returned: Bool, whenQueued: Bool?)?>(nil)
                handle.eventLoop.schedule(after: .milliseconds(1)) {
                    let whenQueued = Locked<Bool?>(nil)
                    let returned = handle.write(Array("later\n".utf8)) { ok in whenQueued.withLock { $0 = ok } }
                    onLoop.withLock { $0 = (returned, whenQueued.withLock { $0 }) }
                }
                #expect(eventually { onLoop.withLock { $0 } != nil })
                #expect(onLoop.withLock { $0?.returned } == false)
                #expect(onLoop.withLock { $0?.whenQueued } == false)
                #expect(handle.isOpen, "still closing: the checks above ran on a closing connection")
            }
        }

        // MARK: - 6. maxBufferedInput does not depend on how the reads were cut

        /// Records every message's size and the close reason; answers each message with "ok\n".
        struct CountsMessages: MessageHandler {
            let messages = Locked<[Int]>([])
            let closes = Locked<[CloseReason]>([])

            func onMessage(_ message: RawSpan, state: inout Void, connection: inout ConnectionContext) {
                let count = message.byteCount
                messages.withLock { $0.append(count) }
                connection.write("ok\n" as StaticString)
            }

            func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
                closes.withLock { $0.append(reason) }
            }
        }

        /// How a test stream is sent.
        enum Split: String, CaseIterable, CustomTestStringConvertible {
            /// In one `send`.
            case whole
            /// All but the last 3 bytes, then (once the server read them, or as many as it may buffer) the last 3.
            case lastThreeLater

            var testDescription: String { rawValue }
        }

        /// The outcome of one stream: the sizes of the messages delivered, whether the connection was refused for
        /// buffering too much, and what the peer received before the end of the stream (nil: a reset or a timeout).
        struct Outcome: Equatable, CustomStringConvertible {
            var messages: [Int]
            var refused: Bool
            var reply: [UInt8]?
            var description: String {
                "messages \(messages), refused \(refused), reply \(reply.map { "\($0)" } ?? "nil")"
            }
        }

        /// Sends a 1 MiB frame with an 8-byte length field, split as `split`, then its FIN, to a server decoding it
        /// with the limits' `maxBufferedInput` set to `maxBufferedInput` (nil: the default).
        static func sendLargeFrame(split: Split, maxBufferedInput: Int?) throws -> Outcome {
            let handler = CountsMessages()
            let decoder = LengthFieldDecoder(lengthFieldLength: 8)  // maxFrameLength 1 MiB, like the limits
            var configuration = Self.configuration()
            if let maxBufferedInput { configuration.limits.maxBufferedInput = maxBufferedInput }
            let limit = configuration.limits.maxBufferedInput
            let payloadCount = 1 << 20
            var stream = [UInt8](repeating: 0, count: 8)
            stream[5] = 0x10  // 0x100000, big endian
            stream += pattern(payloadCount, seed: 6)
            return try withServerAndClient(configuration, handler: Decoded(decoder, handler), clientTimeoutSeconds: 5) {
                server, client in
                switch split {
                case .whole:
                    try client.send(stream)
                case .lastThreeLater:
                    let first = stream.count - 3
                    try client.send(Array(stream[..<first]))
                    // The server reads all of it, or (refusing it) as much as it may buffer.
                    #expect(eventually { server.statistics().bytesIn >= min(first, limit) })
                    try? client.send(Array(stream[first...]))
                }
                client.shutdownWrite()
                let reply = try? client.receiveUntilEndOfStream()
                #expect(eventually { !handler.closes.withLock { $0.isEmpty } })
                let refused = handler.closes.withLock { $0 }.contains { $0.kind == .bufferedInputTooLarge }
                return Outcome(messages: handler.messages.withLock { $0 }, refused: refused, reply: reply)
            }
        }

        /// E5/E5b: with the default limits a 1 MiB frame of a decoder with an 8-byte length field is accepted
        /// however it arrives (the default was `maxFrameLength` + 4: refused when its last bytes came later, accepted
        /// when a read happened to take them past the limit).
        @Test(arguments: Split.allCases)
        func aMaximumFrameWithAnEightByteHeaderIsAcceptedByTheDefaultLimit(split: Split) throws {
            let outcome = try Self.sendLargeFrame(split: split, maxBufferedInput: nil)
            #expect(outcome == Outcome(messages: [1 << 20], refused: false, reply: Array("ok\n".utf8)))
        }

        /// A read never takes a connection past `maxBufferedInput`: with the limit 4 bytes short of the frame, the
        /// frame is refused whether it arrives in one piece or two.
        @Test(arguments: Split.allCases)
        func aFrameOverAnExplicitLimitIsRefusedHoweverItArrives(split: Split) throws {
            let outcome = try Self.sendLargeFrame(split: split, maxBufferedInput: (1 << 20) + 4)
            #expect(outcome == Outcome(messages: [], refused: true, reply: []))
        }

        // MARK: - 7. onInputEnded's newBytesOffset counts only bytes shown

        /// Expects 1000 bytes that never come; records every call's view.
        struct ExpectsMore: StreamHandler {
            let calls = Locked<[String]>([])

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                let call = "onRead count \(input.count) newBytesOffset \(input.newBytesOffset)"
                calls.withLock { $0.append(call) }
                input.expect(atLeast: 1000)
            }

            func onInputEnded(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                let call = "onInputEnded count \(input.count) newBytesOffset \(input.newBytesOffset)"
                calls.withLock { $0.append(call) }
            }
        }

        /// E4: 10 bytes shown, 20 more withheld (fewer than expected), then the peer's FIN: `onInputEnded` sees 30
        /// bytes of which the first 10 were shown before, so `newBytesOffset` is 10 (it was 30).
        @Test func onInputEndedNewBytesOffsetCountsOnlyTheBytesShown() throws {
            let handler = ExpectsMore()
            try withServerAndClient(Self.configuration(), handler: handler, clientTimeoutSeconds: 5) { server, client in
                try client.send([UInt8](repeating: 0x41, count: 10))
                #expect(eventually { handler.calls.withLock { $0.count } == 1 })
                try client.send([UInt8](repeating: 0x42, count: 20))
                #expect(Self.waitForBytesIn(server, atLeast: 30))
                client.shutdownWrite()
                #expect(try client.receiveUntilEndOfStream() == [])
                #expect(eventually { handler.calls.withLock { $0.count } == 2 })
                #expect(
                    handler.calls.withLock { $0 } == [
                        "onRead count 10 newBytesOffset 0", "onInputEnded count 30 newBytesOffset 10",
                    ])
            }
        }
    }
}
