/// Reads replies off the bytes a Redis client received, one complete reply at a time, and says whether each is
/// well-formed in the protocol the connection speaks (``RESPProtocol``).
///
/// RESP2: simple strings (`+`), errors (`-`), integers (`:`), bulk strings (`$n`, `$-1`) and arrays (`*n`, `*-1`)
/// of any of them. RESP3 (after `HELLO 3`) adds nulls (`_`), doubles (`,`), booleans (`#t`, `#f`), big numbers
/// (`(`), blob errors (`!`), verbatim strings (`=n` with a three-letter format and `:`), maps (`%n`: n keys and n
/// values), sets (`~n`), pushes (`>n`) and attributes (`|n` pairs before the value they describe), and has no
/// `$-1` or `*-1` (its null is `_`). Strictly: a line ends at its first `\r`, which `\n` must follow (a simple
/// string or error holds neither byte); numbers are `-`? and digits with no leading zero (the only spellings
/// redis's `string2ll` accepts); a bulk string is followed by exactly `\r\n`; nesting stops at 64 levels.
struct RESPReplyParser {
    /// The protocol replies are read in.
    enum RESPProtocol {
        case resp2
        case resp3
        /// Either (after an EXEC that ran a queued HELLO, whose replies switch protocol inside EXEC's array): every
        /// RESP3 type, and RESP2's `$-1` and `*-1` too.
        case either
    }

    /// What reading one reply found.
    enum Outcome: Equatable {
        /// A complete reply of this many bytes.
        case reply(length: Int, isError: Bool)
        /// The bytes end before the reply does.
        case incomplete
        /// Not a well-formed reply: what is wrong, and where (from the start of the reply).
        case malformed(String, at: Int)
    }

    private struct Malformed: Error {
        let reason: String
        let offset: Int
    }

    private struct Incomplete: Error {}

    private let bytes: UnsafeRawBufferPointer
    /// RESP3's own types are allowed.
    private let resp3: Bool
    /// RESP2's nulls (`$-1`, `*-1`) are allowed.
    private let resp2Nulls: Bool
    private var position: Int

    /// Reads the reply that starts at `start` in `bytes`, in `protocol`.
    static func read(_ bytes: UnsafeRawBufferPointer, from start: Int, in protocol: RESPProtocol) -> Outcome {
        var parser = RESPReplyParser(
            bytes: bytes, resp3: `protocol` != .resp2, resp2Nulls: `protocol` != .resp3, position: start)
        do {
            let isError = try parser.value(depth: 0)
            return .reply(length: parser.position - start, isError: isError)
        } catch let error as Malformed {
            return .malformed(error.reason, at: error.offset - start)
        } catch {
            return .incomplete
        }
    }

    /// One value; returns whether it is an error reply.
    private mutating func value(depth: Int) throws -> Bool {
        guard depth < 64 else { throw Malformed(reason: "nested more than 64 levels", offset: position) }
        guard position < bytes.count else { throw Incomplete() }
        let marker = bytes[position]
        let markerAt = position
        position += 1
        let line = try self.line()
        switch marker {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            return marker == UInt8(ascii: "-")
        case UInt8(ascii: ":"):
            _ = try integer(line, at: markerAt)
        case UInt8(ascii: "$"):
            let length = try integer(line, at: markerAt)
            if length == -1 && resp2Nulls { return false }
            try payload(length, at: markerAt)
        case UInt8(ascii: "*"):
            let count = try integer(line, at: markerAt)
            if count == -1 && resp2Nulls { return false }
            try elements(count, at: markerAt, depth: depth)
        default:
            guard resp3 else { throw Malformed(reason: "marker \(marker) in RESP2", offset: markerAt) }
            return try resp3Value(marker, line, at: markerAt, depth: depth)
        }
        return false
    }

    private mutating func resp3Value(_ marker: UInt8, _ line: Range<Int>, at markerAt: Int, depth: Int) throws -> Bool {
        switch marker {
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw Malformed(reason: "a null with text", offset: markerAt) }
        case UInt8(ascii: ","):
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[line]), as: UTF8.self)
            guard ["inf", "-inf", "nan"].contains(text) || (Double(text) != nil && !text.isEmpty) else {
                throw Malformed(reason: "double \(text)", offset: markerAt)
            }
        case UInt8(ascii: "#"):
            guard line.count == 1,
                bytes[line.lowerBound] == UInt8(ascii: "t") || bytes[line.lowerBound] == UInt8(ascii: "f")
            else { throw Malformed(reason: "a boolean other than t or f", offset: markerAt) }
        case UInt8(ascii: "("):
            var digits = line
            if digits.first.map({ bytes[$0] }) == UInt8(ascii: "-") { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.allSatisfy({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }) else {
                throw Malformed(reason: "big number", offset: markerAt)
            }
        case UInt8(ascii: "!"):
            try payload(try integer(line, at: markerAt), at: markerAt)
            return true
        case UInt8(ascii: "="):
            let length = try integer(line, at: markerAt)
            guard length >= 4 else { throw Malformed(reason: "verbatim string without a format", offset: markerAt) }
            let start = position
            try payload(length, at: markerAt)
            guard bytes[start + 3] == UInt8(ascii: ":") else {
                throw Malformed(reason: "verbatim string's format", offset: markerAt)
            }
        case UInt8(ascii: "%"):
            let count = try integer(line, at: markerAt)
            try elements(count.multipliedReportingOverflow(by: 2).overflow ? -2 : count * 2, at: markerAt, depth: depth)
        case UInt8(ascii: "~"), UInt8(ascii: ">"):
            try elements(try integer(line, at: markerAt), at: markerAt, depth: depth)
        case UInt8(ascii: "|"):
            let count = try integer(line, at: markerAt)
            try elements(count.multipliedReportingOverflow(by: 2).overflow ? -2 : count * 2, at: markerAt, depth: depth)
            return try value(depth: depth + 1)  // the value the attributes describe
        default:
            throw Malformed(reason: "unknown marker \(marker)", offset: markerAt)
        }
        return false
    }

    /// The text up to the next `\r`, which `\n` must follow; moves past both.
    private mutating func line() throws -> Range<Int> {
        let start = position
        while position < bytes.count && bytes[position] != 0x0D {
            if bytes[position] == 0x0A { throw Malformed(reason: "\\n inside a line", offset: position) }
            position += 1
        }
        guard position + 1 < bytes.count else { throw Incomplete() }
        guard bytes[position + 1] == 0x0A else { throw Malformed(reason: "\\r without \\n", offset: position) }
        position += 2
        return start..<(position - 2)
    }

    /// `line` as redis spells an integer: `0`, or `-`? then a digit 1–9 and more digits, within 64 bits.
    private func integer(_ line: Range<Int>, at markerAt: Int) throws -> Int {
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[line]), as: UTF8.self)
        let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
        guard let value = Int(text), text == "0" || (digits.first != "0" && digits.allSatisfy(\.isASCII)),
            !text.hasPrefix("+")
        else { throw Malformed(reason: "integer \(text)", offset: markerAt) }
        return value
    }

    /// `length` bytes and `\r\n`.
    private mutating func payload(_ length: Int, at markerAt: Int) throws {
        guard length >= 0 else { throw Malformed(reason: "length \(length)", offset: markerAt) }
        guard length <= bytes.count - position - 2 else { throw Incomplete() }
        position += length
        guard bytes[position] == 0x0D && bytes[position + 1] == 0x0A else {
            throw Malformed(reason: "\(length) bytes not followed by \\r\\n", offset: markerAt)
        }
        position += 2
    }

    private mutating func elements(_ count: Int, at markerAt: Int, depth: Int) throws {
        guard count >= 0 else { throw Malformed(reason: "count \(count)", offset: markerAt) }
        for _ in 0..<count { _ = try value(depth: depth + 1) }
    }
}
