/// Input that can never form a Redis request. Each case is one of the protocol errors redis sends, with the same
/// text (redis 7, `src/networking.c`, `processInlineBuffer` and `processMultibulkBuffer`); after the reply the
/// connection closes, as redis closes a client with `CLIENT_CLOSE_AFTER_REPLY`.
public enum RESPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An inline request with no newline in more than ``RESPRequestDecoder/maxInlineLength`` bytes.
    case tooBigInlineRequest
    /// An inline request whose quotes do not balance (or a closing quote not followed by a space).
    case unbalancedQuotes
    /// A `*` count line with no `\r` in more than ``RESPRequestDecoder/maxInlineLength`` bytes.
    case tooBigMultibulkCountString
    /// A `*` count that is not a number, or above ``RESPRequestDecoder/maxArguments``.
    case invalidMultibulkLength
    /// A `$` length line with no `\r` in more than ``RESPRequestDecoder/maxInlineLength`` bytes.
    case tooBigBulkCountString
    /// An argument of a multibulk request that does not start with `$` (`got` is the byte found).
    case expectedDollar(got: UInt8)
    /// A `$` length that is not a number, negative, or above ``RESPRequestDecoder/maxBulkLength``.
    case invalidBulkLength

    /// The text after `-ERR ` in redis's reply.
    public var description: String {
        switch self {
        case .tooBigInlineRequest: return "Protocol error: too big inline request"
        case .unbalancedQuotes: return "Protocol error: unbalanced quotes in request"
        case .tooBigMultibulkCountString: return "Protocol error: too big mbulk count string"
        case .invalidMultibulkLength: return "Protocol error: invalid multibulk length"
        case .tooBigBulkCountString: return "Protocol error: too big bulk count string"
        case .expectedDollar(let got):
            return "Protocol error: expected '$', got '" + String(decoding: [got], as: UTF8.self) + "'"
        case .invalidBulkLength: return "Protocol error: invalid bulk length"
        }
    }

    /// The whole error reply, as redis sends it: `-ERR Protocol error: …\r\n` (the offending byte of
    /// ``expectedDollar(got:)`` raw, as redis's `%c` prints it).
    public var reply: [UInt8] {
        switch self {
        case .expectedDollar(let got):
            return Array("-ERR Protocol error: expected '$', got '".utf8) + [got] + Array("'\r\n".utf8)
        default:
            return Array("-ERR \(description)\r\n".utf8)
        }
    }
}
