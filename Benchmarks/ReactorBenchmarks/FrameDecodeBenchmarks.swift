import Benchmark
@_spi(Benchmarks) import ReactorCore

/// A read buffer's worth of messages: as many 64-byte-payload messages as fit in 64 KiB, each encoded by `encode`
/// (header or delimiter included), so the stream holds whole messages only and a decoder is idle at its end.
struct MessageStream {
    static let bufferSize = 64 * 1024
    static let payloadLength = 64

    let bytes: UnsafeMutableRawBufferPointer
    /// Messages in the stream.
    let messageCount: Int
    /// Bytes in the stream (whole messages only).
    let byteCount: Int

    /// `encode(index, payload)` returns the wire bytes of message `index` (`payload`: 64 bytes, never a `\r` or `\n`).
    init(encode: (Int, [UInt8]) -> [UInt8]) {
        bytes = .allocate(byteCount: Self.bufferSize, alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
        var offset = 0
        var index = 0
        while true {
            let payload = (0..<Self.payloadLength).map { UInt8(truncatingIfNeeded: 0x20 + (index &+ $0) % 0x5F) }
            let message = encode(index, payload)
            if offset + message.count > Self.bufferSize { break }
            for (position, byte) in message.enumerated() { bytes[offset + position] = byte }
            offset += message.count
            index += 1
        }
        messageCount = index
        byteCount = offset
    }

    var messages: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<byteCount]) }

    /// The framework's own frames: 4-byte big-endian payload length (963 frames of 68 bytes).
    static func standardFrames() -> MessageStream {
        MessageStream { _, payload in
            withUnsafeBytes(of: UInt32(payload.count).bigEndian) { Array($0) } + payload
        }
    }

    /// Frames with a 2-byte little-endian payload length (992 frames of 66 bytes).
    static func littleEndian16Frames() -> MessageStream {
        MessageStream { _, payload in
            withUnsafeBytes(of: UInt16(payload.count).littleEndian) { Array($0) } + payload
        }
    }

    /// Lines ending alternately in `\n` and `\r\n` (1,000 lines of 65 or 66 bytes).
    static func lines() -> MessageStream {
        MessageStream { index, payload in payload + (index % 2 == 0 ? [0x0A] : [0x0D, 0x0A]) }
    }
}

/// What a decode pass saw.
struct DecodeTally {
    var messages = 0
    var payloadBytes = 0
}

/// The read path's decode loop (`decodeMessages` in `Codec/Decoded.swift`, which is internal) over a plain span:
/// decode at the front of the unconsumed bytes, take the message, consume it, repeat until the decoder needs more.
/// Returns the number of bytes consumed.
@inline(__always)
func decodeAll<Decoder: MessageDecoder>(
    _ decoder: Decoder, _ input: RawSpan, newBytesAt firstNewBytesAt: Int, tally: inout DecodeTally
) -> Int {
    var consumed = 0
    var newBytesAt = firstNewBytesAt
    while true {
        let rest = input.extracting(droppingFirst: consumed)
        let step: DecodeStep
        do {
            step = try decoder.decode(rest, newBytesAt: newBytesAt)
        } catch {
            preconditionFailure("decoding failed: \(error)")
        }
        switch step {
        case .needMoreInput:
            return consumed
        case .message(let payload, let length):
            let message = rest.extracting(payload)
            tally.messages += 1
            tally.payloadBytes &+= message.byteCount
            // Touch the message so the decode is not reduced to offset arithmetic.
            if message.byteCount > 0 { tally.payloadBytes &+= Int(message.unsafeLoad(as: UInt8.self)) }
            consumed += length
            newBytesAt = 0
        }
    }
}

/// One pass over `stream` in place: every message is handed out from the buffer, nothing is copied.
@inline(__always)
func decodeInPlace<Decoder: MessageDecoder>(_ decoder: Decoder, _ stream: MessageStream) -> DecodeTally {
    var tally = DecodeTally()
    let consumed = decodeAll(decoder, stream.messages.bytes, newBytesAt: 0, tally: &tally)
    precondition(consumed == stream.byteCount && tally.messages == stream.messageCount, "decoded \(tally.messages)")
    return tally
}

/// What the read path does with input arriving in pieces: each piece is "read" into the loop's read buffer behind
/// the tail the previous decode left (copied back out of its pooled chunk, which returns to the pool), the decode
/// loop runs over the tail and the new bytes (`newBytesAt` = the tail's length, so a scanning decoder resumes where
/// it stopped), and a new tail is copied into a chunk of the size class that holds it.
final class SplitReader {
    let pool: SlabPool
    let readBuffer: UnsafeMutableRawBufferPointer
    private var chunk: UnsafeMutableRawPointer?
    private var chunkClass = 0
    private(set) var kept = 0

    init(pool: SlabPool) {
        self.pool = pool
        readBuffer = .allocate(byteCount: MessageStream.bufferSize, alignment: 64)
    }

    @inline(__always)
    func pass<Decoder: MessageDecoder>(
        _ decoder: Decoder, _ stream: MessageStream, pieces: [Range<Int>]
    ) -> DecodeTally {
        var tally = DecodeTally()
        let scratch = readBuffer.baseAddress!
        let input = stream.messages
        for piece in pieces {
            let tail = kept
            if let current = chunk {
                scratch.copyMemory(from: current, byteCount: tail)
                pool.put(current, sizeClass: chunkClass)
                chunk = nil
                kept = 0
            }
            (scratch + tail).copyMemory(from: input.baseAddress! + piece.lowerBound, byteCount: piece.count)
            let available = tail + piece.count
            let bytes = UnsafeRawBufferPointer(start: scratch, count: available)
            let consumed = decodeAll(decoder, bytes.bytes, newBytesAt: tail, tally: &tally)
            let left = available - consumed
            if left > 0 {
                chunkClass = pool.sizeClass(for: left)
                let newChunk = pool.get(sizeClass: chunkClass)
                newChunk.copyMemory(from: scratch + consumed, byteCount: left)
                chunk = newChunk
                kept = left
            }
        }
        precondition(kept == 0 && tally.messages == stream.messageCount, "decoded \(tally.messages), \(kept) left")
        return tally
    }
}

/// `pieceLength`-byte pieces covering `stream`.
func pieces(of stream: MessageStream, pieceLength: Int) -> [Range<Int>] {
    stride(from: 0, to: stream.byteCount, by: pieceLength).map { $0..<min($0 + pieceLength, stream.byteCount) }
}

func registerFrameDecodeBenchmarks() {
    // The loop's pool: classes up to the default 1 MiB buffered-input limit, as LoopIO creates it.
    let pool = SlabPool(largestChunk: 1 << 20)
    let reader = SplitReader(pool: pool)
    let pieceLength = 1000
    // Decoders are built here, once: `DelimiterDecoder`'s initialiser allocates (its delimiter arrays), `decode`
    // never does.
    let standard = LengthFieldDecoder()
    let littleEndian16 = LengthFieldDecoder(lengthFieldLength: 2, byteOrder: .littleEndian)
    let lines = DelimiterDecoder.lines()

    typealias Pass = (MessageStream, [Range<Int>]) -> DecodeTally
    let cases: [(inPlace: String, split: String, stream: MessageStream, decode: Pass, splitDecode: Pass)] = [
        // The default format: 4-byte big-endian length (FrameHandler's decoder).
        (
            "FrameDecode.in-place", "FrameDecode.split", .standardFrames(),
            { stream, _ in decodeInPlace(standard, stream) },
            { stream, pieces in reader.pass(standard, stream, pieces: pieces) }
        ),
        // Netty-style 2-byte little-endian length field.
        (
            "FrameDecode.le16-in-place", "FrameDecode.le16-split", .littleEndian16Frames(),
            { stream, _ in decodeInPlace(littleEndian16, stream) },
            { stream, pieces in reader.pass(littleEndian16, stream, pieces: pieces) }
        ),
        // Lines (`\n` or `\r\n`).
        (
            "LineDecode.in-place", "LineDecode.split", .lines(),
            { stream, _ in decodeInPlace(lines, stream) },
            { stream, pieces in reader.pass(lines, stream, pieces: pieces) }
        ),
    ]
    for (inPlaceName, splitName, stream, decode, splitDecode) in cases {
        // One iteration: decode a full 64 KiB read buffer in place (about 1,000 messages, no copies, no pool
        // traffic).
        Benchmark(inPlaceName, configuration: configuration(scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(decode(stream, []))
            }
        }

        // One iteration: the same stream in 1000-byte pieces (66 reads); the tail a piece leaves (a message cut by
        // the piece boundary) is kept in a pooled chunk and put back in front of the next piece, as the read path
        // does.
        let splitPieces = pieces(of: stream, pieceLength: pieceLength)
        Benchmark(splitName, configuration: configuration(scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(splitDecode(stream, splitPieces))
            }
        }
    }
}
