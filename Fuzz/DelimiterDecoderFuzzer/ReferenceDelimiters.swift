import FuzzSupport
import ReactorCore

/// What a delimited stream holds, found the naive way: from the start of each record, try every end position in
/// turn and every delimiter at it.
///
/// A record ends at the earliest position where a delimiter ends; when several end there the longest wins. A record
/// longer than `maxLength` (delimiter excluded) is `lineTooLong`, found when its delimiter arrives or when
/// `maxLength` + the longest delimiter's length bytes have arrived without one, whichever is first (past that many
/// bytes no delimiter can end a record short enough).
struct ReferenceDelimiters: CustomStringConvertible {
    let delimiters: [[UInt8]]
    let strips: Bool
    let maxLength: Int

    var longest: Int { delimiters.map(\.count).max()! }

    var description: String {
        let shown = delimiters.map { "\"" + $0.map { byte in Self.show(byte) }.joined() + "\"" }.joined(separator: " ")
        return "delimiters \(shown), \(strips ? "stripped" : "kept"), max \(maxLength)"
    }

    private static func show(_ byte: UInt8) -> String {
        switch byte {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x00: return "\\0"
        default: return String(UnicodeScalar(byte))
        }
    }

    /// The earliest delimiter ending after `start` and at most at `limit`: where it ends and its length.
    func firstDelimiter(in stream: UnsafeRawBufferPointer, from start: Int, to limit: Int) -> (end: Int, length: Int)? {
        var end = start + 1
        while end <= min(limit, stream.count) {
            var best = 0
            for delimiter in delimiters where delimiter.count > best && end - start >= delimiter.count {
                if stream[(end - delimiter.count)..<end].elementsEqual(delimiter) { best = delimiter.count }
            }
            if best > 0 { return (end, best) }
            end += 1
        }
        return nil
    }

    func parse(_ stream: UnsafeRawBufferPointer, into expected: inout ExpectedDecoding) {
        expected.reset()
        var start = 0
        while true {
            // Past this many bytes without a delimiter, the record is too long whatever comes next.
            let (sum, overflow) = (start + longest).addingReportingOverflow(maxLength)
            let giveUpAt = overflow ? Int.max : sum
            if let (end, length) = firstDelimiter(in: stream, from: start, to: giveUpAt) {
                if end - length - start > maxLength {
                    expected.error = .lineTooLong(limit: maxLength)
                    expected.errorAt = end
                    return
                }
                expected.messages.append(.init(payload: start..<(strips ? end - length : end), end: end))
                start = end
            } else {
                if stream.count >= giveUpAt {
                    expected.error = .lineTooLong(limit: maxLength)
                    expected.errorAt = giveUpAt
                }
                return
            }
        }
    }
}
