import Testing

@_spi(Benchmarks) @testable import ReactorCore

/// Feeds `stream` to a decoder in the given pieces and collects every frame's payload.
private func decode(
    _ stream: [UInt8], pieces: [Int], maxFrameLength: Int = 1 << 20, pool: SlabPool
) -> (frames: [[UInt8]], outcome: LengthFieldDecoder.Outcome, buffered: Int) {
    var decoder = LengthFieldDecoder(maxFrameLength: maxFrameLength)
    var frames: [[UInt8]] = []
    var offset = 0
    var outcome = LengthFieldDecoder.Outcome.consumed
    for piece in pieces where offset < stream.count {
        let end = min(stream.count, offset + piece)
        outcome = stream[offset..<end].withUnsafeBytes { input in
            decoder.decode(input, pool: pool) { frame in
                frames.append(frame.bytes)
                return true
            }
        }
        offset = end
        if outcome != .consumed { break }
    }
    let buffered = decoder.bufferedBytes
    decoder.reset(pool: pool)
    return (frames, outcome, buffered)
}

@Suite struct LengthFieldDecoderTests {
    let pool = SlabPool(largestChunk: 1 << 20)

    @Test func wholeFramesInOneInputAreDecodedInOrder() {
        let payloads = [[], [1], [2, 3], pattern(5000)]
        let result = decode(payloads.flatMap(frame), pieces: [1 << 20], pool: pool)
        #expect(result.frames == payloads)
        #expect(result.buffered == 0)
    }

    @Test func everySplitOfTheStreamGivesTheSameFrames() {
        let payloads = [pattern(7), [], pattern(300, seed: 1), [9], pattern(4096, seed: 2)]
        let stream = payloads.flatMap(frame)
        for pieceSize in [1, 2, 3, 4, 5, 7, 64, 1000, 4099] {
            let result = decode(stream, pieces: Array(repeating: pieceSize, count: stream.count), pool: pool)
            #expect(result.frames == payloads, "piece size \(pieceSize)")
        }
        #expect(pool.statistics.bytesInUse == 0)
    }

    @Test func aPartialHeaderIsKeptInlineWithoutAChunk() {
        let result = decode([0, 0, 1], pieces: [3], pool: pool)
        #expect(result.frames.isEmpty)
        #expect(result.buffered == 3)
        #expect(pool.statistics.bytesInUse == 0)
    }

    @Test func aPartialBodyTakesOneChunkSizedForTheFrame() {
        var decoder = LengthFieldDecoder(maxFrameLength: 1 << 20)
        let stream = frame(pattern(100_000))
        let outcome = stream.prefix(50_000).withUnsafeBytes { decoder.decode($0, pool: pool) { _ in true } }
        #expect(outcome == .consumed)
        #expect(pool.statistics.bytesInUse == 128 * 1024)
        decoder.reset(pool: pool)
        #expect(pool.statistics.bytesInUse == 0)
    }

    @Test func zeroLengthFramesAreValid() {
        let result = decode(Array(repeating: 0, count: 40), pieces: [3, 5, 32], pool: pool)
        #expect(result.frames == Array(repeating: [], count: 10))
    }

    @Test("lengths above the limit are rejected before allocation", arguments: [1025, 1 << 20, Int(UInt32.max)])
    func lengthsAboveTheLimitAreRejected(length: Int) {
        let header = [
            UInt8(length >> 24 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff),
        ]
        for pieces in [[4], [1, 1, 1, 1], [2, 2]] {
            let result = decode(frame([1]) + header + [0, 0], pieces: pieces + [100], maxFrameLength: 1024, pool: pool)
            #expect(result.outcome == .frameTooLong(length: length))
            #expect(pool.statistics.bytesInUse == 0)
        }
    }

    @Test func aFrameOfExactlyTheLimitIsAccepted() {
        let result = decode(frame(pattern(1024)), pieces: [10, 2000], maxFrameLength: 1024, pool: pool)
        #expect(result.frames == [pattern(1024)])
    }

    @Test func theCallbackCanStopDecoding() {
        var decoder = LengthFieldDecoder(maxFrameLength: 1024)
        var seen = 0
        let stream = frame([1]) + frame([2]) + frame([3])
        let outcome = stream.withUnsafeBytes { input in
            decoder.decode(input, pool: pool) { _ in
                seen += 1
                return seen < 2
            }
        }
        #expect(outcome == .stopped)
        #expect(seen == 2)
    }
}
