import FuzzSupport

/// Turns the fuzz input's stream bytes into a RESP stream worth decoding: each operation byte appends one piece (a
/// valid multibulk or inline request, a skip, garbage, a malformed header, a number at a limit, a line at the
/// inline limit, the lenient forms redis accepts) or mutates what is there, its details read from the bytes after
/// it. So libFuzzer's mutations of the input stay mostly well-formed requests with a few defects, and a stream
/// gets to the limits however small or large they are.
///
/// Operation (byte % 10), then its operands (missing bytes read as zero):
///
/// 0. a multibulk request: argument count byte (1 + n % 4, or with bit 7 set 1 + the next byte % 40), then per
///    argument a length byte (under 200: n % 20; 200–239: the bulk limit − 1, the limit itself or + 1, capped at
///    70,000; above: 256 × (n % 16) + the next byte) and a content byte (bit 7 clear: letters; set: that many raw
///    stream bytes, repeated); flag byte: bit 0 an arbitrary byte after each `\r` instead of `\n`, bit 1 two
///    arbitrary bytes after each payload instead of `\r\n`;
/// 1. an inline request: token count byte (1 + n % 5), per token a style byte (plain, double quotes with escapes,
///    single quotes, a quote inside a token, empty quotes, a quote followed by a letter, an unterminated quote, a
///    raw byte) and a separator byte (space, spaces, tab, `\v`, `\f`, `\r`, NUL); then a terminator byte (`\r\n`,
///    `\n`, `\r\r\n`, none);
/// 2. a skip: `*0`, `*-1`, `*-n`, an empty line, blanks and a newline;
/// 3. 1 + n % 16 raw bytes;
/// 4. a malformed count or length line from ``malformed``;
/// 5. a count or length at a limit (`maxArguments` or `maxBulkLength`, or one more), then as much of the request
///    as the next byte says;
/// 6. a line near `maxInlineLength` (−2 ... +2 bytes, capped at 70,000): inline, a count line, or a length line,
///    with or without its end;
/// 7. a mutation: a byte replaced, deleted, or `\r` / `\n` inserted at a position (2 bytes), or the stream cut there;
/// 8. a request with `\n` where `\r\n` belongs, in one of four places;
/// 9. the last piece again, 1 + n % 8 times (pipelining).
///
/// Long runs (payloads, lines near a limit) are written by ``tile(_:count:)`` with `memcpy`, never a byte at a time:
/// the fuzzer build traces every comparison in Swift code, and a byte loop over 70,000 bytes would cost more than
/// the decoder it feeds.
struct RESPStreamBuilder {
    /// Streams stop growing past this many bytes.
    static let maxStreamLength = 1 << 17

    /// Count and length lines redis refuses, or takes at its limits.
    static let malformed: [String] = [
        "*", "*a", "*01", "*+1", "*-0", "*1 ", "* 1", "*-", "*2147483648", "*2147483647", "*9223372036854775807",
        "*-9223372036854775808", "*-9223372036854775809", "*12345678901234567890", "*99999999999999999999",
        "*1\r\n$", "*1\r\n$-1", "*1\r\n$04", "*1\r\n$+4", "*1\r\n$ 4", "*1\r\n$-0", "*1\r\n$9223372036854775807",
        "*1\r\n$9223372036854775806", "*1\r\n$9223372036854775808", "*1\r\n$4611686018427387904", "*1\r\nx4",
        "*1\r\n:4", "*1\r\n*1", "*1\r\n", "*2\r\n$1\r\na\r\n+", "*1\r\n$00", "*1\r\n$0",
    ]

    let maxBulkLength: Int
    let maxArguments: Int
    let maxInlineLength: Int
    private var program: FuzzInput
    private(set) var stream: [UInt8] = []
    private var lastPiece: Range<Int> = 0..<0

    init(program: UnsafeRawBufferPointer, maxBulkLength: Int, maxArguments: Int, maxInlineLength: Int) {
        self.program = FuzzInput(
            data: program.baseAddress?.assumingMemoryBound(to: UInt8.self), size: program.count)
        self.maxBulkLength = maxBulkLength
        self.maxArguments = maxArguments
        self.maxInlineLength = maxInlineLength
        stream.reserveCapacity(4096)
    }

    /// Runs the whole program.
    mutating func build() -> [UInt8] {
        while !program.isAtEnd && stream.count < Self.maxStreamLength {
            let start = stream.count
            let operation = program.byte() % 10
            switch operation {
            case 0: multibulk()
            case 1: inline()
            case 2: skip()
            case 3: raw(1 + Int(program.byte()) % 16)
            case 4: text(Self.malformed[Int(program.byte()) % Self.malformed.count] + "\r\n")
            case 5: atLimit()
            case 6: longLine()
            case 7: mutate()
            case 8: newlineOnly()
            default: repeatLast()
            }
            // A mutation changes bytes anywhere and a repeat already is a piece: neither is repeated itself.
            if operation != 7 && operation != 9 && stream.count > start { lastPiece = start..<stream.count }
        }
        if stream.count > Self.maxStreamLength { stream.removeLast(stream.count - Self.maxStreamLength) }
        return stream
    }

    private mutating func text(_ text: String) { stream.append(contentsOf: text.utf8) }

    /// `marker` and `value` (≥ 0) in decimal: a count or length line without its end, without building a `String`.
    private mutating func header(_ marker: UInt8, _ value: Int) {
        stream.append(marker)
        let start = stream.count
        var rest = value
        repeat {
            stream.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        stream[start...].reverse()  // the digits were appended lowest first
    }

    /// Appends `count` bytes repeating `period` from its start: the period copied once, then what is there doubled
    /// with `memcpy` until `count` bytes are there. Bytes past ``maxStreamLength`` are left out (``build()`` would
    /// cut them off anyway: 40 arguments of 70,000 bytes would otherwise build 2.8 MB to keep 128 KiB).
    private mutating func tile(_ period: [UInt8], count wanted: Int) {
        let count = min(wanted, Self.maxStreamLength - stream.count)
        guard count > 0 else { return }
        let tiled = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            var filled = min(period.count, count)
            period.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: filled) }
            // `filled` stays a multiple of the period until the last copy, so the pattern continues unbroken.
            while filled < count {
                let chunk = min(filled, count - filled)
                (base + filled).copyMemory(from: base, byteCount: chunk)
                filled += chunk
            }
            initialized = count
        }
        stream.append(contentsOf: tiled)
    }

    private mutating func raw(_ count: Int) {
        for _ in 0..<count { stream.append(program.byte()) }
    }

    private mutating func lineEnd(arbitrary: Bool) {
        stream.append(0x0D)
        stream.append(arbitrary ? program.byte() : 0x0A)
    }

    private mutating func multibulk() {
        let countByte = Int(program.byte())
        let count = countByte & 0x80 == 0 ? 1 + countByte % 4 : 1 + Int(program.byte()) % 40
        let flags = program.byte()
        header(UInt8(ascii: "*"), count)
        lineEnd(arbitrary: flags & 1 != 0)
        for _ in 0..<count {
            let lengthByte = Int(program.byte())
            let length: Int
            switch lengthByte {
            case 0..<200: length = lengthByte % 20
            case 200..<240: length = max(0, min(maxBulkLength, 70_000) + lengthByte % 3 - 1)
            default: length = 256 * (lengthByte % 16) + Int(program.byte())
            }
            header(UInt8(ascii: "$"), length)
            lineEnd(arbitrary: flags & 1 != 0)
            let content = Int(program.byte())
            if content & 0x80 == 0 {
                // Letters: byte i is "a" + (i × (content + 1)) % 26, a pattern of period 26.
                tile(
                    (0..<min(length, 26)).map { UInt8(ascii: "a") + UInt8(($0 * (content + 1)) % 26) }, count: length)
            } else {
                var pattern: [UInt8] = []
                for _ in 0...(content & 7) { pattern.append(program.byte()) }
                tile(pattern, count: length)
            }
            if flags & 2 != 0 {
                raw(2)
            } else {
                lineEnd(arbitrary: false)
            }
        }
    }

    /// Double-quoted escapes and contents: every escape `sdssplitargs` knows, bad hex, a space and quotes inside.
    static let doubleQuoted = [
        "\\n", "\\r", "\\t", "\\b", "\\a", "\\\\", "\\\"", "\\x41", "\\xfF", "\\x4", "\\xZZ", "\\q", " ", "'", "ab",
        "\\", "\\x", "\\'",
    ]

    private mutating func inline() {
        let tokens = 1 + Int(program.byte()) % 5
        for _ in 0..<tokens {
            let style = program.byte()
            let parts = 1 + Int(program.byte()) % 3
            switch style % 9 {
            case 0, 1: word(Int(style >> 4) + 1)
            case 2:
                text("\"")
                for _ in 0..<parts { text(Self.doubleQuoted[Int(program.byte()) % Self.doubleQuoted.count]) }
                text("\"")
            case 3:
                text("'")
                for _ in 0..<parts { text(["ab", "\\'", "\\n", "\"", " ", "\\"][Int(program.byte()) % 6]) }
                text("'")
            case 4:
                word(2)
                text(style & 0x10 == 0 ? "\"b c\"" : "'b c'")
            case 5: text(style & 0x10 == 0 ? "\"\"" : "''")
            case 6: text(style & 0x10 == 0 ? "\"a\"b" : "'a'b")
            case 7: text(style & 0x10 == 0 ? "\"abc" : "'abc")
            default: raw(1)
            }
            let separator = program.byte()
            let separators: [[UInt8]] = [[0x20], [0x20, 0x20, 0x20], [0x09], [0x0B], [0x0C], [0x0D], [0x00]]
            stream.append(contentsOf: separators[Int(separator) % separators.count])
        }
        switch program.byte() % 4 {
        case 0: text("\r\n")
        case 1: text("\n")
        case 2: text("\r\r\n")
        default: break
        }
    }

    private mutating func word(_ length: Int) {
        let seed = Int(program.byte())
        for index in 0..<length { stream.append(UInt8(ascii: "A") + UInt8((seed + index * 7) % 26)) }
    }

    private mutating func skip() {
        switch program.byte() % 6 {
        case 0: text("*0\r\n")
        case 1: text("*-1\r\n")
        case 2: text("*-\(1 + Int(program.byte()))\r\n")
        case 3: text("\r\n")
        case 4: text("\n")
        default: text(" \t \n")
        }
    }

    private mutating func atLimit() {
        let choice = program.byte()
        let arguments = choice & 1 == 0
        let plusOne = choice & 2 != 0
        let limit = arguments ? maxArguments : maxBulkLength
        let value = plusOne && limit < Int.max ? limit + 1 : limit
        if arguments {
            text("*\(value)\r\n")
            // As many one-byte arguments as the next byte says (the rest of the request never comes).
            for _ in 0..<(Int(program.byte()) % 8) { text("$1\r\nx\r\n") }
        } else {
            text("*1\r\n$\(value)\r\n")
            if value <= 70_000 && program.byte() & 1 == 0 {
                tile([UInt8(ascii: "v")], count: value)
                text("\r\n")
            }
        }
    }

    private mutating func longLine() {
        let choice = program.byte()
        let length = max(0, min(maxInlineLength, 70_000) + Int(choice % 5) - 2)
        let terminated = choice & 0x20 != 0
        switch (choice >> 3) % 3 {
        case 0:
            tile([UInt8(ascii: "i")], count: length)
            if terminated { text("\r\n") }
        case 1:
            text("*")
            tile([UInt8(ascii: "1")], count: length)
            if terminated { text("\r\n") }
        default:
            text("*1\r\n$")
            tile([UInt8(ascii: "2")], count: length)
            if terminated { text("\r\n") }
        }
    }

    private mutating func mutate() {
        let kind = program.byte()
        let position = Int(program.uint16())
        guard !stream.isEmpty else { return }
        let index = position % stream.count
        switch kind % 5 {
        case 0: stream[index] = program.byte()
        case 1: stream.remove(at: index)
        case 2: stream.insert(0x0D, at: index)
        case 3: stream.insert(0x0A, at: index)
        default: stream.removeLast(stream.count - index)
        }
        lastPiece = 0..<0
    }

    private mutating func newlineOnly() {
        let lines = ["*2", "$4", "ECHO", "$2", "hi"]
        let bare = Int(program.byte()) % 4
        for (index, line) in lines.enumerated() {
            text(line)
            text(index == bare || bare == 3 ? "\n" : "\r\n")
        }
    }

    private mutating func repeatLast() {
        let times = 1 + Int(program.byte()) % 8
        guard !lastPiece.isEmpty, lastPiece.upperBound <= stream.count else { return }
        let piece = Array(stream[lastPiece])
        for _ in 0..<times where stream.count < Self.maxStreamLength { stream.append(contentsOf: piece) }
    }
}
