/// What the harness's record handler (`ReadPathHarness.Mode.records`) makes of a stream, found by reading the whole
/// stream front to back: the model the record mode is checked against.
///
/// A record starts with a header byte `h`: kind `h >> 6`, `v = h & 0x3F`. Kind 0 is data with a 1-byte header and `v`
/// payload bytes; kind 1 data with a 2-byte header and `v << 8 | second byte` payload bytes; kind 2 a 2-byte header
/// followed by that many bytes to skip; kind 3 a 2-byte header followed by that many payload bytes the handler
/// consumes as they come. The consumed bytes are everything but the skipped bytes and an incomplete data record (or
/// header) at the end; the echo repeats each complete data record and each header `replies` times, a stream
/// payload once.
struct ReferenceRecords {
    /// A run of consumed stream bytes and how many times it is echoed.
    struct Segment {
        var range: Range<Int>
        var repeats: Int
    }

    /// The consumed runs, in order.
    private(set) var segments: [Segment] = []
    /// For each complete record: the consumed byte count once it is complete.
    private(set) var recordEnds: [Int] = []
    /// The records (by index: the number of complete records before them) whose bytes the loop may refuse as
    /// `bufferedInputTooLarge`: data records longer than `maxBufferedInput` (the loop holds up to all but their last
    /// byte while waiting), and an incomplete one at the end of which at least `maxBufferedInput` bytes arrived.
    private(set) var refusable: [Int] = []
    /// Bytes consumed by the end of a clean stream.
    private(set) var consumedCount = 0
    /// Bytes left unconsumed at the end of the stream (an incomplete data record or header).
    private(set) var trailingBytes = 0

    /// Reads `stream`.
    mutating func parse(_ stream: UnsafeRawBufferPointer, replies: Int, maxBufferedInput: Int) {
        segments.removeAll(keepingCapacity: true)
        recordEnds.removeAll(keepingCapacity: true)
        refusable.removeAll(keepingCapacity: true)
        consumedCount = 0
        trailingBytes = 0
        var offset = 0
        func consume(_ count: Int, repeats: Int) {
            segments.append(Segment(range: offset..<(offset + count), repeats: repeats))
            consumedCount += count
            offset += count
        }
        while offset < stream.count {
            let available = stream.count - offset
            let kind = stream[offset] >> 6
            let headerLength = kind == 0 ? 1 : 2
            if available < headerLength {
                trailingBytes = available
                return
            }
            let value = Int(stream[offset] & 0x3F)
            let length = kind == 0 ? value : value << 8 | Int(stream[offset + 1])
            switch kind {
            case 0, 1:
                let total = headerLength + length
                if total > maxBufferedInput && (available >= total || available >= maxBufferedInput) {
                    refusable.append(recordEnds.count)
                }
                if available < total {
                    trailingBytes = available
                    return
                }
                consume(total, repeats: replies)
            case 2:
                consume(2, repeats: replies)
                offset += min(length, stream.count - offset)
            default:
                consume(2, repeats: replies)
                let arrived = min(length, stream.count - offset)
                consume(arrived, repeats: 1)
                if arrived < length { return }  // the stream ends inside the payload: all of it was consumed
            }
            recordEnds.append(consumedCount)
        }
    }

    /// The consumed bytes after `records` complete records.
    func consumed(afterRecords records: Int) -> Int { records == 0 ? 0 : recordEnds[records - 1] }

    /// Whether `bytes` are the first `bytes.count` consumed bytes of `stream`.
    func consumedPrefixMatches(_ bytes: [UInt8], in stream: UnsafeRawBufferPointer) -> Bool {
        var checked = 0
        for segment in segments where checked < bytes.count {
            let count = min(segment.range.count, bytes.count - checked)
            let expected = UnsafeRawBufferPointer(
                rebasing: stream[segment.range.lowerBound..<(segment.range.lowerBound + count)])
            if !expected.elementsEqual(bytes[checked..<(checked + count)]) { return false }
            checked += count
        }
        return checked == bytes.count
    }

    /// The echo of the first `count` consumed bytes, onto `echo` (emptied first). A run cut short is echoed once.
    func echo(ofConsumed count: Int, in stream: UnsafeRawBufferPointer, into echo: inout [UInt8]) {
        echo.removeAll(keepingCapacity: true)
        var remaining = count
        for segment in segments where remaining > 0 {
            let taken = min(segment.range.count, remaining)
            let bytes = UnsafeRawBufferPointer(
                rebasing: stream[segment.range.lowerBound..<(segment.range.lowerBound + taken)])
            for _ in 0..<(taken == segment.range.count ? segment.repeats : 1) { echo.append(contentsOf: bytes) }
            remaining -= taken
        }
    }
}
