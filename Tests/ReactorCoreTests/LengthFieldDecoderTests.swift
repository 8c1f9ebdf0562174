import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Helpers

/// A length field written byte by byte, independently of `LengthFieldEncoder`.
private func lengthField(_ value: UInt64, width: Int, order: LengthFieldDecoder.ByteOrder) -> [UInt8] {
    var littleEndian: [UInt8] = []
    var remaining = value
    for _ in 0..<width {
        littleEndian.append(UInt8(remaining & 0xFF))
        remaining >>= 8
    }
    return order == .bigEndian ? littleEndian.reversed() : littleEndian
}

/// The header `prepender` writes for a payload of `count` bytes.
private func header(_ prepender: LengthFieldEncoder, payloadCount count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: prepender.lengthFieldLength)
    bytes.withUnsafeMutableBytes { prepender.storeHeader(payloadCount: count, at: $0.baseAddress!) }
    return bytes
}

/// The reference model: the frame format written out as a loop over the bytes with plain integer arithmetic.
private struct ReferenceLengthField: DecoderReferenceModel {
    var offset: Int
    var width: Int
    var bigEndian: Bool
    var adjustment: Int
    var strip: Int?
    var maxLength: Int

    var decoder: LengthFieldDecoder {
        LengthFieldDecoder(
            lengthFieldOffset: offset, lengthFieldLength: width, byteOrder: bigEndian ? .bigEndian : .littleEndian,
            lengthAdjustment: adjustment, initialBytesToStrip: strip, maxFrameLength: maxLength)
    }

    var description: String {
        "offset \(offset) width \(width) \(bigEndian ? "BE" : "LE") adjustment \(adjustment) "
            + "strip \(strip.map(String.init) ?? "default") max \(maxLength)"
    }

    /// What the decoder must answer for `bytes` (the start of a frame first).
    func parse(_ bytes: ArraySlice<UInt8>) -> Result<DecodeStep, MessageDecodingError> {
        let headerEnd = offset + width
        let strip = self.strip ?? headerEnd
        if bytes.count < headerEnd { return .success(.needMoreInput(atLeast: headerEnd)) }
        var value: UInt64 = 0
        for index in 0..<width {
            let byte = bytes[bytes.startIndex + offset + (bigEndian ? index : width - 1 - index)]
            value = value << 8 + UInt64(byte)
        }
        // An 8-byte value this large cannot be an Int once adjusted: too long, whatever the limit.
        if value > UInt64(Int.max / 2) { return .failure(.frameTooLong(length: .max, limit: maxLength)) }
        let bodyLength = Int(value) + adjustment
        if bodyLength > maxLength { return .failure(.frameTooLong(length: bodyLength, limit: maxLength)) }
        if bodyLength < 0 || headerEnd + bodyLength < strip { return .failure(.invalidLengthField(value: bodyLength)) }
        let frameLength = headerEnd + bodyLength
        if bytes.count < frameLength { return .success(.needMoreInput(atLeast: frameLength)) }
        return .success(.message(payload: strip..<frameLength, consumed: frameLength))
    }
}

// MARK: - Unit tests

@Suite struct LengthFieldDecoderTests {
    /// The header bytes 01 02 03 … read in each width and byte order (values written out by hand).
    @Test(arguments: [
        (1, LengthFieldDecoder.ByteOrder.bigEndian, UInt64(0x01)),
        (1, .littleEndian, 0x01),
        (2, .bigEndian, 0x0102),
        (2, .littleEndian, 0x0201),
        (3, .bigEndian, 0x01_0203),
        (3, .littleEndian, 0x03_0201),
        (4, .bigEndian, 0x0102_0304),
        (4, .littleEndian, 0x0403_0201),
        (8, .bigEndian, 0x0102_0304_0506_0708),
        (8, .littleEndian, 0x0807_0605_0403_0201),
    ])
    func lengthFieldIsReadInEachWidthAndByteOrder(width: Int, order: LengthFieldDecoder.ByteOrder, value: UInt64) {
        let decoder = LengthFieldDecoder(lengthFieldLength: width, byteOrder: order, maxFrameLength: Int.max / 2)
        let headerBytes = (1...width).map { UInt8($0) }
        // Only the header: the decoder asks for the whole frame, which spells out the value it read.
        #expect(decodeStep(decoder, headerBytes) == .success(.needMoreInput(atLeast: width + Int(value))))
        // Some of the body: still asks for all of it.
        let someBody = [UInt8](repeating: 9, count: Int(min(value - 1, 3)))
        #expect(decodeStep(decoder, headerBytes + someBody) == .success(.needMoreInput(atLeast: width + Int(value))))
        #expect(decoder.headerLength == width)
    }

    @Test(arguments: [1, 2, 3, 4, 8], [LengthFieldDecoder.ByteOrder.bigEndian, .littleEndian])
    func smallFrameInEachWidthAndByteOrder(width: Int, order: LengthFieldDecoder.ByteOrder) {
        let decoder = LengthFieldDecoder(lengthFieldLength: width, byteOrder: order, maxFrameLength: 5)
        let stream = lengthField(5, width: width, order: order) + [10, 11, 12, 13, 14] + [99, 98]
        #expect(decodeStep(decoder, stream) == .success(.message(payload: width..<(width + 5), consumed: width + 5)))
        // A value with a high byte set: only the byte order puts it in the right place.
        let wide = LengthFieldDecoder(lengthFieldLength: width, byteOrder: order, maxFrameLength: .max / 2)
        let value: UInt64 = width == 1 ? 0x30 : 0x30 << (8 * UInt64(width - 1)) | 0x07
        #expect(
            decodeStep(wide, lengthField(value, width: width, order: order))
                == .success(.needMoreInput(atLeast: width + Int(value))))
    }

    struct Example: Sendable, CustomTestStringConvertible {
        var name: String
        var decoder: LengthFieldDecoder
        var input: [UInt8]
        var payload: [UInt8]
        var testDescription: String { name }
    }

    static let hello = Array("HELLO, WORLD".utf8)

    /// The examples of the type's documentation and of Netty's `LengthFieldBasedFrameDecoder` documentation.
    static let examples: [Example] = [
        Example(
            name: "2-byte little-endian length, strip 2",
            decoder: LengthFieldDecoder(lengthFieldLength: 2, byteOrder: .littleEndian),
            input: [0x02, 0x00, 0x68, 0x69], payload: [0x68, 0x69]),
        Example(
            name: "length counts the header: adjustment -4, strip 4",
            decoder: LengthFieldDecoder(lengthAdjustment: -4),
            input: [0, 0, 0, 6, 0x68, 0x69], payload: [0x68, 0x69]),
        Example(
            name: "1-byte type before the length: offset 1, strip 0",
            decoder: LengthFieldDecoder(lengthFieldOffset: 1, initialBytesToStrip: 0),
            input: [7, 0, 0, 0, 2, 0x68, 0x69], payload: [7, 0, 0, 0, 2, 0x68, 0x69]),
        Example(
            name: "Netty: 2 bytes, strip 0",
            decoder: LengthFieldDecoder(lengthFieldLength: 2, initialBytesToStrip: 0),
            input: [0x00, 0x0C] + hello, payload: [0x00, 0x0C] + hello),
        Example(
            name: "Netty: 2 bytes, strip 2",
            decoder: LengthFieldDecoder(lengthFieldLength: 2, initialBytesToStrip: 2),
            input: [0x00, 0x0C] + hello, payload: hello),
        Example(
            name: "Netty: 2 bytes counting the header, adjustment -2, strip 0",
            decoder: LengthFieldDecoder(lengthFieldLength: 2, lengthAdjustment: -2, initialBytesToStrip: 0),
            input: [0x00, 0x0E] + hello, payload: [0x00, 0x0E] + hello),
        Example(
            name: "Netty: 2-byte header before a 3-byte length, strip 0",
            decoder: LengthFieldDecoder(lengthFieldOffset: 2, lengthFieldLength: 3, initialBytesToStrip: 0),
            input: [0xCA, 0xFE, 0x00, 0x00, 0x0C] + hello, payload: [0xCA, 0xFE, 0x00, 0x00, 0x0C] + hello),
        Example(
            name: "Netty: 3-byte length, then a 2-byte header: adjustment 2, strip 0",
            decoder: LengthFieldDecoder(lengthFieldLength: 3, lengthAdjustment: 2, initialBytesToStrip: 0),
            input: [0x00, 0x00, 0x0C, 0xCA, 0xFE] + hello, payload: [0x00, 0x00, 0x0C, 0xCA, 0xFE] + hello),
        Example(
            name: "Netty: HDR1, 2-byte length, HDR2: offset 1, adjustment 1, strip 3",
            decoder: LengthFieldDecoder(
                lengthFieldOffset: 1, lengthFieldLength: 2, lengthAdjustment: 1, initialBytesToStrip: 3),
            input: [0xCA, 0x00, 0x0C, 0xFE] + hello, payload: [0xFE] + hello),
        Example(
            name: "Netty: HDR1, 2-byte length of the whole frame, HDR2: offset 1, adjustment -3, strip 3",
            decoder: LengthFieldDecoder(
                lengthFieldOffset: 1, lengthFieldLength: 2, lengthAdjustment: -3, initialBytesToStrip: 3),
            input: [0xCA, 0x00, 0x10, 0xFE] + hello, payload: [0xFE] + hello),
    ]

    @Test(arguments: examples)
    func documentedExample(_ example: Example) {
        // The frame, then the start of the next one, which must not be taken.
        let input = example.input + [0x00, 0x01, 0x02]
        guard case .success(.message(let payload, let consumed)) = decodeStep(example.decoder, input) else {
            Issue.record("no message: \(decodeStep(example.decoder, input))")
            return
        }
        #expect(consumed == example.input.count)
        #expect(Array(input[payload]) == example.payload)
        // Every shorter prefix asks for more: the header first, then the whole frame.
        let headerEnd = example.decoder.headerLength
        for count in 0..<example.input.count {
            let wanted = count < headerEnd ? headerEnd : example.input.count
            #expect(
                decodeStep(example.decoder, Array(example.input.prefix(count)))
                    == .success(.needMoreInput(atLeast: wanted)), "prefix of \(count) bytes")
        }
    }

    @Test func lengthFieldOffsetBytesBelongToTheFrame() {
        let stream: [UInt8] = [0xAA, 0xBB, 0xCC, 0x00, 0x03, 1, 2, 3, 0xDD]
        let stripped = LengthFieldDecoder(lengthFieldOffset: 3, lengthFieldLength: 2)
        #expect(stripped.headerLength == 5)
        #expect(stripped.initialBytesToStrip == 5)
        #expect(decodeStep(stripped, stream) == .success(.message(payload: 5..<8, consumed: 8)))
        let whole = LengthFieldDecoder(lengthFieldOffset: 3, lengthFieldLength: 2, initialBytesToStrip: 0)
        #expect(decodeStep(whole, stream) == .success(.message(payload: 0..<8, consumed: 8)))
        // The offset bytes' values do not matter; the truncated header asks for the end of the length field.
        #expect(decodeStep(whole, [0xFF, 0xFF, 0xFF, 0x00]) == .success(.needMoreInput(atLeast: 5)))
        #expect(decodeStep(whole, [0xFF, 0xFF, 0xFF, 0x00, 0x03]) == .success(.needMoreInput(atLeast: 8)))
    }

    @Test func negativeAdjustmentForALengthThatCountsTheHeader() {
        let decoder = LengthFieldDecoder(lengthAdjustment: -4)
        #expect(decodeStep(decoder, [0, 0, 0, 4]) == .success(.message(payload: 4..<4, consumed: 4)))
        #expect(decodeStep(decoder, [0, 0, 0, 7, 1, 2, 3]) == .success(.message(payload: 4..<7, consumed: 7)))
        #expect(decodeStep(decoder, [0, 0, 0, 7, 1, 2]) == .success(.needMoreInput(atLeast: 7)))
        // Shorter than the header it counts: invalid, whatever follows.
        #expect(decodeStep(decoder, [0, 0, 0, 3, 1, 2, 3, 4]) == .failure(.invalidLengthField(value: -1)))
        #expect(decodeStep(decoder, [0, 0, 0, 0]) == .failure(.invalidLengthField(value: -4)))
    }

    @Test func positiveAdjustmentForALengthThatLeavesOutATrailer() {
        // A 1-byte length of the body, then a 2-byte checksum the length leaves out.
        let decoder = LengthFieldDecoder(lengthFieldLength: 1, lengthAdjustment: 2, initialBytesToStrip: 0)
        #expect(decodeStep(decoder, [2, 0x61, 0x62, 0xC1, 0xC2, 9]) == .success(.message(payload: 0..<5, consumed: 5)))
        #expect(decodeStep(decoder, [0, 0xC1, 0xC2]) == .success(.message(payload: 0..<3, consumed: 3)))
        #expect(decodeStep(decoder, [2, 0x61, 0x62, 0xC1]) == .success(.needMoreInput(atLeast: 5)))
    }

    @Test func initialBytesToStripNonePartOfTheHeaderTheHeaderAndIntoTheBody() {
        let frame: [UInt8] = [0, 0, 0, 3, 0x61, 0x62, 0x63]
        let expected: [(strip: Int, payload: Range<Int>)] = [
            (0, 0..<7), (2, 2..<7), (4, 4..<7), (6, 6..<7), (7, 7..<7),
        ]
        for (strip, payload) in expected {
            let decoder = LengthFieldDecoder(initialBytesToStrip: strip)
            #expect(decodeStep(decoder, frame) == .success(.message(payload: payload, consumed: 7)), "strip \(strip)")
        }
        // Stripping more than the frame holds cannot describe a frame.
        #expect(
            decodeStep(LengthFieldDecoder(initialBytesToStrip: 8), frame) == .failure(.invalidLengthField(value: 3)))
        #expect(
            decodeStep(LengthFieldDecoder(initialBytesToStrip: 5), [0, 0, 0, 0])
                == .failure(.invalidLengthField(value: 0)))
    }

    @Test func zeroLengthPayload() {
        let decoder = LengthFieldDecoder()
        #expect(decodeStep(decoder, [0, 0, 0, 0]) == .success(.message(payload: 4..<4, consumed: 4)))
        #expect(decodeStep(decoder, [0, 0, 0, 0, 0, 0, 0, 0]) == .success(.message(payload: 4..<4, consumed: 4)))
        let none = LengthFieldDecoder(lengthFieldLength: 1, maxFrameLength: 0)
        #expect(decodeStep(none, [0]) == .success(.message(payload: 1..<1, consumed: 1)))
        #expect(decodeStep(none, [1]) == .failure(.frameTooLong(length: 1, limit: 0)))
    }

    @Test(arguments: [1, 2, 3, 4, 8], [LengthFieldDecoder.ByteOrder.bigEndian, .littleEndian])
    func maxIsAcceptedAndMaxPlusOneThrowsAsSoonAsTheHeaderIsThere(width: Int, order: LengthFieldDecoder.ByteOrder) {
        let limit = width == 1 ? 200 : 1000
        let decoder = LengthFieldDecoder(lengthFieldLength: width, byteOrder: order, maxFrameLength: limit)
        let atLimit = lengthField(UInt64(limit), width: width, order: order)
        #expect(decodeStep(decoder, atLimit) == .success(.needMoreInput(atLeast: width + limit)))
        let body = [UInt8](repeating: 0x5A, count: limit)
        #expect(
            decodeStep(decoder, atLimit + body)
                == .success(.message(payload: width..<(width + limit), consumed: width + limit)))
        let overLimit = lengthField(UInt64(limit + 1), width: width, order: order)
        #expect(decodeStep(decoder, overLimit) == .failure(.frameTooLong(length: limit + 1, limit: limit)))
        #expect(
            decodeStep(decoder, overLimit + body + body) == .failure(.frameTooLong(length: limit + 1, limit: limit)))
        // The largest value the field holds.
        let largest = width == 8 ? UInt64(Int.max / 2) : (1 << (8 * UInt64(width))) - 1
        #expect(
            decodeStep(decoder, lengthField(largest, width: width, order: order))
                == .failure(.frameTooLong(length: Int(largest), limit: limit)))
    }

    @Test func limitIsCheckedOnTheAdjustedLength() {
        // Value 104 counting a 4-byte header: 100 bytes follow, exactly the limit.
        let counting = LengthFieldDecoder(lengthAdjustment: -4, maxFrameLength: 100)
        #expect(decodeStep(counting, [0, 0, 0, 104]) == .success(.needMoreInput(atLeast: 104)))
        #expect(decodeStep(counting, [0, 0, 0, 105]) == .failure(.frameTooLong(length: 101, limit: 100)))
        // A trailer the value leaves out counts against the limit too.
        let trailer = LengthFieldDecoder(lengthFieldLength: 2, lengthAdjustment: 2, maxFrameLength: 100)
        #expect(decodeStep(trailer, [0, 98]) == .success(.needMoreInput(atLeast: 102)))
        #expect(decodeStep(trailer, [0, 99]) == .failure(.frameTooLong(length: 101, limit: 100)))
    }

    @Test func needMoreInputAsksForTheHeaderThenForTheWholeFrame() {
        let decoder = LengthFieldDecoder(lengthFieldOffset: 2, lengthFieldLength: 3, initialBytesToStrip: 0)
        let frame: [UInt8] = [0x10, 0x20, 0x00, 0x00, 0x06] + [1, 2, 3, 4, 5, 6]
        for count in 0...frame.count {
            let step = decodeStep(decoder, Array(frame.prefix(count)))
            switch count {
            case 0..<5: #expect(step == .success(.needMoreInput(atLeast: 5)), "\(count) bytes")
            case 5..<11: #expect(step == .success(.needMoreInput(atLeast: 11)), "\(count) bytes")
            default: #expect(step == .success(.message(payload: 0..<11, consumed: 11)))
            }
        }
    }

    @Test func newBytesAtDoesNotChangeTheAnswer() {
        let decoder = LengthFieldDecoder(lengthFieldLength: 2)
        let frame: [UInt8] = [0, 3, 7, 8, 9, 0, 1]
        for count in 0...frame.count {
            let reference = decodeStep(decoder, Array(frame.prefix(count)))
            for newBytesAt in 0...count {
                #expect(decodeStep(decoder, Array(frame.prefix(count)), newBytesAt: newBytesAt) == reference)
            }
        }
    }

    @Test func eightByteLengthsBeyondHalfOfIntMaxAreTooLong() {
        let limit = 1 << 20
        for order in [LengthFieldDecoder.ByteOrder.bigEndian, .littleEndian] {
            let decoder = LengthFieldDecoder(lengthFieldLength: 8, byteOrder: order, maxFrameLength: limit)
            let unlimited = LengthFieldDecoder(lengthFieldLength: 8, byteOrder: order, maxFrameLength: .max)
            let half = UInt64(Int.max / 2)
            for value in [half + 1, UInt64(Int.max), UInt64(Int.max) + 1, .max] {
                let field = lengthField(value, width: 8, order: order)
                #expect(decodeStep(decoder, field) == .failure(.frameTooLong(length: .max, limit: limit)), "\(value)")
                #expect(decodeStep(unlimited, field) == .failure(.frameTooLong(length: .max, limit: .max)), "\(value)")
            }
            // Half of Int.max itself is a length like any other: too long for 1 MiB, awaited without a limit.
            let field = lengthField(half, width: 8, order: order)
            #expect(decodeStep(decoder, field) == .failure(.frameTooLong(length: Int(half), limit: limit)))
            #expect(decodeStep(unlimited, field) == .success(.needMoreInput(atLeast: 8 + Int(half))))
        }
    }

    @Test func initialiserDefaults() {
        let decoder = LengthFieldDecoder()
        #expect(decoder.lengthFieldOffset == 0)
        #expect(decoder.lengthFieldLength == 4)
        #expect(decoder.byteOrder == .bigEndian)
        #expect(decoder.lengthAdjustment == 0)
        #expect(decoder.initialBytesToStrip == 4)
        #expect(decoder.maxFrameLength == 1 << 20)
        #expect(LengthFieldDecoder(lengthFieldOffset: 2, lengthFieldLength: 8).initialBytesToStrip == 10)
    }

    // MARK: LengthFieldEncoder

    @Test func standardPrependerIsTheDefaultFormat() {
        #expect(LengthFieldEncoder.standard == LengthFieldEncoder(lengthFieldLength: 4, byteOrder: .bigEndian))
        #expect(header(.standard, payloadCount: 0x0102_0304) == [1, 2, 3, 4])
        #expect(header(.standard, payloadCount: 0) == [0, 0, 0, 0])
        let matching = LengthFieldEncoder(
            matching: LengthFieldDecoder(
                lengthFieldOffset: 3, lengthFieldLength: 3, byteOrder: .littleEndian, lengthAdjustment: -5,
                initialBytesToStrip: 1))
        #expect(matching == LengthFieldEncoder(lengthFieldLength: 3, byteOrder: .littleEndian, lengthAdjustment: -5))
    }

    @Test(arguments: [1, 2, 3, 4, 8], [LengthFieldDecoder.ByteOrder.bigEndian, .littleEndian])
    func prependerHeaderBytesAndRoundTrip(width: Int, order: LengthFieldDecoder.ByteOrder) {
        for adjustment in [0, -width, -(width + 3), 2, 7] {
            let prepender = LengthFieldEncoder(
                lengthFieldLength: width, byteOrder: order, lengthAdjustment: adjustment)
            let decoder = LengthFieldDecoder(
                lengthFieldLength: width, byteOrder: order, lengthAdjustment: adjustment, maxFrameLength: 1 << 17)
            #expect(LengthFieldEncoder(matching: decoder) == prepender)
            for count in [0, 1, 2, 7, 200, 255 + adjustment, 256 + adjustment, 300, 70_000] where count >= 0 {
                guard prepender.canEncode(payloadCount: count) else {
                    // Refused exactly when the value does not fit the field.
                    let value = count - adjustment
                    #expect(value < 0 || (width < 8 && value >= 1 << (8 * width)), "width \(width) count \(count)")
                    continue
                }
                let written = header(prepender, payloadCount: count)
                #expect(
                    written == lengthField(UInt64(count - adjustment), width: width, order: order),
                    "width \(width) adjustment \(adjustment) count \(count)")
                let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ count) }
                let stream = written + payload + [0xAB]
                guard case .success(.message(let range, let consumed)) = decodeStep(decoder, stream) else {
                    Issue.record("no message for width \(width) adjustment \(adjustment) count \(count)")
                    continue
                }
                #expect(consumed == width + count)
                #expect(Array(stream[range]) == payload, "width \(width) adjustment \(adjustment) count \(count)")
            }
        }
    }

    @Test func canEncodeFollowsTheWidthAndTheAdjustment() {
        let widths: [(width: Int, largest: Int)] = [(1, 0xFF), (2, 0xFFFF), (3, 0xFF_FFFF), (4, 0xFFFF_FFFF)]
        for (width, largest) in widths {
            let plain = LengthFieldEncoder(lengthFieldLength: width)
            #expect(plain.canEncode(payloadCount: 0))
            #expect(plain.canEncode(payloadCount: largest))
            #expect(!plain.canEncode(payloadCount: largest + 1))
            // The value counts a 4-byte header: 4 less payload fits.
            let counting = LengthFieldEncoder(lengthFieldLength: width, lengthAdjustment: -4)
            #expect(counting.canEncode(payloadCount: largest - 4))
            #expect(!counting.canEncode(payloadCount: largest - 3))
            // The value leaves out a 2-byte trailer: the payload must hold it.
            let trailer = LengthFieldEncoder(lengthFieldLength: width, lengthAdjustment: 2)
            #expect(!trailer.canEncode(payloadCount: 1))
            #expect(trailer.canEncode(payloadCount: 2))
            #expect(trailer.canEncode(payloadCount: largest + 2))
            #expect(!trailer.canEncode(payloadCount: largest + 3))
        }
        let wide = LengthFieldEncoder(lengthFieldLength: 8)
        #expect(wide.canEncode(payloadCount: 0))
        #expect(wide.canEncode(payloadCount: 1 << 40))
        #expect(wide.canEncode(payloadCount: .max))
        #expect(!LengthFieldEncoder(lengthFieldLength: 8, lengthAdjustment: 1).canEncode(payloadCount: 0))
    }

    // MARK: Differential check against the reference model

    @Test func randomStreamsMatchTheReferenceModel() {
        var random = SeededGenerator(state: 0x5EED_1E57)
        var messagesSeen = 0
        var endsSeen = Set<String>()
        for index in 0..<2000 {
            let width = [1, 2, 3, 4, 8].randomElement(using: &random)!
            let offset = Int.random(in: 0...3, using: &random)
            let headerEnd = offset + width
            let adjustment = Bool.random(using: &random) ? 0 : Int.random(in: -(headerEnd + 2)...3, using: &random)
            let strip =
                Int.random(in: 0..<10, using: &random) < 3 ? nil : Int.random(in: 0...(headerEnd + 3), using: &random)
            let model = ReferenceLengthField(
                offset: offset, width: width, bigEndian: Bool.random(using: &random), adjustment: adjustment,
                strip: strip, maxLength: Int.random(in: 0...40, using: &random))
            let order: LengthFieldDecoder.ByteOrder = model.bigEndian ? .bigEndian : .littleEndian
            let fieldLargest: UInt64 = width == 8 ? .max : (1 << (8 * UInt64(width))) - 1

            var stream: [UInt8] = []
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                let kind = Int.random(in: 0..<20, using: &random)
                if kind == 0 {  // garbage
                    stream += (0..<Int.random(in: 1...10, using: &random)).map { _ in
                        UInt8.random(in: 0...255, using: &random)
                    }
                    continue
                }
                stream += (0..<offset).map { _ in UInt8.random(in: 0...255, using: &random) }
                var value: UInt64
                if kind == 1 {  // any value the field holds
                    value = UInt64.random(in: 0...fieldLargest, using: &random)
                } else {  // mostly frames within the limit, a few just beyond it
                    let shortest = max(0, adjustment)
                    let bodyLength = Int.random(in: shortest...max(shortest, model.maxLength + 2), using: &random)
                    value = UInt64(clamping: max(0, bodyLength - adjustment))
                }
                value = min(value, fieldLargest)
                stream += lengthField(value, width: width, order: order)
                let body = value > 1000 ? 1000 : max(0, Int(value) + adjustment)
                stream += (0..<body).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            if Int.random(in: 0..<4, using: &random) == 0 {
                stream.removeLast(Int.random(in: 0...stream.count, using: &random))
            }
            let chunkSizes = (0..<stream.count).map { _ in
                Bool.random(using: &random) ? 1 : Int.random(in: 1...12, using: &random)
            }

            // The stream split as the model does, and one call on an arbitrary prefix, with an arbitrary
            // newBytesAt: the same answer as the model.
            let prefix = Array(stream.prefix(Int.random(in: 0...stream.count, using: &random)))
            guard
                let actual = checkAgainstReferenceModel(
                    model, case: index, stream: stream, chunkSizes: chunkSizes, prefix: prefix,
                    newBytesAt: Int.random(in: 0...prefix.count, using: &random))
            else { return }
            messagesSeen += actual.messages.count
            switch actual.end {
            case .clean: endsSeen.insert("clean")
            case .pending: endsSeen.insert("pending")
            case .failed(.frameTooLong(let length, _)): endsSeen.insert(length == .max ? "huge" : "tooLong")
            case .failed(.invalidLengthField): endsSeen.insert("invalid")
            case .failed(.lineTooLong): endsSeen.insert("line")
            case .failed(.malformedMessage): endsSeen.insert("malformed")
            }
        }
        // The generator reached every outcome the format has, with plenty of messages.
        #expect(messagesSeen > 2000)
        #expect(endsSeen == ["clean", "pending", "huge", "tooLong", "invalid"])
    }
}

// MARK: - Loopback

/// Answers each message with its payload: as it is (`prepender` nil) or framed by `prepender`.
private struct FrameEcho: MessageHandler {
    let prepender: LengthFieldEncoder?
    let log = MessageLog()

    func onMessage(_ message: RawSpan, state: inout Void, connection: inout ConnectionContext) {
        let bytes = message.withUnsafeBytes { Array($0) }
        log.messages.withLock { $0.append(bytes) }
        if let prepender {
            connection.writeFrame(message, using: prepender)
        } else {
            connection.write(message)
        }
    }

    func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
        log.reasons.withLock { $0.append(reason) }
    }
}

extension LoopbackTests {
    @Suite struct LengthFieldDecoderLoopback {
        /// A type byte, a 2-byte little-endian length, the body; the handler gets (and echoes) whole frames.
        static let typedFrames: [[UInt8]] = [
            [1, 5, 0, 0x61, 0x62, 0x63, 0x64, 0x65],
            [2, 0, 0],
            [3, 12, 0] + Array("hello, world".utf8),
            [4, 1, 0, 0xFF],
            [5, 7, 0, 7, 6, 5, 4, 3, 2, 1],
        ]

        @Test func streamSentOneBytePerWriteIsReassembled() throws {
            let decoder = LengthFieldDecoder(
                lengthFieldOffset: 1, lengthFieldLength: 2, byteOrder: .littleEndian, initialBytesToStrip: 0)
            let echo = FrameEcho(prepender: nil)
            try withDecodingServer(decoder, echo) { server, client in
                let stream = Self.typedFrames.flatMap { $0 }
                #expect(stream.count == 40)
                for byte in stream {
                    try client.send([byte])
                    usleep(1000)
                }
                #expect(try client.receive(exactly: stream.count) == stream)
                #expect(echo.log.messages.withLock { $0 } == Self.typedFrames)
                #expect(server.statistics().framesIn == Self.typedFrames.count)
            }
        }

        @Test func streamSplitInTwoAtEveryByteIsReassembled() throws {
            // The length counts its own 4 bytes; replies use the matching prepender, so they equal the requests.
            let decoder = LengthFieldDecoder(lengthAdjustment: -4)
            let echo = FrameEcho(prepender: LengthFieldEncoder(matching: decoder))
            let payloads: [[UInt8]] = [pattern(9, seed: 1), [], pattern(1, seed: 2), pattern(14, seed: 3)]
            let stream = payloads.flatMap { lengthField(UInt64($0.count + 4), width: 4, order: .bigEndian) + $0 }
            try withDecodingServer(decoder, echo) { _, client in
                for split in 1..<stream.count {
                    try client.send(Array(stream[..<split]))
                    usleep(2000)
                    try client.send(Array(stream[split...]))
                    #expect(try client.receive(exactly: stream.count) == stream, "split at \(split)")
                }
                let messages = echo.log.messages.withLock { $0 }
                #expect(messages == Array((1..<stream.count).map { _ in payloads }.joined()))
            }
        }

        @Test func twoByteLittleEndianHeaderBothWays() throws {
            let decoder = LengthFieldDecoder(lengthFieldLength: 2, byteOrder: .littleEndian)
            let prepender = LengthFieldEncoder(lengthFieldLength: 2, byteOrder: .littleEndian)
            let echo = FrameEcho(prepender: prepender)
            // 300 = 0x012C: little endian on the wire is 2C 01 (big endian would announce 11,265 bytes).
            let payloads = [0, 1, 255, 256, 300, 4000, 65535].map { pattern($0, seed: $0) }
            let stream = payloads.flatMap { lengthField(UInt64($0.count), width: 2, order: .littleEndian) + $0 }
            #expect(lengthField(300, width: 2, order: .littleEndian) == [0x2C, 0x01])
            try withDecodingServer(decoder, echo) { server, client in
                try client.send(stream)
                #expect(try client.receive(exactly: stream.count) == stream)
                #expect(echo.log.messages.withLock { $0 } == payloads)
                #expect(server.statistics().framesOut == payloads.count)
            }
        }

        @Test func maxIsAcceptedAndMaxPlusOneClosesAfterTheEarlierReplies() throws {
            let decoder = LengthFieldDecoder(maxFrameLength: 100)
            let echo = FrameEcho(prepender: .standard)
            let payloads = [pattern(100, seed: 1), [], pattern(7, seed: 2)]
            try withDecodingServer(decoder, echo) { server, client in
                // Valid frames, then a header over the limit with no body at all: nothing to wait for.
                try client.send(payloads.flatMap(frame) + [0, 0, 0, 101])
                for payload in payloads { #expect(try client.receiveFrame() == payload) }
                #expect(client.isClosedByPeer(allowingReset: false), "a FIN after the replies")
                #expect(eventually { echo.log.reasons.withLock { $0 } == [.frameTooLong(length: 101, limit: 100)] })
                #expect(server.statistics().closed(.frameTooLong) == 1)
                #expect(echo.log.messages.withLock { $0 } == payloads)
            }
        }

        @Test func overLimitHeaderWithItsBodyClosesToo() throws {
            let decoder = LengthFieldDecoder(lengthFieldLength: 1, maxFrameLength: 3)
            let echo = FrameEcho(prepender: LengthFieldEncoder(lengthFieldLength: 1))
            try withDecodingServer(decoder, echo) { server, client in
                try client.send([3, 0x61, 0x62, 0x63, 4, 1, 2, 3, 4, 2, 0x78, 0x79])
                #expect(try client.receive(exactly: 4) == [3, 0x61, 0x62, 0x63])
                #expect(client.isClosedByPeer(allowingReset: false))
                #expect(eventually { echo.log.reasons.withLock { $0 } == [.frameTooLong(length: 4, limit: 3)] })
                #expect(echo.log.messages.withLock { $0 } == [[0x61, 0x62, 0x63]])
                #expect(server.statistics().framesIn == 1)
            }
        }

        @Test func zeroLengthFramesInBothFormats() throws {
            let counting = LengthFieldDecoder(lengthAdjustment: -4)
            let countingEcho = FrameEcho(prepender: LengthFieldEncoder(matching: counting))
            try withDecodingServer(counting, countingEcho) { _, client in
                let stream: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 6, 0x68, 0x69, 0, 0, 0, 4]
                try client.send(stream)
                #expect(try client.receive(exactly: stream.count) == stream)
                #expect(countingEcho.log.messages.withLock { $0 } == [[], [], [0x68, 0x69], []])
            }
            let plainEcho = FrameEcho(prepender: .standard)
            try withDecodingServer(LengthFieldDecoder(), plainEcho) { _, client in
                try client.send([UInt8](repeating: 0, count: 4 * 50))
                #expect(try client.receive(exactly: 4 * 50) == [UInt8](repeating: 0, count: 4 * 50))
                #expect(plainEcho.log.messages.withLock { $0 } == Array(repeating: [], count: 50))
            }
        }

        @Test func invalidLengthFieldClosesWithDecodingFailed() throws {
            let decoder = LengthFieldDecoder(lengthAdjustment: -4)
            let echo = FrameEcho(prepender: LengthFieldEncoder(matching: decoder))
            try withDecodingServer(decoder, echo) { server, client in
                try client.send([0, 0, 0, 6, 0x6F, 0x6B, 0, 0, 0, 2, 0x6E, 0x6F])
                #expect(try client.receive(exactly: 6) == [0, 0, 0, 6, 0x6F, 0x6B])
                #expect(client.isClosedByPeer(allowingReset: false))
                #expect(
                    eventually {
                        echo.log.reasons.withLock { $0 } == [.decodingFailed(.invalidLengthField(value: -2))]
                    })
                #expect(server.statistics().closed(.decodingFailed) == 1)
            }
        }
    }
}
