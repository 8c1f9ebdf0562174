import Benchmark
@_spi(Benchmarks) import ReactorCore

/// A read buffer's worth of frames: as many 64-byte-payload frames (68 bytes on the wire) as fit in 64 KiB.
struct FrameStream {
    static let payloadLength = 64
    static let frameLength = payloadLength + 4
    static let frameCount = (64 * 1024) / frameLength  // 963
    /// Bytes in the stream: whole frames only, so the decoder is idle at the end of every pass.
    static let byteCount = frameCount * frameLength  // 65,484

    let bytes: UnsafeMutableRawBufferPointer

    init() {
        bytes = .allocate(byteCount: 64 * 1024, alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
        for index in 0..<Self.frameCount {
            let base = index * Self.frameLength
            bytes.storeBytes(of: UInt32(Self.payloadLength).bigEndian, toByteOffset: base, as: UInt32.self)
            for offset in 0..<Self.payloadLength {
                bytes[base + 4 + offset] = UInt8(truncatingIfNeeded: index &+ offset)
            }
        }
    }

    var frames: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<Self.byteCount]) }
}

func registerFrameDecodeBenchmarks() {
    let stream = FrameStream()
    // The loop's pool: classes up to the default 1 MiB frame limit, as LoopIO creates it.
    let pool = SlabPool(largestChunk: 1 << 20)

    // One iteration: decode a full 64 KiB read buffer in place (963 frames, no copies, no pool traffic).
    Benchmark("FrameDecode.in-place", configuration: configuration(scalingFactor: .kilo)) { benchmark in
        var decoder = LengthFieldDecoder(maxFrameLength: 1 << 20)
        let input = stream.frames
        for _ in benchmark.scaledIterations {
            var frames = 0
            var payloadBytes = 0
            let outcome = decoder.decode(input, pool: pool) { frame in
                frames += 1
                payloadBytes &+= frame.count
                return true
            }
            precondition(outcome == .consumed && frames == FrameStream.frameCount, "decoded \(frames) frames")
            blackHole(payloadBytes)
        }
    }

    // One iteration: the same stream in 1000-byte pieces (66 reads); a frame split across two pieces is collected
    // in a chunk taken from the pool and returned once complete.
    let pieceLength = 1000
    let pieces: [Range<Int>] = stride(from: 0, to: FrameStream.byteCount, by: pieceLength).map {
        $0..<min($0 + pieceLength, FrameStream.byteCount)
    }
    Benchmark("FrameDecode.split", configuration: configuration(scalingFactor: .kilo)) { benchmark in
        var decoder = LengthFieldDecoder(maxFrameLength: 1 << 20)
        let input = stream.frames
        for _ in benchmark.scaledIterations {
            var frames = 0
            var payloadBytes = 0
            for piece in pieces {
                let outcome = decoder.decode(UnsafeRawBufferPointer(rebasing: input[piece]), pool: pool) { frame in
                    frames += 1
                    payloadBytes &+= frame.count
                    return true
                }
                precondition(outcome == .consumed)
            }
            precondition(frames == FrameStream.frameCount && decoder.bufferedBytes == 0, "decoded \(frames) frames")
            blackHole(payloadBytes)
        }
    }
}
