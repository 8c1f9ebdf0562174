import FuzzSupport
import ReactorCore

/// What a stream of length-field frames holds, found the plain way: the length field read byte by byte as an
/// unsigned integer, then the frame arithmetic of Netty's `LengthFieldBasedFrameDecoder` on whole numbers.
///
/// A frame is `offset` bytes, a `width`-byte length `L`, then `L + adjustment` bytes; the message is the frame
/// without its first `strip` bytes. As soon as a length field is complete: `L + adjustment > maxFrameLength` is
/// `frameTooLong` (with the length `Int.max` when `L` does not fit in 62 bits, the decoder's stand-in for "beyond
/// any buffer"), then a negative `L + adjustment` or a frame shorter than `strip` is `invalidLengthField`.
struct ReferenceLengthFields: CustomStringConvertible {
    let offset: Int
    let width: Int
    let littleEndian: Bool
    let adjustment: Int
    let strip: Int
    let maxFrameLength: Int

    var headerLength: Int { offset + width }

    var description: String {
        "offset \(offset), \(width)-byte \(littleEndian ? "LE" : "BE") length, adjustment \(adjustment), "
            + "strip \(strip), max \(maxFrameLength)"
    }

    /// The length field of the frame starting at `start` (its bytes must be there).
    func field(in stream: UnsafeRawBufferPointer, frameAt start: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<width {
            let byte = UInt64(stream[start + offset + index])
            value |= littleEndian ? byte << (8 * index) : byte << (8 * (width - 1 - index))
        }
        return value
    }

    /// What the frame starting at `start` claims once its header is there: its total length, or the error.
    func frame(in stream: UnsafeRawBufferPointer, at start: Int) -> Result<Int, MessageDecodingError> {
        let value = field(in: stream, frameAt: start)
        guard value <= UInt64(Int.max / 2) else {
            return .failure(.frameTooLong(length: Int.max, limit: maxFrameLength))
        }
        let body = Int(value) + adjustment
        if body > maxFrameLength { return .failure(.frameTooLong(length: body, limit: maxFrameLength)) }
        if body < 0 || headerLength + body < strip { return .failure(.invalidLengthField(value: body)) }
        return .success(headerLength + body)
    }

    func parse(_ stream: UnsafeRawBufferPointer, into expected: inout ExpectedDecoding) {
        expected.reset()
        var start = 0
        while stream.count - start >= headerLength {
            switch frame(in: stream, at: start) {
            case .failure(let error):
                expected.error = error
                expected.errorAt = start + headerLength
                return
            case .success(let length):
                if stream.count - start < length { return }
                expected.messages.append(.init(payload: (start + strip)..<(start + length), end: start + length))
                start += length
            }
        }
    }

    /// The `needMoreInput(atLeast:)` a decoder must answer for the `count` unconsumed bytes at `start`: the header,
    /// or the whole frame (nil where it must not ask for more).
    func need(in stream: UnsafeRawBufferPointer, at start: Int, count: Int) -> Int? {
        if count < headerLength { return headerLength }
        guard case .success(let length) = frame(in: stream, at: start), count < length else { return nil }
        return length
    }
}
