import FuzzSupport
import ReactorCore

/// One fuzz input for ``LengthFieldDecoder``: random Netty parameters, then a stream fed to the decoder in random
/// pieces the way the loop's decode loop does (``DecodeLoop``), every step checked against
/// ``ReferenceLengthFields``, a plain byte-by-byte parse of the whole stream.
///
/// Input layout (missing bytes read as zero):
///
/// - byte 0: bits 0–2 the length field's width, [1, 2, 3, 4, 8][n % 5]; bit 3 little endian; bits 4–6 the
///   length field's offset, n % 5;
/// - byte 1: the length adjustment, n % 17 − 8;
/// - byte 2: `initialBytesToStrip`: bits 6–7 = 01 leaves it to the initialiser's default (the end of the length
///   field); otherwise bit 7 clear: n % (header length + 1), bit 7 set: the header length + 1 + n % 4 (past the
///   length field, so short frames are invalid);
/// - byte 3: bits 0–1 the range of `maxFrameLength`: 0–16, 0–255, 0–65,535, or one of ``largeLimits``; bits 2–5
///   the largest piece, 2^n bytes;
/// - bytes 4–5: `maxFrameLength` within that range;
/// - bytes 6–13: the seed of the piece sizes;
/// - the rest: the stream.
struct LengthFieldCheck {
    static let widths = [1, 2, 3, 4, 8]
    /// Limits around the 32-bit boundary and beyond (with 8-byte fields, lengths there are readable), up to `Int.max`
    /// (no limit). A raw value above `Int.max / 2` is reported as `frameTooLong(length: Int.max)` whatever the limit
    /// (``ReferenceLengthFields``).
    static let largeLimits = [1 << 20, Int(UInt32.max) - 1, Int(UInt32.max), 1 << 32, 1 << 40, 1 << 61, Int.max]

    let reference: ReferenceLengthFields
    let largestPiece: Int
    var random: SplitMix64
    let stream: UnsafeRawBufferPointer
    let defaultStrip: Bool

    init(input: inout FuzzInput) {
        let field = Int(input.byte())
        let width = Self.widths[(field & 7) % 5]
        let offset = ((field >> 4) & 7) % 5
        let adjustment = Int(input.byte()) % 17 - 8
        let headerLength = offset + width
        let stripByte = Int(input.byte())
        let strip: Int
        if stripByte >> 6 == 1 {
            defaultStrip = true
            strip = headerLength
        } else {
            defaultStrip = false
            strip = stripByte & 0x80 == 0 ? stripByte % (headerLength + 1) : headerLength + 1 + stripByte % 4
        }
        let mode = Int(input.byte())
        let raw = Int(input.uint16())
        let maxFrameLength: Int
        switch mode & 3 {
        case 0: maxFrameLength = raw % 17
        case 1: maxFrameLength = raw % 256
        case 2: maxFrameLength = raw
        default: maxFrameLength = Self.largeLimits[raw % Self.largeLimits.count]
        }
        largestPiece = 1 << ((mode >> 2) & 15)
        reference = ReferenceLengthFields(
            offset: offset, width: width, littleEndian: field & 8 != 0, adjustment: adjustment, strip: strip,
            maxFrameLength: maxFrameLength)
        random = SplitMix64(seed: input.uint64())
        stream = input.rest()
    }

    mutating func run(expected: inout ExpectedDecoding, loop: inout DecodeLoop) {
        let reference = reference
        let stream = stream
        let decoder = LengthFieldDecoder(
            lengthFieldOffset: reference.offset, lengthFieldLength: reference.width,
            byteOrder: reference.littleEndian ? .littleEndian : .bigEndian, lengthAdjustment: reference.adjustment,
            initialBytesToStrip: defaultStrip ? nil : reference.strip, maxFrameLength: reference.maxFrameLength)
        expect(decoder.headerLength == reference.headerLength, "headerLength \(decoder.headerLength)")
        expect(decoder.initialBytesToStrip == reference.strip, "initialBytesToStrip \(decoder.initialBytesToStrip)")
        reference.parse(stream, into: &expected)
        loop.run(decoder, stream: stream, expected: expected, random: &random, largestPiece: largestPiece) {
            start, count in reference.need(in: stream, at: start, count: count)
        }
        trace(
            "\(reference): \(stream.count) bytes, \(loop.delivered) of \(expected.messages.count) messages in "
                + "\(loop.calls) calls, \(expected.error.map { "\($0) at \(expected.errorAt)" } ?? "no error")")
    }
}
