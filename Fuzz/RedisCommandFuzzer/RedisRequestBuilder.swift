import FuzzSupport
@_spi(Fuzzing) import ReactorRedisStore

/// Turns the fuzz input's program into a stream of Redis requests: mostly well-formed multibulk requests naming the
/// store's real commands (``RedisCommands/names``) with arguments drawn from small vocabularies (four keys, so
/// commands meet on the same keys and on keys of the wrong type; numbers at and past their limits; the options the
/// commands know; short values; raw bytes), sometimes an inline request, a random command name, `HELLO` switching
/// protocols, `SELECT`, raw bytes, or `QUIT`. So libFuzzer's mutations of the program stay mostly valid commands,
/// with a few defects.
///
/// Operation (byte % 16), then its operands (missing bytes read as zero):
///
/// - 0–9: a command from the table (name byte: `names[n % count]`, bit 7 upper case), an argument-count byte (n % 5,
///   or with bit 7 set n % 16), then one argument each (a selector byte and its operands, see `argument()`);
/// - 10: the same with a made-up name: 1 + n % 8 raw bytes, or a table name with a letter changed;
/// - 11: an inline request (`name arg arg\r\n`) of a table command with up to three plain arguments;
/// - 12: `HELLO` with a version byte (`2`, `3`, or an argument) and sometimes `SETNAME name`;
/// - 13: `SELECT` a database byte (n % 18: 0–15, 16, -1);
/// - 14: 1 + n % 8 raw bytes (often a protocol error, or a request cut short);
/// - 15: with the next byte below 16, `QUIT`; otherwise the last request again, 1 + n % 4 times (pipelining).
///
/// Raw bytes may merge with or break the requests around them, so the checks never rely on how the stream was
/// built: they decode it as the server does.
struct RedisRequestBuilder {
    /// Streams stop growing past this many bytes.
    static let maxStreamLength = 32 << 10

    /// Keys: few, so commands meet on them.
    static let keys = ["k0", "k1", "k2", "k3"]
    /// Numbers at and past what the commands parse: integers at the 64-bit limits, floats, infinities, not-numbers.
    static let numbers = [
        "0", "1", "-1", "2", "3", "10", "100", "-100", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "1.5", "-0.5", "inf", "-inf", "+inf", "nan", "1e3", "0x10", "", " 1", "(1", "[a", "+",
        "-", "(5", "[", "*", "k*", "?0", "[k-l]*", "\\", "01", "-0", "4611686018427387904", "1e400",
    ]
    /// Options the commands know (and some they do not).
    static let options = [
        "EX", "PX", "EXAT", "PXAT", "NX", "XX", "GT", "LT", "CH", "INCR", "GET", "KEEPTTL", "WITHSCORES", "BYSCORE",
        "BYLEX", "REV", "LIMIT", "MATCH", "COUNT", "TYPE", "ASYNC", "SYNC", "AUTH", "SETNAME", "GETNAME", "ID", "DOCS",
        "INFO", "default", "string", "list", "set", "hash", "zset", "maxclients", "*", "HELP", "nosuch",
    ]

    private var program: FuzzInput
    private(set) var stream: [UInt8] = []
    private var last: Range<Int> = 0..<0

    init(program: UnsafeRawBufferPointer) {
        self.program = FuzzInput(data: program.baseAddress?.assumingMemoryBound(to: UInt8.self), size: program.count)
        stream.reserveCapacity(1024)
    }

    /// Runs the whole program.
    mutating func build() -> [UInt8] {
        while !program.isAtEnd && stream.count < Self.maxStreamLength {
            let start = stream.count
            let operation = program.byte() % 16
            switch operation {
            case 0...9: command(name: tableName())
            case 10: command(name: madeUpName())
            case 11: inline()
            case 12: hello()
            case 13: multibulk(["SELECT", ["0", "1", "2", "15", "16", "-1"][Int(program.byte()) % 6]].map(Self.bytes))
            case 14: raw(1 + Int(program.byte()) % 8)
            default:
                let next = program.byte()
                if next < 16 {
                    multibulk([Self.bytes("QUIT")])
                } else {
                    let piece = Array(stream[last])
                    for _ in 0...(Int(next) % 4) { stream.append(contentsOf: piece) }
                }
            }
            if stream.count > start && operation != 15 { last = start..<stream.count }
        }
        return stream
    }

    private static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A table name, in lower or upper case.
    private mutating func tableName() -> [UInt8] {
        let choice = Int(program.byte())
        let name = Self.bytes(RedisCommands.names[choice % RedisCommands.names.count])
        return choice & 0x80 == 0 ? name : name.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
    }

    /// Raw bytes, or a table name with one byte changed.
    private mutating func madeUpName() -> [UInt8] {
        let choice = Int(program.byte())
        if choice & 1 == 0 { return (0...(choice >> 1) % 8).map { _ in program.byte() } }
        var name = tableName()
        name[Int(program.byte()) % name.count] = program.byte()
        return name
    }

    private mutating func command(name: [UInt8]) {
        let countByte = Int(program.byte())
        let count = countByte & 0x80 == 0 ? countByte % 5 : countByte % 16
        multibulk([name] + (0..<count).map { _ in argument() })
    }

    /// One argument, by a selector byte (n % 8): a key (0–2: `keys[(n >> 3) % 4]`), a number (3–4: `numbers[next
    /// byte % count]`), an option (5: `options[next byte % count]`), a short value (6: (n >> 3) % 8 letters), or
    /// raw bytes (7: next byte % 16 of them).
    private mutating func argument() -> [UInt8] {
        let choice = Int(program.byte())
        switch choice % 8 {
        case 0, 1, 2: return Self.bytes(Self.keys[(choice >> 3) % Self.keys.count])
        case 3, 4: return Self.bytes(Self.numbers[Int(program.byte()) % Self.numbers.count])
        case 5: return Self.bytes(Self.options[Int(program.byte()) % Self.options.count])
        case 6: return (0..<((choice >> 3) % 8)).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        default: return (0..<(Int(program.byte()) % 16)).map { _ in program.byte() }
        }
    }

    /// `*n`, then each argument as a bulk string.
    private mutating func multibulk(_ arguments: [[UInt8]]) {
        stream.append(contentsOf: "*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            stream.append(contentsOf: "$\(argument.count)\r\n".utf8)
            stream.append(contentsOf: argument)
            stream.append(contentsOf: "\r\n".utf8)
        }
    }

    private mutating func inline() {
        var line = tableName()
        for _ in 0..<(Int(program.byte()) % 4) {
            let choice = Int(program.byte())
            let words = choice & 1 == 0 ? Self.keys : ["0", "1", "-1", "10", "EX", "WITHSCORES", "a", "*"]
            line += [UInt8(ascii: " ")] + Self.bytes(words[(choice >> 1) % words.count])
        }
        stream.append(contentsOf: line)
        stream.append(contentsOf: "\r\n".utf8)
    }

    private mutating func hello() {
        let choice = Int(program.byte())
        var arguments = [Self.bytes("HELLO")]
        switch choice % 4 {
        case 0: arguments.append(Self.bytes("3"))
        case 1: arguments.append(Self.bytes("2"))
        case 2: arguments.append(argument())
        default: break
        }
        if choice & 0x10 != 0 { arguments += [Self.bytes("SETNAME"), argument()] }
        multibulk(arguments)
    }

    private mutating func raw(_ count: Int) {
        for _ in 0..<count { stream.append(program.byte()) }
    }
}
