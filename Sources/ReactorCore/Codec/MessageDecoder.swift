/// Finds message boundaries in a connection's unconsumed bytes: level 2 of the stream API.
///
/// A decoder is a pure function of the bytes it is shown. ``decode(_:newBytesAt:)`` looks at the start of `input`
/// (every byte the connection has not consumed yet, the first one being the first byte of the next message) and
/// either finds one complete message there or says how many bytes it needs. It returns offsets, never pointers, so
/// no view of the input outlives the call, and it keeps no per-connection state: `newBytesAt` tells it where the
/// bytes it has not seen before start, so a scanning decoder never re-reads bytes it already looked at.
///
/// Pair a decoder with a ``MessageHandler`` through ``Decoded``, which the compiler specialises for both: no
/// existential and no allocation on the read path. Built in: ``LengthFieldDecoder`` (Netty's
/// `LengthFieldBasedFrameDecoder` parameters) and ``DelimiterDecoder`` (lines and other delimited records).
///
/// A decoder must check every size it reads from the input against its own limit before asking for more bytes
/// (throwing ``MessageDecodingError``), so that buffered memory grows with bytes that arrived, never with lengths a
/// peer declared.
public protocol MessageDecoder: Sendable {
    /// Looks for one message at the start of `input`.
    ///
    /// - Parameters:
    ///   - input: the connection's unconsumed bytes; valid for this call only.
    ///   - newBytesAt: the offset in `input` of the first byte this decoder has not been shown before (0 after a
    ///     message was consumed; the length of the previous call's input when it asked for more).
    /// - Returns: ``DecodeStep/message(payload:consumed:)`` with offsets into `input`, or
    ///   ``DecodeStep/needMoreInput(atLeast:)`` with the total input length needed before the next call.
    /// - Throws: ``MessageDecodingError`` when the input can never form a valid message; the connection then
    ///   closes gracefully (replies to earlier messages are delivered first).
    func decode(_ input: RawSpan, newBytesAt: Int) throws(MessageDecodingError) -> DecodeStep
}

/// What a ``MessageDecoder`` found at the start of its input.
public enum DecodeStep: Hashable, Sendable {
    /// A complete message: its payload (the part handed to the handler, for example without a length field or
    /// delimiter) spans `payload`, and the first `consumed` bytes of the input (payload, headers, delimiters) are
    /// done with. `payload` lies within `0..<consumed`.
    case message(payload: Range<Int>, consumed: Int)
    /// No complete message yet; the decoder needs at least `atLeast` bytes of input (counted from the start of the
    /// input it was shown) before it can say more. The loop does not call it again until that many have arrived.
    case needMoreInput(atLeast: Int)
}

/// Why a ``MessageDecoder`` gave up on a stream. The connection closes gracefully with the matching
/// ``CloseReason``: ``CloseReason/frameTooLong(length:limit:)`` or ``CloseReason/decodingFailed(_:)``.
public enum MessageDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A declared length (`length` bytes after the length field, adjustment applied) exceeds `limit`.
    case frameTooLong(length: Int, limit: Int)
    /// More than `limit` bytes arrived without a delimiter.
    case lineTooLong(limit: Int)
    /// A length field whose value cannot describe a frame: negative after the length adjustment, or shorter than
    /// the bytes to strip. `value` is the adjusted length.
    case invalidLengthField(value: Int)
    /// Input that breaks the protocol's syntax; `reason` is the protocol's own description (for RESP, the text of
    /// redis's `-ERR Protocol error: …` reply).
    case malformedMessage(String)

    public var description: String {
        switch self {
        case .frameTooLong(let length, let limit): return "frame too long (\(length) > \(limit) bytes)"
        case .lineTooLong(let limit): return "no delimiter within \(limit) bytes"
        case .invalidLengthField(let value): return "invalid length field (adjusted length \(value))"
        case .malformedMessage(let reason): return reason
        }
    }
}
