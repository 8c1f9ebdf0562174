import Testing

@testable import ReactorRESP

/// `RESPRequestDecoder` against the bytes redis 7 accepts and rejects (`src/networking.c`; the error texts were
/// checked against redis-server 7.0.15).
@Suite struct RESPDecoderTests {
    /// Decodes `text` once: the step and the arguments as strings.
    static func decode(
        _ bytes: [UInt8], _ decoder: RESPRequestDecoder = RESPRequestDecoder()
    ) -> (step: Result<RESPRequestDecoder.Step, RESPProtocolError>, arguments: [String]) {
        let arguments = RESPArguments()
        let step = bytes.withUnsafeBytes { buffer in
            Result { () throws(RESPProtocolError) in try decoder.decode(buffer, into: arguments) }
        }
        var strings: [String] = []
        if case .success(.request(let count, _)) = step {
            for index in 0..<count { strings.append(String(decoding: arguments[index], as: UTF8.self)) }
        }
        return (step, strings)
    }

    static func decode(
        _ text: String, _ decoder: RESPRequestDecoder = RESPRequestDecoder()
    ) -> (
        step: Result<RESPRequestDecoder.Step, RESPProtocolError>, arguments: [String]
    ) { decode(Array(text.utf8), decoder) }

    @Test func aMultibulkRequestIsDecodedInPlace() throws {
        let text = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
        let (step, arguments) = Self.decode(text + "*1\r\n$4\r\nPING\r\n")
        #expect(try step.get() == .request(argumentCount: 3, consumed: text.utf8.count))
        #expect(arguments == ["SET", "key", "value"])
        // Binary-safe: CR, LF and NUL inside a bulk string.
        let binary = RESPArguments()
        let request: [UInt8] = Array("*1\r\n$4\r\n".utf8) + [0x0D, 0x0A, 0x00, 0xFF] + [0x0D, 0x0A]
        let binaryStep = try request.withUnsafeBytes { try RESPRequestDecoder().decode($0, into: binary) }
        #expect(binaryStep == .request(argumentCount: 1, consumed: 14))
        #expect(Array(binary[0]) == [0x0D, 0x0A, 0x00, 0xFF], "the payload's exact bytes")
    }

    @Test func everyPrefixOfARequestAsksForMoreAndNeverTooMuch() throws {
        let request = Array("*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n".utf8)
        for length in 0..<request.count {
            let (step, _) = Self.decode(Array(request.prefix(length)))
            guard case .needMoreInput(let atLeast) = try step.get() else {
                Issue.record("prefix \(length): \(step)")
                continue
            }
            #expect(atLeast > length && atLeast <= request.count, "prefix \(length) asks for \(atLeast)")
        }
        let (step, arguments) = Self.decode(request)
        #expect(try step.get() == .request(argumentCount: 2, consumed: request.count))
        #expect(arguments == ["ECHO", "hello world"])
    }

    @Test func aRequestArrivingInPiecesResumesAfterItsLastCompleteArgument() throws {
        let request = Array("*4\r\n$4\r\nMSET\r\n$1\r\na\r\n$2\r\nbc\r\n$3\r\ndef\r\n".utf8)
        // Where each argument ends: after "*4\r\n" (4 bytes), each "$n\r\n" + n + "\r\n".
        let ends = [14, 21, 29, 38]
        let decoder = RESPRequestDecoder()
        let arguments = RESPArguments()
        var progress = RESPRequestDecoder.Progress()
        for length in 0...request.count {
            let prefix = Array(request.prefix(length))
            let resumed = try prefix.withUnsafeBytes { try decoder.decode($0, into: arguments, progress: &progress) }
            let (fresh, _) = Self.decode(prefix)
            #expect(try fresh.get() == resumed, "prefix \(length): the same answer as without progress")
            if length < request.count {
                let complete = ends.filter { $0 <= length }.count
                #expect(progress.checkedArguments == complete, "prefix \(length)")
                #expect(progress.checkedBytes == (complete == 0 ? 0 : ends[complete - 1]), "prefix \(length)")
            }
        }
        #expect(progress == RESPRequestDecoder.Progress(), "a complete request leaves no progress behind")
        let decoded = (0..<arguments.count).map { String(decoding: arguments[$0], as: UTF8.self) }
        #expect(decoded == ["MSET", "a", "bc", "def"], "recorded by the second pass")
        // Progress that does not fit the input (another connection's, say) is ignored, never trusted.
        var wrong = RESPRequestDecoder.Progress()
        _ = try Array(request.prefix(25)).withUnsafeBytes { try decoder.decode($0, into: arguments, progress: &wrong) }
        #expect(wrong.checkedArguments == 2)
        let step = try Array("*9\r\n".utf8).withUnsafeBytes {
            try decoder.decode($0, into: arguments, progress: &wrong)
        }
        #expect(wrong.checkedArguments == 0, "a progress beyond the input is dropped…")
        #expect(step == .needMoreInput(atLeast: 5), "…and the input decoded from its start")
    }

    @Test func storageForAHugeRequestIsGivenBackOnceAnswered() throws {
        // 100,000 empty arguments: 600 KB of input, 1.6 MB of (address, length) pairs while it is answered.
        let count = 100_000
        let request =
            Array("*\(count)\r\n".utf8) + Array(repeating: Array("$0\r\n\r\n".utf8), count: count).flatMap { $0 }
        let arguments = RESPArguments()
        let step = try request.withUnsafeBytes { try RESPRequestDecoder().decode($0, into: arguments) }
        #expect(step == .request(argumentCount: count, consumed: request.count))
        #expect(arguments.count == count && arguments.capacity >= count)
        arguments.releaseExcessCapacity()
        #expect(arguments.capacity == 64, "back to its initial storage")
        // A request within the retained capacity keeps its storage (no allocation for the next one like it).
        let small = Array("*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n".utf8)
        _ = try small.withUnsafeBytes { try RESPRequestDecoder().decode($0, into: arguments) }
        arguments.releaseExcessCapacity()
        #expect(arguments.capacity == 64 && arguments[1].count == 1)
    }

    @Test func aLargeBulkStringIsAskedForWhole() throws {
        // The header of a 100,000-byte value: the decoder asks for all of it (and the trailing CRLF) at once.
        let (step, _) = Self.decode("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nabc")
        let headers = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n".utf8.count
        #expect(try step.get() == .needMoreInput(atLeast: headers + 100_000 + 2))
    }

    @Test func inlineRequestsAreSplitLikeRedis() throws {
        #expect(Self.decode("PING\r\n").arguments == ["PING"])
        #expect(Self.decode("PING\n").arguments == ["PING"])
        #expect(Self.decode("   SET  k   v  \r\n").arguments == ["SET", "k", "v"])
        #expect(Self.decode("SET k \"a b\"\r\n").arguments == ["SET", "k", "a b"])
        #expect(Self.decode("ECHO \"\\x41\\n\\t\\\\\\\"\"\r\n").arguments == ["ECHO", "A\n\t\\\""])
        #expect(Self.decode("ECHO 'it\\'s'\r\n").arguments == ["ECHO", "it's"])
        #expect(Self.decode("PING a\"b c\"\r\n").arguments == ["PING", "ab c"])
        #expect(Self.decode("ECHO \"\"\r\n").arguments == ["ECHO", ""])
        #expect(try Self.decode("\r\n").step.get() == .skip(consumed: 2))
        #expect(try Self.decode("   \n").step.get() == .skip(consumed: 4))
        #expect(try Self.decode("*0\r\n").step.get() == .skip(consumed: 4))
        #expect(try Self.decode("*-1\r\n").step.get() == .skip(consumed: 5))
    }

    @Test func redisLenienciesAreKept() throws {
        // The two bytes after a bulk string and the byte after a count line's CR are not checked (as in redis).
        let (step, arguments) = Self.decode("*1\r\n$4\r\nPINGxx")
        #expect(try step.get() == .request(argumentCount: 1, consumed: 14))
        #expect(arguments == ["PING"])
        #expect(try Self.decode("*2147483647\r\n").step.get() == .needMoreInput(atLeast: 14))
    }

    @Test(arguments: [
        ("*\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*a\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*01\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*+1\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*-0\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*1 \r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*12345678901234567890\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*1\r\nx\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n"),
        ("*1\r\n:4\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"),
        ("*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        ("*1\r\n$04\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        ("*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        ("PING \"a\"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ("PING \"abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ("PING 'abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
    ])
    func malformedInputGetsRedissOwnError(input: String, reply: String) {
        let (step, _) = Self.decode(input)
        guard case .failure(let error) = step else {
            Issue.record("\(input.debugDescription): \(step)")
            return
        }
        #expect(String(decoding: error.reply, as: UTF8.self) == reply)
    }

    @Test func linesWithoutTheirEndAreBoundedBy64KiB() throws {
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 65_537)
        #expect(throws: RESPProtocolError.tooBigInlineRequest) { try Self.decode(long).step.get() }
        #expect(throws: RESPProtocolError.tooBigMultibulkCountString) {
            try Self.decode([UInt8(ascii: "*")] + long).step.get()
        }
        #expect(throws: RESPProtocolError.tooBigBulkCountString) {
            try Self.decode(Array("*1\r\n$".utf8) + [UInt8](repeating: UInt8(ascii: "1"), count: 65_540)).step.get()
        }
        // Up to the limit it waits.
        #expect(try Self.decode(Array(long.prefix(65_536))).step.get() == .needMoreInput(atLeast: 65_537))
    }

    @Test func configuredLimitsApply() {
        let decoder = RESPRequestDecoder(maxBulkLength: 10, maxArguments: 2)
        #expect(throws: RESPProtocolError.invalidBulkLength) { try Self.decode("*1\r\n$11\r\n", decoder).step.get() }
        #expect(throws: RESPProtocolError.invalidMultibulkLength) { try Self.decode("*3\r\n", decoder).step.get() }
        let step = try? Self.decode("*2\r\n$10\r\n", decoder).step.get()
        #expect(step == .needMoreInput(atLeast: 21))
    }

    /// The two bugs RESPRequestDecoderFuzzer found on its first run.
    @Test func aNulAfterAClosingQuoteAndABulkLengthNearIntMaxAreHandled() throws {
        #expect(Self.decode([UInt8]("ECHO \"a\"".utf8) + [0] + [UInt8]("b\r\n".utf8)).arguments == ["ECHO", "a", "b"])
        let unlimited = RESPRequestDecoder(maxBulkLength: .max)
        #expect(
            try Self.decode("*1\r\n$9223372036854775807\r\n", unlimited).step.get() == .needMoreInput(atLeast: .max))
        #expect(
            try Self.decode("*1\r\n$9223372036854775806\r\n", unlimited).step.get() == .needMoreInput(atLeast: .max))
    }

    @Test func integersFollowRedisString2ll() {
        func parse(_ text: String) -> Int? {
            Array(text.utf8).withUnsafeBytes { RESPRequestDecoder.parseInteger($0.baseAddress!, count: $0.count) }
        }
        #expect(parse("0") == 0)
        #expect(parse("-1") == -1)
        #expect(parse("9223372036854775807") == Int.max)
        #expect(parse("-9223372036854775808") == Int.min)
        for bad in ["9223372036854775808", "-9223372036854775809", "01", "+1", "-0", " 1", "1 ", "1.5", "-", "a"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
    }

    @Test func aCommandTableFindsEveryNameItHoldsAndNothingElse() {
        let names: [StaticString] = [
            "GET", "SET", "PING", "ECHO", "ZPOPMIN", "SISMEMBER", "FLUSHALL", "A", "0123456789ABCDEF", "CLIENT",
            "HOST:",
        ]
        let table = RESPCommandTable(names.enumerated().map { (RESPCommandName($0.element), $0.offset) })
        #expect(table.count == names.count)
        for (index, name) in names.enumerated() {
            #expect(table[RESPCommandName(name)] == index, "\(name)")
        }
        let bytes = Array("zPopMin".utf8)
        #expect(bytes.withUnsafeBytes { table[RESPCommandName(bytes: $0)!] } == 4, "any case")
        for absent: StaticString in ["GE", "GETS", "", "0123456789ABCDEE", "SET ", "POST"] {
            #expect(table[RESPCommandName(absent)] == nil, "\(absent)")
        }
    }

    @Test func commandNamesCompareIgnoringCase() {
        let arguments = RESPArguments()
        let bytes = Array("*2\r\n$3\r\nsEt\r\n$2\r\nnX\r\n".utf8)
        bytes.withUnsafeBytes { buffer in
            _ = try? RESPRequestDecoder().decode(buffer, into: arguments)
        }
        #expect(RESPCommandName(bytes: arguments[0]) == RESPCommandName("SET"))
        #expect(RESPCommandName(bytes: arguments[0]) != RESPCommandName("GET"))
        #expect(RESPCommandName("zpopmin").description == "ZPOPMIN")
    }
}
