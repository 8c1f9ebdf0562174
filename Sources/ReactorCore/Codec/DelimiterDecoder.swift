#if canImport(Glibc)
    import Glibc
#endif

/// Splits a stream into records that end with a delimiter: lines (`\n`, `\r\n`), NUL-terminated strings, or any
/// byte sequence (Netty's `DelimiterBasedFrameDecoder` / `LineBasedFrameDecoder`).
///
/// The earliest delimiter in the stream ends the record; when several delimiters end at the same byte the longest
/// wins, so with ``lines(maxLength:stripsDelimiter:)`` the record `abc\r\n` is `abc`, not `abc\r`. ``stripsDelimiter`` chooses whether the handler
/// sees the delimiter. A record longer than ``maxLength`` (delimiter excluded) throws
/// ``MessageDecodingError/lineTooLong(limit:)`` as soon as that many bytes arrived without a delimiter, so a
/// connection never buffers more than `maxLength` plus the longest delimiter. The scan resumes where the last one
/// stopped (`newBytesAt`): a byte is looked at once, however slowly a long line trickles in.
public struct DelimiterDecoder: MessageDecoder, Hashable {
    /// The delimiters, each 1 to 16 bytes.
    public let delimiters: [[UInt8]]
    /// True: the handler gets the record without its delimiter. False: with it.
    public let stripsDelimiter: Bool
    /// The longest record accepted, delimiter excluded.
    public let maxLength: Int
    private let longestDelimiter: Int
    /// `maxLength` plus the longest delimiter, saturated (so `maxLength: .max` means "no limit", not an overflow).
    private let scanCeiling: Int
    /// The last byte of the delimiters when they all share it (`\n` for lines): the scan is one `memchr` for it.
    private let commonLastByte: UInt8?

    /// Records ending with `\n` or `\r\n`, without the delimiter, at most `maxLength` bytes (default 64 KiB).
    public static func lines(maxLength: Int = 64 * 1024, stripsDelimiter: Bool = true) -> DelimiterDecoder {
        DelimiterDecoder(delimiters: [[0x0A], [0x0D, 0x0A]], stripsDelimiter: stripsDelimiter, maxLength: maxLength)
    }

    /// A decoder for `delimiters` (at least one; each 1 to 16 bytes).
    public init(delimiters: [[UInt8]], stripsDelimiter: Bool = true, maxLength: Int = 64 * 1024) {
        precondition(!delimiters.isEmpty, "DelimiterDecoder needs at least one delimiter")
        precondition(delimiters.allSatisfy { (1...16).contains($0.count) }, "a delimiter is 1 to 16 bytes")
        precondition(maxLength >= 0, "maxLength must not be negative")
        self.delimiters = delimiters
        self.stripsDelimiter = stripsDelimiter
        self.maxLength = maxLength
        self.longestDelimiter = delimiters.map(\.count).max()!
        let (ceiling, overflow) = maxLength.addingReportingOverflow(longestDelimiter)
        self.scanCeiling = overflow ? .max : ceiling
        let lastBytes = Set(delimiters.map { $0.last! })
        self.commonLastByte = lastBytes.count == 1 ? lastBytes.first : nil
    }

    public func decode(_ input: RawSpan, newBytesAt: Int) throws(MessageDecodingError) -> DecodeStep {
        let count = input.byteCount
        // A delimiter ending in the new bytes may have started up to longestDelimiter - 1 bytes before them.
        let start = max(0, min(newBytesAt, count) - (longestDelimiter - 1))
        // Past this many bytes without a delimiter no valid record can end: stop scanning there.
        let scanLimit = min(count, scanCeiling)
        let found: (end: Int, delimiter: Int)? = input.withUnsafeBytes { buffer in
            find(in: buffer, from: start, to: scanLimit)
        }
        if let (end, delimiterLength) = found {
            let recordLength = end - delimiterLength
            if recordLength > maxLength { throw .lineTooLong(limit: maxLength) }
            return .message(payload: 0..<(stripsDelimiter ? recordLength : end), consumed: end)
        }
        if count >= scanCeiling { throw .lineTooLong(limit: maxLength) }
        return .needMoreInput(atLeast: count + 1)
    }

    /// The end offset (one past the delimiter) and delimiter length of the first delimiter ending in
    /// `from..<to`, if any.
    @inline(__always)
    private func find(in buffer: UnsafeRawBufferPointer, from: Int, to: Int) -> (end: Int, delimiter: Int)? {
        guard let base = buffer.baseAddress, from < to else { return nil }
        var position = from
        while position < to {
            let last: Int
            if let byte = commonLastByte {
                guard let hit = memchr(base + position, CInt(byte), to - position) else { return nil }
                last = base.distance(to: UnsafeRawPointer(hit))
            } else {
                last = position
            }
            // The longest delimiter that ends at `last`.
            var best = 0
            for delimiter in delimiters where delimiter.count > best && delimiter.count <= last + 1 {
                var matches = true
                let first = last + 1 - delimiter.count
                for index in 0..<delimiter.count where buffer[first + index] != delimiter[index] {
                    matches = false
                    break
                }
                if matches { best = delimiter.count }
            }
            if best > 0 { return (last + 1, best) }
            position = last + 1
        }
        return nil
    }
}
