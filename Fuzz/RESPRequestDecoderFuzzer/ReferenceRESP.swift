import FuzzSupport
import ReactorRESP

#if canImport(Glibc)
    import Glibc
#endif

/// What redis 7 (`src/networking.c`, `processInlineBuffer`, `processMultibulkBuffer`, `sdssplitargs` in `src/sds.c`,
/// `string2ll` in `src/util.c`) makes of the bytes at the start of a query buffer, found the plain way: index
/// arithmetic over an array, line ends found with `memchr`, numbers checked by their spelling and then converted by
/// the standard library, inline lines split by a byte-at-a-time state machine. Written apart from
/// `RESPRequestDecoder` (no code shared, a different shape) so the two disagree if either is wrong.
///
/// A request's arguments are slices of the stream itself (multibulk) or of the unescaped line (inline), never copied
/// byte by byte, and outcomes compare their bytes with `memcmp`: the fuzzer build traces every comparison in Swift
/// code, so a byte loop over a 70,000-byte payload would cost more than the decoder it checks.
///
/// The rules, with `n` the bytes shown:
///
/// - the first byte picks the form: `*` multibulk, anything else inline;
/// - a multibulk count line and each bulk length line end at the first `\r`; the byte after it is not looked at
///   but must be there; with no `\r`, more than `maxInlineLength` bytes from the line's start (the `*` or the `$`)
///   to the end of the input is `tooBigMultibulkCountString` / `tooBigBulkCountString`, fewer wait for one more
///   byte;
/// - the count is `string2ll` of the text between `*` and `\r` (else, or above `INT_MAX`,
///   `invalidMultibulkLength`); a count ≤ 0 is a skip of the count line; above `maxArguments`,
///   `invalidMultibulkLength`;
/// - a length line must start with `$` (else `expectedDollar(got:)` that byte, once its `\r` and the byte after
///   it are there); the length is `string2ll` of the rest (else, negative or above `maxBulkLength`:
///   `invalidBulkLength`); then the payload and two unchecked bytes;
/// - an inline request runs to the first `\n` (with none in more than `maxInlineLength` bytes:
///   `tooBigInlineRequest`; otherwise wait for one more byte); one `\r` before the `\n` is dropped; the line is split
///   like `sdssplitargs`, and no argument at all is a skip.
///
/// NUL in an inline line: redis's C string functions stop at it (redis would wait for a `\n` it never finds); the
/// decoder documents NUL as an argument separator instead, so here NUL is a blank outside quotes (skipped between
/// arguments, ending a plain argument, allowed after a closing quote) and an ordinary byte inside quotes.
///
/// When the answer is "not yet", ``Outcome/incomplete(need:)`` is the exact smallest input length at which it could
/// change: the next byte while a line has no end, the byte after a line's `\r`, or the payload and its two bytes
/// (saturating at `Int.max` when that sum overflows).
struct ReferenceRESP: CustomStringConvertible {
    enum Outcome: Equatable, CustomStringConvertible {
        case request(arguments: [ArraySlice<UInt8>], consumed: Int)
        case skip(consumed: Int)
        case incomplete(need: Int)
        case error(RESPProtocolError)

        /// The same outcome, a request's arguments compared byte for byte (`memcmp`).
        static func == (a: Outcome, b: Outcome) -> Bool {
            switch (a, b) {
            case (.request(let left, let leftConsumed), .request(let right, let rightConsumed)):
                return leftConsumed == rightConsumed && left.count == right.count
                    && zip(left, right).allSatisfy { sameBytes($0, $1) }
            case (.skip(let left), .skip(let right)): return left == right
            case (.incomplete(let left), .incomplete(let right)): return left == right
            case (.error(let left), .error(let right)): return left == right
            default: return false
            }
        }

        var description: String {
            switch self {
            case .request(let arguments, let consumed):
                let shown = arguments.map { ReferenceRESP.show(Array($0)) }
                return "request [\(shown.joined(separator: ", "))] (\(consumed) bytes)"
            case .skip(let consumed): return "skip \(consumed) bytes"
            case .incomplete(let need): return "incomplete, need \(need)"
            case .error(let error): return "error \(error)"
            }
        }
    }

    let maxBulkLength: Int
    let maxArguments: Int
    let maxInlineLength: Int
    /// The decoder's behaviour for a NUL right after a closing quote (unbalanced quotes) instead of the documented
    /// one (a separator): the known bug `nul-after-quote` (README.md), so the fuzzer can look past it.
    let nulAfterQuoteIsError: Bool

    var description: String {
        "maxBulkLength \(maxBulkLength), maxArguments \(maxArguments), maxInlineLength \(maxInlineLength)"
    }

    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A

    /// What the first `count` bytes of `bytes` from `start` hold.
    func outcome(_ bytes: [UInt8], start: Int, count: Int) -> Outcome {
        let window = Window(bytes: bytes, start: start, count: count)
        guard count > 0 else { return .incomplete(need: 1) }
        return window[0] == UInt8(ascii: "*") ? multibulk(window) : inline(window)
    }

    /// `count` bytes of an array from `start`, indexed from 0.
    struct Window {
        let bytes: [UInt8]
        let start: Int
        let count: Int

        subscript(_ offset: Int) -> UInt8 { bytes[start + offset] }

        /// The first `byte` at or after `offset`, relative to the window.
        func first(_ byte: UInt8, from offset: Int) -> Int? {
            guard offset < count else { return nil }
            return bytes.withUnsafeBytes { stream in
                let from = stream.baseAddress! + start + offset
                guard let found = memchr(from, Int32(byte), count - offset) else { return nil }
                return offset + from.distance(to: UnsafeRawPointer(found))
            }
        }

        func slice(_ range: Range<Int>) -> ArraySlice<UInt8> {
            bytes[(start + range.lowerBound)..<(start + range.upperBound)]
        }
    }

    private enum Line {
        /// The line's text (from where it was asked for up to its `\r`) and where the next line starts.
        case text(Range<Int>, next: Int)
        case wait(need: Int)
        case tooLong
    }

    /// A `\r`-terminated line whose text starts at `from`; the length limit counts from `lineStart`.
    private func line(_ window: Window, from: Int, lineStart: Int) -> Line {
        guard let cr = window.first(Self.cr, from: from) else {
            return window.count - lineStart > maxInlineLength ? .tooLong : .wait(need: window.count + 1)
        }
        // The byte after `\r` is skipped unlooked-at, but it must have arrived.
        if cr + 1 >= window.count { return .wait(need: cr + 2) }
        return .text(from..<cr, next: cr + 2)
    }

    private func multibulk(_ window: Window) -> Outcome {
        let declared: Int
        var position: Int
        switch line(window, from: 1, lineStart: 0) {
        case .tooLong: return .error(.tooBigMultibulkCountString)
        case .wait(let need): return .incomplete(need: need)
        case .text(let text, let next):
            guard let value = Self.string2ll(window.slice(text)), value <= Int(Int32.max) else {
                return .error(.invalidMultibulkLength)
            }
            if value <= 0 { return .skip(consumed: next) }
            if value > maxArguments { return .error(.invalidMultibulkLength) }
            declared = value
            position = next
        }
        var arguments: [ArraySlice<UInt8>] = []  // allocated with the first complete argument
        while arguments.count < declared {
            switch line(window, from: position, lineStart: position) {
            case .tooLong: return .error(.tooBigBulkCountString)
            case .wait(let need): return .incomplete(need: need)
            case .text(let text, let next):
                // `text` starts with the marker (a `\r` right at `position` is an empty text and the marker).
                let marker = window[position]
                guard marker == UInt8(ascii: "$") else { return .error(.expectedDollar(got: marker)) }
                guard let length = Self.string2ll(window.slice((text.lowerBound + 1)..<text.upperBound)),
                    length >= 0, length <= maxBulkLength
                else { return .error(.invalidBulkLength) }
                let (payloadEnd, overflowA) = next.addingReportingOverflow(length)
                let (end, overflowB) = payloadEnd.addingReportingOverflow(2)
                if overflowA || overflowB { return .incomplete(need: Int.max) }
                if end > window.count { return .incomplete(need: end) }
                if arguments.isEmpty { arguments.reserveCapacity(min(declared, 64)) }
                arguments.append(window.slice(next..<payloadEnd))
                position = end
            }
        }
        return .request(arguments: arguments, consumed: position)
    }

    private func inline(_ window: Window) -> Outcome {
        guard let newline = window.first(Self.lf, from: 0) else {
            return window.count > maxInlineLength ? .error(.tooBigInlineRequest) : .incomplete(need: window.count + 1)
        }
        let lineEnd = newline > 0 && window[newline - 1] == Self.cr ? newline - 1 : newline
        guard let arguments = split(window.slice(0..<lineEnd)) else { return .error(.unbalancedQuotes) }
        return arguments.isEmpty ? .skip(consumed: newline + 1) : .request(arguments: arguments, consumed: newline + 1)
    }

    // MARK: sdssplitargs

    /// `isspace` in the C locale.
    static func isSpace(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return true
        default: return false
        }
    }

    /// What ends a plain (unquoted) argument in `sdssplitargs`.
    static func endsPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x0A, 0x0D, 0x09, 0x00: return true
        default: return false
        }
    }

    static func hexDigit(_ byte: UInt8?) -> UInt8? {
        guard let byte else { return nil }
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// What `\c` in double quotes stands for.
    static func unescaped(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "a"): return 0x07
        default: return byte
        }
    }

    /// Whether a closing quote may be followed by `next` (nil: the end of the line).
    func mayFollowClosingQuote(_ next: UInt8?) -> Bool {
        guard let next else { return true }
        return Self.isSpace(next) || (next == 0 && !nulAfterQuoteIsError)
    }

    /// The line's arguments, or nil for unbalanced quotes: a machine of four states. Each state first takes the
    /// run of bytes it treats alike (blanks between arguments, ordinary bytes in an argument or in quotes), found by
    /// C's `strspn` / `strcspn` on a NUL-terminated copy of the line (a NUL in the line stops every run, and is then
    /// looked at as a byte of its own), then decides on the byte after the run. The arguments' bytes, unescaped,
    /// go one after another into one array, and the arguments are slices of it. So a long argument costs no
    /// byte-by-byte loop in Swift (which the fuzzer build would trace comparison by comparison) and a line a
    /// handful of allocations.
    func split(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>]? {
        var terminated: [UInt8] = []
        terminated.reserveCapacity(line.count + 1)
        terminated.append(contentsOf: line)
        terminated.append(0)
        return terminated.withUnsafeBufferPointer { split(UnsafeBufferPointer(rebasing: $0[0..<line.count])) }
    }

    /// Runs of bytes, as C strings for `strspn` and `strcspn`.
    private enum Runs {
        /// `isspace` in the C locale: blanks between arguments.
        static let blanks: StaticString = " \t\n\u{0B}\u{0C}\r"
        /// What ends a plain argument (see ``endsPlain(_:)``; NUL ends every run) and the quotes.
        static let plainStops: StaticString = " \n\r\t\"'"
        /// The closing quote and a backslash, in double and single quotes.
        static let doubleStops: StaticString = "\"\\"
        static let singleStops: StaticString = "'\\"
    }

    /// ``split(_:)`` over `line`, whose byte after the end is a NUL.
    private func split(_ line: UnsafeBufferPointer<UInt8>) -> [ArraySlice<UInt8>]? {
        enum State { case between, plain, double, single }
        let base = line.baseAddress!
        var state = State.between
        var unescaped: [UInt8] = []  // every argument's bytes, one after another
        unescaped.reserveCapacity(line.count)
        var bounds: [Range<Int>] = []  // each argument's bytes in `unescaped`
        bounds.reserveCapacity(8)
        var argumentStart = 0
        var index = 0
        func at(_ offset: Int) -> UInt8? { offset < line.count ? line[offset] : nil }
        func span(_ set: StaticString, complement: Bool) -> Int {
            UnsafeRawPointer(base + index).withMemoryRebound(to: CChar.self, capacity: 1) { run in
                set.utf8Start.withMemoryRebound(to: CChar.self, capacity: set.utf8CodeUnitCount + 1) {
                    complement ? strcspn(run, $0) : strspn(run, $0)
                }
            }
        }
        // Appends the run at `index` of bytes not in `stops` (nor NUL) to the argument.
        func takeRun(until stops: StaticString) {
            let length = span(stops, complement: true)
            unescaped.append(contentsOf: UnsafeBufferPointer(start: base + index, count: length))
            index += length
        }
        func endArgument() {
            bounds.append(argumentStart..<unescaped.count)
            argumentStart = unescaped.count
        }
        // The escape whose backslash is at `offset`: the byte it stands for and its length. In double quotes `\xHH`
        // and `\c` for any byte c; in single quotes only `\'`.
        func escape(at offset: Int, double: Bool) -> (UInt8, Int)? {
            guard let next = at(offset + 1) else { return nil }
            if !double { return next == UInt8(ascii: "'") ? (next, 2) : nil }
            if next == UInt8(ascii: "x"), let high = Self.hexDigit(at(offset + 2)),
                let low = Self.hexDigit(at(offset + 3))
            {
                return (high * 16 + low, 4)
            }
            return (Self.unescaped(next), 2)
        }
        while index < line.count {
            switch state {
            case .between:
                index += span(Runs.blanks, complement: false)
                if index < line.count && line[index] == 0 {
                    index += 1  // NUL is a blank here too
                } else if index < line.count {
                    state = .plain  // this byte starts an argument
                }
            case .plain:
                takeRun(until: Runs.plainStops)
                guard index < line.count else { break }
                let byte = line[index]
                index += 1
                if Self.endsPlain(byte) {
                    endArgument()
                    state = .between
                } else {
                    state = byte == UInt8(ascii: "\"") ? .double : .single
                }
            case .double, .single:
                takeRun(until: state == .double ? Runs.doubleStops : Runs.singleStops)
                guard index < line.count else { break }
                let byte = line[index]
                if byte == (state == .double ? UInt8(ascii: "\"") : UInt8(ascii: "'")) {
                    guard mayFollowClosingQuote(at(index + 1)) else { return nil }
                    endArgument()
                    state = .between
                    index += 1
                } else if byte == UInt8(ascii: "\\"),
                    let (value, length) = escape(at: index, double: state == .double)
                {
                    unescaped.append(value)
                    index += length
                } else {
                    unescaped.append(byte)  // NUL, or a backslash that escapes nothing
                    index += 1
                }
            }
        }
        switch state {
        case .between: break
        case .plain: endArgument()
        case .double, .single: return nil  // unterminated quotes
        }
        return bounds.map { unescaped[$0] }
    }

    // MARK: string2ll

    /// redis's `string2ll`: its spelling checked first (`0`, or an optional `-`, a digit 1–9 and more digits, fewer
    /// than 21 characters), then its value by the standard library (nil past `Int64`).
    static func string2ll(_ text: ArraySlice<UInt8>) -> Int? {
        guard !text.isEmpty, text.count < 21 else { return nil }
        if text.count == 1 && text.first == UInt8(ascii: "0") { return 0 }
        let digits = text.first == UInt8(ascii: "-") ? text.dropFirst() : text
        guard let leading = digits.first, leading != UInt8(ascii: "0"),
            digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(String(decoding: text, as: UTF8.self))
    }

    /// `bytes` in double quotes, printable ASCII as it is and every other byte (and `"`, `\`) as `\xHH`.
    static func show(_ bytes: [UInt8]) -> String {
        let shown = bytes.map { byte in
            byte >= 0x20 && byte < 0x7F && byte != 0x22 && byte != 0x5C
                ? String(UnicodeScalar(byte)) : "\\x" + hex(byte)
        }
        return "\"" + shown.joined() + "\""
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

extension ReferenceRESP {
    /// Answers of redis-server 7.0.15 observed for these bytes (the RESP research for issue 11, and the decoder's
    /// tests), checked once at start-up so the reference itself is known to say what redis says.
    static func checkAgainstRedisExamples() {
        let redis = ReferenceRESP(
            maxBulkLength: 512 << 20, maxArguments: Int(Int32.max), maxInlineLength: 64 << 10,
            nulAfterQuoteIsError: false)
        func outcome(_ text: String) -> Outcome {
            let bytes = Array(text.utf8)
            return redis.outcome(bytes, start: 0, count: bytes.count)
        }
        func request(_ arguments: [String], _ consumed: Int) -> Outcome {
            .request(arguments: arguments.map { Array($0.utf8)[...] }, consumed: consumed)
        }
        let examples: [(String, Outcome)] = [
            ("*1\r\n$4\r\nPINGxx", request(["PING"], 14)),
            ("*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n", request(["ECHO", "hello world"], 32)),
            ("*1\n$4\r\n", .error(.invalidMultibulkLength)),
            ("*1\n$4\nPING\n", .incomplete(need: 12)),
            ("*2147483647\r\n", .incomplete(need: 14)),
            ("*2147483648\r\n", .error(.invalidMultibulkLength)),
            ("*12345678901234567890\r\n", .error(.invalidMultibulkLength)),
            ("*-0\r\n", .error(.invalidMultibulkLength)),
            ("*01\r\n", .error(.invalidMultibulkLength)),
            ("*+1\r\n", .error(.invalidMultibulkLength)),
            ("*1 \r\n", .error(.invalidMultibulkLength)),
            ("*\r\n", .error(.invalidMultibulkLength)),
            ("*0\r\n", .skip(consumed: 4)),
            ("*-5\r\n", .skip(consumed: 5)),
            ("*1\r\nx\r\n", .error(.expectedDollar(got: UInt8(ascii: "x")))),
            ("*1\r\n:4\r\n", .error(.expectedDollar(got: UInt8(ascii: ":")))),
            ("*1\r\n$-1\r\n", .error(.invalidBulkLength)),
            ("*1\r\n$04\r\n", .error(.invalidBulkLength)),
            ("*1\r\n$536870913\r\n", .error(.invalidBulkLength)),
            ("*1\r\n$536870912\r\n", .incomplete(need: 16 + 536_870_912 + 2)),
            ("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nabc", .incomplete(need: 29 + 100_000 + 2)),
            ("PING\r\n", request(["PING"], 6)),
            ("PING\n", request(["PING"], 5)),
            ("PING\r\r\n", request(["PING"], 7)),
            ("   PING   \r\n", request(["PING"], 12)),
            ("PING a\"b c\"\r\n", request(["PING", "ab c"], 13)),
            ("foo \"a\\r\\nb\"\r\n", request(["foo", "a\r\nb"], 14)),
            ("ECHO \"\\x41\\n\\t\\\\\\\"\"\r\n", request(["ECHO", "A\n\t\\\""], 21)),
            ("ECHO 'it\\'s'\r\n", request(["ECHO", "it's"], 14)),
            ("ECHO \"\"\r\n", request(["ECHO", ""], 9)),
            ("PING \"a\"b\r\n", .error(.unbalancedQuotes)),
            ("PING \"abc\r\n", .error(.unbalancedQuotes)),
            ("PING 'abc\r\n", .error(.unbalancedQuotes)),
            ("\r\n", .skip(consumed: 2)),
            ("\n", .skip(consumed: 1)),
            ("   \n", .skip(consumed: 4)),
            ("PING", .incomplete(need: 5)),
        ]
        for (text, expected) in examples {
            let actual = outcome(text)
            expect(actual == expected, "reference: \(show(Array(text.utf8))) is \(actual), redis: \(expected)")
        }
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 65_537)
        expect(redis.outcome(long, start: 0, count: 65_536) == .incomplete(need: 65_537), "reference: 64 KiB line")
        expect(redis.outcome(long, start: 0, count: 65_537) == .error(.tooBigInlineRequest), "reference: long line")
        let counted = [UInt8(ascii: "*")] + long
        expect(redis.outcome(counted, start: 0, count: 65_537) == .error(.tooBigMultibulkCountString), "reference")
        // A 70,007-byte inline line that arrives whole is accepted (observed): the limit applies without a newline.
        let whole = Array("PING ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 70_000) + [Self.cr, Self.lf]
        expect(
            redis.outcome(whole, start: 0, count: whole.count)
                == .request(arguments: [Array("PING".utf8)[...], whole[5..<70_005]], consumed: 70_007),
            "reference: a long line arriving whole")
    }
}
