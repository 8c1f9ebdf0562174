/// Finds one Redis request at the start of a connection's unconsumed bytes: a multibulk array of bulk strings
/// (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every client library sends) or an inline command (`PING\r\n`, what
/// `telnet` and `redis-cli --pipe` send), the two forms redis accepts (redis 7, `src/networking.c`).
///
/// Like a ``MessageDecoder`` its answer is a function of the bytes it is shown: it either finds a complete request,
/// whose arguments it records in a ``RESPArguments`` (views into the input, no copy), or says how many bytes it
/// needs before it can say more, so a large bulk string is not re-scanned as it arrives. Every length is checked
/// against its limit before more bytes are asked for. A multibulk request of many small arguments that arrives in
/// pieces is not re-scanned from its start either: the caller keeps a ``Progress`` per connection and the decoder
/// resumes at the first argument it has not checked yet (redis keeps `multibulklen`/`bulklen` per client for the
/// same reason), so a request of `n` arguments costs O(`n`) however it is cut.
///
/// Where redis is lenient this decoder is too, so that what redis accepts it accepts: the byte after a `\r` that
/// ends a count or length line, and the two bytes after a bulk string, are skipped unchecked; numbers follow redis's
/// `string2ll` (no sign but `-`, no leading zeros, no spaces); `*0` and `*-1` are skipped without a reply, as are
/// empty inline lines. One divergence: a NUL byte in an inline line separates arguments here, where redis's C
/// string functions would stop at it.
public struct RESPRequestDecoder: Sendable {
    /// The longest bulk string accepted, in bytes (redis's `proto-max-bulk-len`, 512 MiB by default). A server
    /// also bounds it by ``ConnectionLimits/maxBufferedInput``: a request must fit in what a connection may buffer.
    public var maxBulkLength: Int
    /// The most arguments in one multibulk request, command name included (redis's `INT_MAX` by default). Memory
    /// for them grows with the arguments that arrive, not with the count a peer declares, and the whole request
    /// must fit ``ConnectionLimits/maxBufferedInput`` anyway.
    public var maxArguments: Int
    /// The longest count line, length line or inline request without its newline (redis's
    /// `PROTO_INLINE_MAX_SIZE`, 64 KiB).
    public var maxInlineLength: Int

    /// A decoder with redis's limits unless given others.
    public init(
        maxBulkLength: Int = 512 << 20, maxArguments: Int = Int(Int32.max), maxInlineLength: Int = 64 << 10
    ) {
        precondition(maxBulkLength >= 0 && maxArguments >= 1 && maxInlineLength >= 1, "RESP limits out of range")
        self.maxBulkLength = maxBulkLength
        self.maxArguments = maxArguments
        self.maxInlineLength = maxInlineLength
    }

    /// What ``decode(_:into:)`` found at the start of its input.
    public enum Step: Hashable, Sendable {
        /// A complete request of `argumentCount` arguments (in the ``RESPArguments``), the first `consumed` bytes.
        case request(argumentCount: Int, consumed: Int)
        /// The first `consumed` bytes hold nothing to answer (an empty inline line, `*0`, `*-1`): drop them.
        case skip(consumed: Int)
        /// No complete request yet: at least `atLeast` bytes (from the start of the input) are needed.
        case needMoreInput(atLeast: Int)
    }

    /// How much of a multibulk request that has not completely arrived was already checked: the offset just past
    /// its last complete argument, and how many arguments that is. Zero (the initial value) when no request is in
    /// progress. One per connection, owned by the caller and handed to every
    /// ``decode(_:into:progress:)`` for that connection; it is only valid while the bytes it describes stay the
    /// first bytes of the input (the caller consumes nothing of a request in progress).
    public struct Progress: Hashable, Sendable {
        /// Bytes from the start of the input already checked (the end of the last complete argument).
        public internal(set) var checkedBytes = 0
        /// Arguments within ``checkedBytes``, the command name included.
        public internal(set) var checkedArguments = 0

        /// No request in progress.
        public init() {}

        init(checkedBytes: Int, checkedArguments: Int) {
            self.checkedBytes = checkedBytes
            self.checkedArguments = checkedArguments
        }
    }

    /// Looks for one request at the start of `input`, recording its arguments in `arguments`, with no progress
    /// kept between calls (a request that arrives in pieces is re-checked from its start each time).
    /// - Throws: ``RESPProtocolError`` for input redis answers with `-ERR Protocol error: …` (and then closes).
    @inline(__always)
    public func decode(
        _ input: UnsafeRawBufferPointer, into arguments: RESPArguments
    ) throws(RESPProtocolError) -> Step {
        var progress = Progress()
        return try decode(input, into: arguments, progress: &progress)
    }

    /// Looks for one request at the start of `input`, recording its arguments in `arguments`; resumes checking a
    /// multibulk request at `progress` (see ``Progress``) and leaves there how far it got when it returns
    /// ``Step/needMoreInput(atLeast:)``, or zero with any other answer. The answer is the same as with a fresh
    /// `progress`, only cheaper.
    /// - Throws: ``RESPProtocolError`` for input redis answers with `-ERR Protocol error: …` (and then closes);
    ///   `progress` is then zero.
    @inline(__always)
    public func decode(
        _ input: UnsafeRawBufferPointer, into arguments: RESPArguments, progress: inout Progress
    ) throws(RESPProtocolError) -> Step {
        guard let base = input.baseAddress, input.count > 0 else {
            progress = Progress()
            return .needMoreInput(atLeast: 1)
        }
        if base.load(as: UInt8.self) == UInt8(ascii: "*") {
            return try decodeMultibulk(base, count: input.count, into: arguments, progress: &progress)
        }
        progress = Progress()
        return try decodeInline(base, count: input.count, into: arguments)
    }

    // MARK: Multibulk

    @inline(__always)
    private func decodeMultibulk(
        _ base: UnsafeRawPointer, count total: Int, into arguments: RESPArguments, progress: inout Progress
    ) throws(RESPProtocolError) -> Step {
        // Any answer but "need more" ends the request in progress: the progress starts from zero again.
        let resumed = progress
        progress = Progress()
        guard let countEnd = Self.firstIndex(of: UInt8(ascii: "\r"), in: base, from: 1, to: total) else {
            if total > maxInlineLength { throw .tooBigMultibulkCountString }
            return .needMoreInput(atLeast: total + 1)
        }
        // redis skips the byte after `\r` without looking at it.
        guard countEnd + 2 <= total else { return .needMoreInput(atLeast: countEnd + 2) }
        guard let declared = Self.parseInteger(base + 1, count: countEnd - 1), declared <= Int(Int32.max) else {
            throw .invalidMultibulkLength
        }
        let firstArgument = countEnd + 2
        if declared <= 0 { return .skip(consumed: firstArgument) }
        if declared > maxArguments { throw .invalidMultibulkLength }
        // Resume after the arguments checked by an earlier call, if its figures fit this request (a caller's
        // stale progress costs a re-check, never a wrong answer or a read out of bounds).
        let resuming =
            resumed.checkedArguments > 0 && resumed.checkedArguments < declared
            && resumed.checkedBytes > firstArgument && resumed.checkedBytes <= total
        var position = resuming ? resumed.checkedBytes : firstArgument
        var index = resuming ? resumed.checkedArguments : 0
        // Arguments are recorded as they are checked, unless some were checked by an earlier call: then in a
        // second pass once the request is complete.
        if !resuming { arguments.reset(expected: min(declared, 1024)) }
        while index < declared {
            guard let (start, length) = try checkArgument(at: position, base, count: total) else {
                if index > 0 { progress = Progress(checkedBytes: position, checkedArguments: index) }
                return .needMoreInput(atLeast: Self.neededForArgument(at: position, base, count: total))
            }
            if !resuming { arguments.append(base + start, count: length) }
            position = start + length + 2
            index += 1
        }
        if resuming { Self.recordArguments(declared, from: firstArgument, base, into: arguments) }
        return .request(argumentCount: declared, consumed: position)
    }

    /// Checks the bulk string argument at `position`: its payload's offset and length, or nil if it has not
    /// completely arrived (``neededForArgument(at:_:count:)`` says how many bytes it needs).
    @inline(__always)
    private func checkArgument(
        at position: Int, _ base: UnsafeRawPointer, count total: Int
    ) throws(RESPProtocolError) -> (start: Int, length: Int)? {
        guard position < total else { return nil }
        guard let lengthEnd = Self.firstIndex(of: UInt8(ascii: "\r"), in: base, from: position, to: total) else {
            if total - position > maxInlineLength { throw .tooBigBulkCountString }
            return nil
        }
        guard lengthEnd + 2 <= total else { return nil }
        let marker = base.load(fromByteOffset: position, as: UInt8.self)
        if marker != UInt8(ascii: "$") { throw .expectedDollar(got: marker) }
        guard let length = Self.parseInteger(base + position + 1, count: lengthEnd - position - 1),
            length >= 0, length <= maxBulkLength
        else { throw .invalidBulkLength }
        let start = lengthEnd + 2
        // The payload and the two bytes after it (redis skips them unchecked). `length` may be near `Int.max` when
        // the limit allows it: compare against what is left instead of adding to `start`.
        guard length <= total - start - 2 else { return nil }
        return (start, length)
    }

    /// The bytes needed before the argument at `position`, which ``checkArgument(at:_:count:)`` found incomplete
    /// (and valid so far), can be checked further: its length line, then its payload and the two bytes after it.
    private static func neededForArgument(at position: Int, _ base: UnsafeRawPointer, count total: Int) -> Int {
        guard position < total else { return position + 1 }
        guard let lengthEnd = firstIndex(of: UInt8(ascii: "\r"), in: base, from: position, to: total) else {
            return total + 1
        }
        guard lengthEnd + 2 <= total else { return lengthEnd + 2 }
        let length = parseInteger(base + position + 1, count: lengthEnd - position - 1).unsafelyUnwrapped
        let (needed, overflow) = (lengthEnd + 2).addingReportingOverflow(length &+ 2)
        return overflow || length > Int.max - 2 ? Int.max : needed
    }

    /// Records the `count` arguments from `position` on, all checked already: the second pass of a request that
    /// arrived in pieces.
    private static func recordArguments(
        _ count: Int, from position: Int, _ base: UnsafeRawPointer, into arguments: RESPArguments
    ) {
        arguments.reset(expected: count)
        var position = position
        for _ in 0..<count {
            let lengthEnd = firstIndex(of: UInt8(ascii: "\r"), in: base, from: position, to: Int.max).unsafelyUnwrapped
            let length = parseInteger(base + position + 1, count: lengthEnd - position - 1).unsafelyUnwrapped
            arguments.append(base + lengthEnd + 2, count: length)
            position = lengthEnd + 2 + length + 2
        }
    }

    // MARK: Inline

    /// An inline request: one line, split like redis's `sdssplitargs` (blanks separate arguments; `"…"` takes the
    /// escapes `\n \r \t \b \a \xHH` and `\c` for any other `c`; `'…'` takes only `\'`; a closing quote must be
    /// followed by a blank or the end of the line).
    @inline(__always)
    private func decodeInline(
        _ base: UnsafeRawPointer, count total: Int, into arguments: RESPArguments
    ) throws(RESPProtocolError) -> Step {
        guard let newline = Self.firstIndex(of: UInt8(ascii: "\n"), in: base, from: 0, to: total) else {
            if total > maxInlineLength { throw .tooBigInlineRequest }
            return .needMoreInput(atLeast: total + 1)
        }
        var end = newline
        if end > 0 && base.load(fromByteOffset: end - 1, as: UInt8.self) == UInt8(ascii: "\r") { end -= 1 }
        arguments.reset(expected: 8, scratchBytes: end)
        try Self.splitInline(base, count: end, into: arguments)
        let count = arguments.count
        return count == 0 ? .skip(consumed: newline + 1) : .request(argumentCount: count, consumed: newline + 1)
    }

    private static func splitInline(
        _ base: UnsafeRawPointer, count end: Int, into arguments: RESPArguments
    ) throws(RESPProtocolError) {
        @inline(__always) func byte(_ index: Int) -> UInt8 {
            index < end ? base.load(fromByteOffset: index, as: UInt8.self) : 0
        }
        var position = 0
        while true {
            while position < end && isBlankOrNul(byte(position)) { position += 1 }
            if position >= end { return }
            // A plain token is a view into the input; one with quotes is built, unescaped, in the scratch bytes.
            let tokenStart = position
            while position < end && !isSeparator(byte(position)) && !isQuote(byte(position)) { position += 1 }
            if position >= end || isSeparator(byte(position)) {
                arguments.append(base + tokenStart, count: position - tokenStart)
                continue
            }
            let scratchStart = arguments.beginScratchArgument()
            for index in tokenStart..<position { arguments.appendScratchByte(byte(index)) }
            var inDouble = false
            var inSingle = false
            while true {
                if inDouble {
                    if position >= end { throw .unbalancedQuotes }
                    let current = byte(position)
                    if current == UInt8(ascii: "\\") && byte(position + 1) == UInt8(ascii: "x")
                        && isHexDigit(byte(position + 2)) && isHexDigit(byte(position + 3))
                    {
                        arguments.appendScratchByte(hexValue(byte(position + 2)) << 4 | hexValue(byte(position + 3)))
                        position += 3
                    } else if current == UInt8(ascii: "\\") && position + 1 < end {
                        position += 1
                        switch byte(position) {
                        case UInt8(ascii: "n"): arguments.appendScratchByte(0x0A)
                        case UInt8(ascii: "r"): arguments.appendScratchByte(0x0D)
                        case UInt8(ascii: "t"): arguments.appendScratchByte(0x09)
                        case UInt8(ascii: "b"): arguments.appendScratchByte(0x08)
                        case UInt8(ascii: "a"): arguments.appendScratchByte(0x07)
                        case let other: arguments.appendScratchByte(other)
                        }
                    } else if current == UInt8(ascii: "\"") {
                        if position + 1 < end && !isBlankOrNul(byte(position + 1)) { throw .unbalancedQuotes }
                        inDouble = false
                        position += 1
                        break
                    } else {
                        arguments.appendScratchByte(current)
                    }
                } else if inSingle {
                    if position >= end { throw .unbalancedQuotes }
                    let current = byte(position)
                    if current == UInt8(ascii: "\\") && byte(position + 1) == UInt8(ascii: "'") {
                        arguments.appendScratchByte(UInt8(ascii: "'"))
                        position += 1
                    } else if current == UInt8(ascii: "'") {
                        if position + 1 < end && !isBlankOrNul(byte(position + 1)) { throw .unbalancedQuotes }
                        inSingle = false
                        position += 1
                        break
                    } else {
                        arguments.appendScratchByte(current)
                    }
                } else {
                    if position >= end { break }
                    let current = byte(position)
                    if isSeparator(current) { break }
                    if current == UInt8(ascii: "\"") {
                        inDouble = true
                    } else if current == UInt8(ascii: "'") {
                        inSingle = true
                    } else {
                        arguments.appendScratchByte(current)
                    }
                }
                position += 1
            }
            arguments.endScratchArgument(from: scratchStart)
        }
    }

    // MARK: Bytes and numbers

    /// `isspace` in the C locale: space, `\t`, `\n`, `\v`, `\f`, `\r`.
    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

    /// A blank, or NUL (which separates arguments here; see the type's documentation).
    @inline(__always)
    static func isBlankOrNul(_ byte: UInt8) -> Bool { byte == 0 || isBlank(byte) }

    /// What ends an unquoted inline token in `sdssplitargs`: space, `\n`, `\r`, `\t`, NUL.
    @inline(__always)
    static func isSeparator(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 || byte == 0
    }

    @inline(__always)
    static func isQuote(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") }

    @inline(__always)
    static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8 { byte <= 0x39 ? byte - 0x30 : (byte | 0x20) - 0x61 + 10 }

    /// The first `byte` in `base[from..<to]`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in base: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        var index = from
        while index < to {
            if base.load(fromByteOffset: index, as: UInt8.self) == byte { return index }
            index += 1
        }
        return nil
    }

    /// redis's `string2ll`: `0`, or an optional `-` then a digit 1–9 and more digits, fitting an `Int64`; nothing
    /// else (no `+`, no leading zeros, no `-0`, no blanks, at most 20 characters).
    @inline(__always)
    public static func parseInteger(_ start: UnsafeRawPointer, count: Int) -> Int? {
        if count == 0 || count > 20 { return nil }
        var index = 0
        let first = start.load(as: UInt8.self)
        if count == 1 && first == UInt8(ascii: "0") { return 0 }
        let negative = first == UInt8(ascii: "-")
        if negative {
            index = 1
            if count == 1 { return nil }
        }
        let leading = start.load(fromByteOffset: index, as: UInt8.self)
        guard leading >= UInt8(ascii: "1") && leading <= UInt8(ascii: "9") else { return nil }
        var magnitude: UInt64 = 0
        while index < count {
            let digit = start.load(fromByteOffset: index, as: UInt8.self) &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times, overflowA) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times.addingReportingOverflow(UInt64(digit))
            if overflowA || overflowB { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int(Int64.min) : -Int(magnitude)
        }
        return magnitude > UInt64(Int64.max) ? nil : Int(magnitude)
    }
}
