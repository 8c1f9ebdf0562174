import FuzzSupport
@_spi(Benchmarks) @_spi(Fuzzing) import ReactorCore

/// One fuzz input for `LengthFieldDecoder`: a stream fed in random pieces, some through the direct-read path, with
/// every outcome checked against ``ReferenceFrames``.
///
/// Input layout (missing bytes read as zero):
///
/// - byte 0: bits 0–1 pick the range of `maxFrameLength` (0–16, 0–4096, 0–65535, 65536–131072); bits 2–3 how often
///   a direct read is used when the decoder offers one (never, 1/4, 2/4, 3/4);
/// - bytes 1–2: `maxFrameLength` within that range;
/// - byte 3: the largest piece, 2^(n % 13) bytes;
/// - byte 4: the direct-read threshold, n × 8 bytes;
/// - byte 5: 0 never stops; n makes the frame callback return false (stop) on frame n − 1;
/// - bytes 6–13: the seed of the piece sizes and choices;
/// - the rest: the stream.
struct DecoderCheck {
    /// The largest `maxFrameLength` an input can pick (the shared pool's largest class holds it).
    static let largestMaxFrameLength = 131_072

    let maxFrameLength: Int
    /// Out of 4.
    let directChance: Int
    let largestPiece: Int
    let directThreshold: Int
    /// The frame index whose callback stops decoding, or -1.
    let stopAt: Int
    var random: SplitMix64
    let stream: UnsafeRawBufferPointer

    init(input: inout FuzzInput) {
        let mode = input.byte()
        let raw = Int(input.uint16())
        switch mode & 3 {
        case 0: maxFrameLength = raw % 17
        case 1: maxFrameLength = raw % 4097
        case 2: maxFrameLength = raw
        default: maxFrameLength = 65_536 + raw % 65_537
        }
        directChance = Int(mode >> 2) & 3
        largestPiece = 1 << (Int(input.byte()) % 13)
        directThreshold = Int(input.byte()) * 8
        stopAt = Int(input.byte()) - 1
        random = SplitMix64(seed: input.uint64())
        stream = input.rest()
    }

    mutating func run(pool: SlabPool, reference: inout ReferenceFrames) {
        reference.parse(stream, maxFrameLength: maxFrameLength)
        let frames = reference.frames
        let stream = stream
        let stopAt = stopAt
        var decoder = LengthFieldDecoder(maxFrameLength: maxFrameLength)
        var fed = 0  // stream bytes handed to the decoder so far
        var delivered = 0  // frames it delivered

        // Each delivered frame must be the next complete frame, entirely within the bytes fed so far.
        func deliver(_ frame: FrameView) -> Bool {
            expect(delivered < frames.count, "frame \(delivered) delivered but the stream has \(frames.count)")
            let expected = frames[delivered]
            expect(expected.end <= fed, "frame \(delivered) delivered before its last byte was fed")
            expect(
                frame.count == expected.length, "frame \(delivered): \(frame.count) bytes, expected \(expected.length)")
            let same = frame.withUnsafeBytes { payload in
                payload.elementsEqual(UnsafeRawBufferPointer(rebasing: stream[expected.payloadOffset..<expected.end]))
            }
            expect(same, "frame \(delivered): payload differs")
            delivered += 1
            return delivered - 1 != stopAt
        }

        var finished = false
        while fed < stream.count && !finished {
            let remaining = stream.count - fed
            let piece = random.chance(1, in: 16) ? remaining : min(remaining, 1 + random.below(largestPiece))
            let start = fed
            let outcome: LengthFieldDecoder.Outcome
            if let target = decoder.directReadTarget(threshold: directThreshold), random.below(4) < directChance {
                // A pending body: the target is exactly its missing bytes.
                let lastEnd = reference.end(ofFirst: delivered)
                let missing = lastEnd + 4 + ReferenceFrames.length(in: stream, at: lastEnd) - fed
                expect(target.count == missing, "direct target of \(target.count) bytes, \(missing) missing")
                expect(target.count >= directThreshold, "direct target below the threshold")
                let count = min(piece, target.count)
                target.baseAddress!.copyMemory(from: stream.baseAddress! + fed, byteCount: count)
                fed += count
                outcome = decoder.didReadDirectly(count, pool: pool, onFrame: deliver)
            } else {
                if random.chance(1, in: 32) {
                    let empty = decoder.decode(
                        UnsafeRawBufferPointer(start: nil, count: 0), pool: pool, onFrame: deliver)
                    expect(empty == .consumed, "an empty input returned \(empty)")
                }
                fed += piece
                outcome = decoder.decode(
                    UnsafeRawBufferPointer(rebasing: stream[start..<fed]), pool: pool, onFrame: deliver)
            }

            switch outcome {
            case .frameTooLong(let length):
                guard let tooLong = reference.tooLong else { fatalError("frameTooLong(\(length)) in a valid stream") }
                expect(length == tooLong.length, "frameTooLong(\(length)), expected \(tooLong.length)")
                expect(
                    tooLong.offset + 4 > start && tooLong.offset + 4 <= fed, "frameTooLong reported in the wrong piece")
                expect(delivered == frames.count, "frameTooLong after \(delivered) of \(frames.count) frames")
                expect(pool.statistics.bytesInUse == 0, "a chunk is held after frameTooLong")
                finished = true
            case .stopped:
                expect(delivered == stopAt + 1, "stopped after \(delivered) frames, asked at \(stopAt + 1)")
                expect(decoder.bufferedBytes == 0, "\(decoder.bufferedBytes) bytes buffered after a stop")
                finished = true
            case .consumed:
                expect(stopAt < 0 || delivered <= stopAt, "the callback asked to stop but the decoder went on")
                expect(
                    delivered == frames.count || frames[delivered].end > fed,
                    "frame \(delivered) complete but not delivered")
                if let tooLong = reference.tooLong {
                    expect(tooLong.offset + 4 > fed, "oversized length \(tooLong.length) not reported")
                }
                let buffered = fed - reference.end(ofFirst: delivered)
                expect(
                    decoder.bufferedBytes == buffered, "bufferedBytes \(decoder.bufferedBytes), expected \(buffered)")
            }
        }

        trace("maxFrameLength \(maxFrameLength): \(delivered) of \(frames.count) frames delivered, \(fed) bytes fed")
        if !finished {
            // All fed: a pending body holds exactly one chunk of its class, anything else none.
            let lastEnd = reference.end(ofFirst: delivered)
            var expectedInUse = 0
            if fed - lastEnd >= 4 {
                let length = ReferenceFrames.length(in: stream, at: lastEnd)
                expectedInUse = pool.chunkSize(ofClass: pool.sizeClass(for: length))
            }
            let inUse = pool.statistics.bytesInUse
            expect(inUse == expectedInUse, "\(inUse) pool bytes in use at the end, expected \(expectedInUse)")
        }
        decoder.reset(pool: pool)
        expect(decoder.bufferedBytes == 0, "bufferedBytes \(decoder.bufferedBytes) after reset")
        expect(pool.statistics.bytesInUse == 0, "pool chunks leaked: \(pool.statistics.bytesInUse) bytes in use")
    }
}
