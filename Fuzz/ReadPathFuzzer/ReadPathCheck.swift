import FuzzSupport
@_spi(Fuzzing) import ReactorCore

/// One fuzz input for a sub-reactor's connection path: a stream sent over a fresh connection in random pieces, the
/// echoes read back at random moments, then end-of-stream; what the handler saw, what came back and how the
/// connection closed are checked against ``ReferenceFrames`` (the frame mode: a ``FrameHandler`` echo) or
/// ``ReferenceRecords`` (the record mode: a raw ``StreamHandler`` that consumes, waits and skips by itself).
///
/// Input layout (missing bytes read as zero):
///
/// - byte 0: the reactor's limits: bits 0–2 pick `maxFrameLength` from ``maxFrameLengths``, bits 3–4 the buffer and
///   watermark style (``limits(style:maxFrameLength:)``);
/// - byte 1: bits 0–1 pick `SO_SNDBUF` of the reactor's end (replies), bits 2–3 of the peer's end (requests): the
///   default, the kernel's minimum (about 4.5 KiB), 8 KiB or 64 KiB; bit 4 the record mode (else frames); in the
///   record mode, bit 5 waits for an incomplete header with `expect(atLeast:)`, bits 6–7 pick how an incomplete
///   data record is waited for (`RecordPolicy.Wait`: not at all, exactly, beyond it, mixed);
/// - byte 2: 0 lets the handler never close; n makes it close the connection after frame (or record) n;
/// - byte 3: the largest piece, 2^(n % 13) bytes (but at least 1/16 of the stream);
/// - byte 4: bits 0–2: how often the peer reads the replies after a piece, n / 8; bits 3–4: how many replies the
///   handler writes per frame (or complete record), 1, 2, 4 or 8;
/// - bytes 5–12: the seed of the piece sizes and choices;
/// - the rest: the stream.
struct ReadPathCheck {
    /// The `maxFrameLength`s an input picks from; small, so that `frameTooLong` closes are common.
    static let maxFrameLengths = [0, 1, 16, 255, 1000, 2048, 4096, 10_000]
    /// Buffer and watermark styles.
    static let styles = 4
    /// The most pieces a stream is sent in.
    static let maximumPieces = 16

    /// The limits of style `style` with `maxFrameLength`.
    ///
    /// 0: defaults with the smallest read buffer (direct reads of frames over 2 KiB); 1: a 1 KiB read budget per
    /// wakeup and 1 KiB / 256 B watermarks (reads resume on level-triggered readiness; reading pauses for a slow peer
    /// and resumes once it catches up); 2: a 2 KiB cap on unsent bytes (`writeBufferOverflow` closes); 3: the
    /// defaults.
    static func limits(style: Int, maxFrameLength: Int) -> ConnectionLimits {
        var limits = ConnectionLimits()
        limits.maxFrameLength = maxFrameLength
        switch style {
        case 0:
            limits.readBufferSize = 4096
        case 1:
            limits.readBufferSize = 4096
            limits.maxReadBytesPerWakeup = 1024
            limits.outboundChunkSize = 4096
            limits.writeHighWatermark = 1024
            limits.writeLowWatermark = 256
            limits.maxPendingWriteBytes = 16_384
        case 2:
            limits.readBufferSize = 8192
            limits.outboundChunkSize = 4096
            limits.writeHighWatermark = 1024
            limits.writeLowWatermark = 0
            limits.maxPendingWriteBytes = 2048
        default:
            break
        }
        return limits
    }

    /// The harness an input picks (index into the harnesses made from every combination, style-major).
    let harnessIndex: Int
    let serverSendBuffer: Int?
    let peerSendBuffer: Int?
    let mode: ReadPathHarness.Mode
    let closeAfterFrames: Int
    let largestPiece: Int
    /// Out of 8.
    let drainChance: Int
    let repliesPerFrame: Int
    var random: SplitMix64
    let stream: UnsafeRawBufferPointer

    init(input: inout FuzzInput) {
        let limits = Int(input.byte())
        harnessIndex = ((limits >> 3) % Self.styles) * Self.maxFrameLengths.count + limits % Self.maxFrameLengths.count
        let buffers = Int(input.byte())
        let sizes = [nil, 1, 8192, 65_536]
        serverSendBuffer = sizes[buffers & 3]
        peerSendBuffer = sizes[(buffers >> 2) & 3]
        if buffers & 0x10 == 0 {
            mode = .frames
        } else {
            mode = .records(
                ReadPathHarness.RecordPolicy(
                    waitsForHeader: buffers & 0x20 != 0,
                    wait: ReadPathHarness.RecordPolicy.Wait(rawValue: buffers >> 6)!))
        }
        closeAfterFrames = Int(input.byte())
        largestPiece = 1 << (Int(input.byte()) % 13)
        let replies = Int(input.byte())
        drainChance = replies & 7
        repliesPerFrame = 1 << ((replies >> 3) & 3)
        random = SplitMix64(seed: input.uint64())
        stream = input.rest()
    }

    /// Runs the input on `harness`; `reference`, `records`, `replies` and `expectedEcho` are scratch space kept
    /// across inputs.
    mutating func run(
        harness: ReadPathHarness, reference: inout ReferenceFrames, records: inout ReferenceRecords,
        replies: inout [UInt8], expectedEcho: inout [UInt8]
    ) {
        let limits = harness.limits
        if mode == .frames {
            reference.parse(stream, maxFrameLength: limits.maxFrameLength)
        } else {
            records.parse(stream, replies: repliesPerFrame, maxBufferedInput: limits.maxBufferedInput)
        }
        replies.removeAll(keepingCapacity: true)
        do {
            try harness.connect(
                mode: mode, repliesPerFrame: repliesPerFrame, closeAfterFrames: closeAfterFrames,
                serverSendBuffer: serverSendBuffer, peerSendBuffer: peerSendBuffer)
        } catch {
            fatalError("connect failed: \(error)")
        }
        expect(harness.isConnectionOpen, "the connection did not open")

        // Send the stream piece by piece, running the loop after each write. At most `maximumPieces` pieces (each
        // costs a few syscalls); the decoder fuzzer covers finer splits.
        _ = sendInPieces(
            stream, random: &random, smallestPiece: max(1, stream.count / Self.maximumPieces),
            largestPiece: largestPiece, readChance: drainChance,
            send: { harness.sendPiece($0, collectingReplies: &replies) },
            read: {
                _ = harness.drainReplies(into: &replies)
                harness.runLoopIteration()
            })

        // End of stream: the reactor flushes what is queued and closes; the peer reads until end of stream.
        expect(
            harness.endPeerStream(collectingReplies: &replies),
            "the peer saw end of stream but the connection stayed open")
        guard let reason = harness.closeReason else { fatalError("closed without telling the handler") }
        expect(harness.closeGotConnectionState, "onClose did not get the connection's own state")
        expect(harness.phaseViolation == nil, "connection lifecycle: \(harness.phaseViolation ?? "")")
        if case .records(let policy) = mode {
            trace(
                "limits \(limits.maxBufferedInput)/\(limits.maxPendingWriteBytes), \(policy), \(repliesPerFrame) "
                    + "replies: \(records.recordEnds.count) records, \(harness.completedRecordCount) completed, "
                    + "\(harness.consumedBytes.count) of \(records.consumedCount) bytes consumed, \(replies.count) echo "
                    + "bytes, closed: \(reason)")
            check(reason: reason, harness: harness, records: records, replies: replies, expectedEcho: &expectedEcho)
        } else {
            trace(
                "limits \(limits.maxFrameLength)/\(limits.maxPendingWriteBytes): \(reference.frames.count) frames, "
                    + "\(harness.receivedFrameCount) handled, \(replies.count) echo bytes, closed: \(reason)")
            check(reason: reason, harness: harness, reference: reference, replies: replies, expectedEcho: &expectedEcho)
        }

        expect(harness.openConnections == 0, "\(harness.openConnections) connections left in the table")
        expect(harness.admittedConnections == 0, "\(harness.admittedConnections) connections still admitted")
        expect(harness.poolBytesInUse == 0, "pool chunks leaked: \(harness.poolBytesInUse) bytes in use")
        harness.disconnect()
    }

    /// The handler saw exactly the frames up to the close, and the peer got their echoes: all of them after a clean
    /// close or an oversized prefix, a prefix of them after a write-buffer overflow (which discards queued replies).
    private func check(
        reason: CloseReason, harness: ReadPathHarness, reference: ReferenceFrames, replies: [UInt8],
        expectedEcho: inout [UInt8]
    ) {
        let limits = harness.limits
        let frames = reference.frames.count
        let received = harness.receivedFrameCount
        expect(received <= frames, "\(received) frames handled, the stream has \(frames)")
        let receivedEnd = reference.end(ofFirst: received)
        expect(stream.prefix(receivedEnd, equals: harness.receivedFrames), "the handler got different frames")
        let handlerClosed = closeAfterFrames > 0 && closeAfterFrames <= frames

        // The echo of the handled frames: each frame (prefix and payload) `repliesPerFrame` times.
        expectedEcho.removeAll(keepingCapacity: true)
        for frame in reference.frames[0..<received] {
            let bytes = UnsafeRawBufferPointer(rebasing: stream[frame.payloadOffset - 4..<frame.end])
            for _ in 0..<repliesPerFrame { expectedEcho.append(contentsOf: bytes) }
        }
        let echoPrefix = expectedEcho.withUnsafeBytes { $0.prefix($0.count, startsWith: replies) }
        let echoComplete =
            expectedEcho.withUnsafeBytes { $0.prefix($0.count, equals: replies) }
            || Self.misreportedOverflow(echoPrefix)

        switch reason {
        case .peerClosed, .truncatedFrame:
            expect(reference.tooLong == nil, "\(reason) although the stream has an oversized length")
            expect(!handlerClosed, "\(reason) although the handler closed after frame \(closeAfterFrames)")
            expect(received == frames, "\(reason) after \(received) of \(frames) frames")
            let buffered = reference.trailingBytes
            let expected: CloseReason = buffered == 0 ? .peerClosed : .truncatedFrame(bufferedBytes: buffered)
            expect(reason == expected, "closed with \(reason), expected \(expected)")
            expect(echoComplete, "echo differs (\(replies.count) of \(expectedEcho.count) bytes)")
        case .closedByHandler:
            expect(handlerClosed, "closedByHandler but the handler never closed")
            expect(received == closeAfterFrames, "closedByHandler after \(received) frames, not \(closeAfterFrames)")
            expect(echoComplete, "echo differs (\(replies.count) of \(expectedEcho.count) bytes)")
        case .frameTooLong(let length, let limit):
            guard let tooLong = reference.tooLong else { fatalError("\(reason) in a valid stream") }
            expect(length == tooLong.length && limit == limits.maxFrameLength, "\(reason), expected \(tooLong)")
            expect(!handlerClosed, "\(reason) although the handler closed after frame \(closeAfterFrames)")
            expect(received == frames, "\(reason) after \(received) of \(frames) frames")
            // The frames before the bad prefix were handled, so their replies all go out before the close.
            expect(echoComplete, "echo differs (\(replies.count) of \(expectedEcho.count) bytes)")
        case .writeBufferOverflow(let pending, let limit):
            expect(limit == limits.maxPendingWriteBytes && pending > limit, "\(reason)")
            expect(received >= 1, "\(reason) before any frame")
            expect(!handlerClosed || received <= closeAfterFrames, "\(reason) after the handler closed")
            expect(echoPrefix, "echo is not a prefix (\(replies.count) of \(expectedEcho.count) bytes)")
        default:
            fatalError("unexpected close: \(reason)")
        }
    }

    /// The record handler consumed exactly the stream's consumable bytes up to the close, completed the records
    /// they hold, saw a consistent `newBytesOffset` on every call, and the peer got their echo: all of it after a
    /// graceful close, a prefix after a write-buffer overflow.
    private func check(
        reason: CloseReason, harness: ReadPathHarness, records: ReferenceRecords, replies: [UInt8],
        expectedEcho: inout [UInt8]
    ) {
        let limits = harness.limits
        if let violation = harness.contractViolation, !knownBugs.contains("new-bytes-offset") {
            fatalError("stream contract: \(violation)")
        }
        let consumed = harness.consumedBytes
        expect(
            records.consumedPrefixMatches(consumed, in: stream),
            "the handler consumed \(consumed.count) bytes that are not the stream's first consumable bytes")
        let completed = harness.completedRecordCount
        expect(
            completed <= records.recordEnds.count,
            "\(completed) records completed, the stream has \(records.recordEnds.count)")
        expect(
            records.consumed(afterRecords: completed) <= consumed.count
                && (completed == records.recordEnds.count || records.recordEnds[completed] > consumed.count),
            "\(completed) records completed with \(consumed.count) bytes consumed")
        let handlerClosed = closeAfterFrames > 0 && closeAfterFrames <= records.recordEnds.count
        records.echo(ofConsumed: consumed.count, in: stream, into: &expectedEcho)
        let echoPrefix = expectedEcho.withUnsafeBytes { $0.prefix($0.count, startsWith: replies) }
        let echoComplete =
            expectedEcho.withUnsafeBytes { $0.prefix($0.count, equals: replies) }
            || Self.misreportedOverflow(echoPrefix)

        switch reason {
        case .peerClosed, .truncatedFrame:
            expect(!handlerClosed, "\(reason) although the handler closed after record \(closeAfterFrames)")
            expect(
                completed == records.recordEnds.count && consumed.count == records.consumedCount,
                "\(reason) after \(completed) of \(records.recordEnds.count) records, \(consumed.count) of "
                    + "\(records.consumedCount) bytes")
            let trailing = records.trailingBytes
            let expected: CloseReason = trailing == 0 ? .peerClosed : .truncatedFrame(bufferedBytes: trailing)
            expect(reason == expected, "closed with \(reason), expected \(expected)")
            expect(echoComplete, "echo differs (\(replies.count) of \(expectedEcho.count) bytes)")
        case .closedByHandler:
            expect(handlerClosed, "closedByHandler but the handler never closed")
            expect(completed == closeAfterFrames, "closedByHandler after \(completed) records, not \(closeAfterFrames)")
            expect(
                consumed.count == records.consumed(afterRecords: completed),
                "closedByHandler with \(consumed.count) bytes consumed, expected \(records.consumed(afterRecords: completed))"
            )
            expect(echoComplete, "echo differs (\(replies.count) of \(expectedEcho.count) bytes)")
        case .bufferedInputTooLarge(let buffered, let limit):
            expect(limit == limits.maxBufferedInput && buffered >= limit, "\(reason), limit \(limits.maxBufferedInput)")
            expect(
                records.refusable.contains(completed),
                "\(reason) after \(completed) records, but record \(completed) fits (refusable: \(records.refusable))")
            expect(closeAfterFrames == 0 || closeAfterFrames > completed, "\(reason) after the handler closed")
            expect(
                consumed.count == records.consumed(afterRecords: completed),
                "\(reason) with \(consumed.count) bytes consumed, expected \(records.consumed(afterRecords: completed))"
            )
            expect(echoComplete, "echo differs (\(replies.count) of \(expectedEcho.count) bytes)")
        case .writeBufferOverflow(let pending, let limit):
            expect(limit == limits.maxPendingWriteBytes && pending > limit, "\(reason)")
            expect(consumed.count > 0, "\(reason) before anything was consumed")
            expect(!handlerClosed || completed <= closeAfterFrames, "\(reason) after the handler closed")
            expect(echoPrefix, "echo is not a prefix (\(replies.count) of \(expectedEcho.count) bytes)")
        default:
            fatalError("unexpected close: \(reason)")
        }
    }

    /// With the known bug `overflow-reason` skipped: a graceful close whose echo is only a prefix is taken for a
    /// `writeBufferOverflow` reported under the reason of a later close in the same batch (`close()`, or the end of
    /// the input), which replaced it.
    private static func misreportedOverflow(_ echoPrefix: Bool) -> Bool {
        echoPrefix && knownBugs.contains("overflow-reason")
    }
}
