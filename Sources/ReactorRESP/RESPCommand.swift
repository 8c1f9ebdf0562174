/// One decoded request, borrowed for the duration of ``RESPCommandHandler/onCommand(_:state:connection:)``: the
/// command name (argument 0) and its arguments, as views into the connection's inbound bytes (no copy).
///
/// `~Copyable` and handed out `borrowing` with no public initialiser, so it cannot be kept; ``subscript(_:)`` gives
/// each argument as a `RawSpan` borrowed from it. Copy what you need to keep (a key or value you store).
public struct RESPCommand: ~Copyable {
    @usableFromInline unowned(unsafe) let arguments: RESPArguments

    @usableFromInline
    init(arguments: RESPArguments) {
        self.arguments = arguments
    }

    /// Arguments including the command name (redis's `argc`).
    @inlinable
    public var count: Int { arguments.count }

    /// Argument `index` (0: the command name).
    @inlinable
    public subscript(index: Int) -> RawSpan {
        @_lifetime(borrow self)
        get {
            let bytes = arguments[index]
            let span = RawSpan(_unsafeBytes: bytes)
            return _overrideLifetime(span, borrowing: self)
        }
    }

    /// Calls `body` with argument `index`; the pointer must not escape `body`.
    @inlinable
    public func withArgument<Result, Failure: Error>(
        _ index: Int, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(arguments[index])
    }

    /// The command name, upper-cased, as a key for dispatch (nil if longer than 16 bytes: no command is).
    @inlinable
    public var name: RESPCommandName? { RESPCommandName(bytes: arguments[0]) }

    /// Whether argument `index` equals `word`, ignoring ASCII case (for options like `EX`, `NX`, `WITHSCORES`).
    @inlinable
    public func argument(_ index: Int, equalsIgnoringCase word: StaticString) -> Bool {
        let bytes = arguments[index]
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        let expected = word.utf8Start
        for offset in 0..<bytes.count
        where RESPCommandName.upper(bytes[offset]) != RESPCommandName.upper(expected[offset]) {
            return false
        }
        return true
    }

    /// Argument `index` as a 64-bit integer under redis's rules (`string2ll`: no `+`, no leading zeros, no blanks),
    /// or nil.
    @inlinable
    public func integer(at index: Int) -> Int? {
        let bytes = arguments[index]
        guard let start = bytes.baseAddress else { return nil }
        return RESPRequestDecoder.parseInteger(start, count: bytes.count)
    }
}

/// A command name upper-cased and packed into 16 bytes: a `Hashable` key to dispatch on without allocating
/// (`switch command.name { case RESPCommandName("GET"): … }` compares two words).
public struct RESPCommandName: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline var low: UInt64
    @usableFromInline var high: UInt64
    @usableFromInline var length: UInt8

    /// The name `literal` (ASCII, at most 16 bytes), upper-cased.
    public init(_ literal: StaticString) {
        precondition(literal.utf8CodeUnitCount <= 16, "command names are at most 16 bytes")
        self.init(bytes: UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))!
    }

    /// `bytes` upper-cased, or nil if longer than 16 bytes.
    @inlinable
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count <= 16 else { return nil }
        low = 0
        high = 0
        length = UInt8(bytes.count)
        for index in 0..<bytes.count {
            let byte = UInt64(Self.upper(bytes[index]))
            if index < 8 { low |= byte << (8 * UInt64(index)) } else { high |= byte << (8 * UInt64(index - 8)) }
        }
    }

    @inlinable
    static func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }

    public var description: String {
        var bytes: [UInt8] = []
        for index in 0..<Int(length) {
            bytes.append(
                UInt8(truncatingIfNeeded: index < 8 ? low >> (8 * UInt64(index)) : high >> (8 * UInt64(index - 8))))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
