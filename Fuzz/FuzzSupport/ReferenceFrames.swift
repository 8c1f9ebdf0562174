/// What a length-prefixed stream (4-byte big-endian length, then that many payload bytes) holds, found the obvious
/// way: the model ReactorCore's decoder and read path are checked against.
///
/// Frames are contiguous from the start of the stream, so the bytes of the first `n` frames (prefixes included) are
/// exactly `stream[0 ..< frames[n - 1].end]`: that is also what an echo of them looks like.
public struct ReferenceFrames {
    /// One complete frame.
    public struct Frame {
        /// Where its payload starts in the stream.
        public var payloadOffset: Int
        /// Its payload length.
        public var length: Int
        /// Where the next frame starts.
        public var end: Int { payloadOffset + length }
    }

    /// Every complete frame before the end of the stream or the first oversized length prefix.
    public private(set) var frames: [Frame] = []
    /// The first complete length prefix above the limit: where it starts and the length it claims.
    public private(set) var tooLong: (offset: Int, length: Int)?
    /// Where the bytes after the last complete frame start.
    public private(set) var completeEnd = 0
    /// Bytes in the stream.
    public private(set) var streamLength = 0

    /// An empty model; ``parse(_:maxFrameLength:)`` fills it (and can be called again, keeping capacity).
    public init() {}

    /// Bytes after the last complete frame: a partial frame (prefix bytes included), or the oversized one onwards.
    public var trailingBytes: Int { streamLength - completeEnd }

    /// The payload end of the first `count` frames (0 for none): the stream bytes they and their echo cover.
    public func end(ofFirst count: Int) -> Int { count == 0 ? 0 : frames[count - 1].end }

    /// Splits `stream` into frames of at most `maxFrameLength` payload bytes.
    public mutating func parse(_ stream: UnsafeRawBufferPointer, maxFrameLength: Int) {
        frames.removeAll(keepingCapacity: true)
        tooLong = nil
        streamLength = stream.count
        var offset = 0
        while stream.count - offset >= 4 {
            let length = Self.length(in: stream, at: offset)
            if length > maxFrameLength {
                tooLong = (offset, length)
                break
            }
            if stream.count - offset - 4 < length { break }
            frames.append(Frame(payloadOffset: offset + 4, length: length))
            offset += 4 + length
        }
        completeEnd = offset
    }

    /// The big-endian length prefix at `offset` (4 bytes must be there).
    public static func length(in stream: UnsafeRawBufferPointer, at offset: Int) -> Int {
        Int(stream[offset]) << 24 | Int(stream[offset + 1]) << 16 | Int(stream[offset + 2]) << 8
            | Int(stream[offset + 3])
    }
}
