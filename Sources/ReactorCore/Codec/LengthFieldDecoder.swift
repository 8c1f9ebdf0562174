/// Splits a stream into frames announced by a length field, with the parameters of Netty's
/// `LengthFieldBasedFrameDecoder`.
///
/// A frame on the wire is `lengthFieldOffset` bytes of prefix, a `lengthFieldLength`-byte unsigned length `L`
/// (big or little endian), then `L + lengthAdjustment` more bytes. The handler gets the frame without its first
/// `initialBytesToStrip` bytes. The default (offset 0, 4 bytes, big endian, adjustment 0, strip 4, max 1 MiB) is
/// the framework's own echo protocol: a 4-byte big-endian payload length, then the payload.
///
/// ```
/// offset 0, 2-byte little-endian length, strip 2     02 00 'h' 'i'            -> "hi"
/// length counts the header: adjustment -4, strip 4   00 00 00 06 'h' 'i'      -> "hi"
/// 1-byte type before the length: offset 1, strip 0   07 00 00 00 02 'h' 'i'   -> the whole 7-byte frame
/// ```
///
/// The declared length is checked against ``maxFrameLength`` as soon as the length field has arrived, before a
/// single body byte is buffered. A complete frame is handed out in place (no copy); the decoder keeps no state.
public struct LengthFieldDecoder: MessageDecoder, Hashable {
    /// The order of the length field's bytes.
    public enum ByteOrder: Hashable, Sendable {
        case bigEndian
        case littleEndian
    }

    /// Bytes before the length field (a type byte, a magic number…); they belong to the frame.
    public let lengthFieldOffset: Int
    /// Width of the length field in bytes: 1, 2, 3, 4 or 8.
    public let lengthFieldLength: Int
    /// Byte order of the length field.
    public let byteOrder: ByteOrder
    /// Added to the length field's value to get the number of bytes that follow the length field (negative when
    /// the value counts the header too, positive when it leaves out a trailer).
    public let lengthAdjustment: Int
    /// Bytes dropped from the front of each frame before it is handed to the handler.
    public let initialBytesToStrip: Int
    /// The largest number of bytes after the length field (value + adjustment); for the default format that is
    /// the payload length. A larger declared length throws ``MessageDecodingError/frameTooLong(length:limit:)``
    /// before anything is buffered.
    public let maxFrameLength: Int

    /// A decoder with Netty's parameters; `initialBytesToStrip` defaults to the end of the length field (the handler
    /// gets what follows it).
    public init(
        lengthFieldOffset: Int = 0,
        lengthFieldLength: Int = 4,
        byteOrder: ByteOrder = .bigEndian,
        lengthAdjustment: Int = 0,
        initialBytesToStrip: Int? = nil,
        maxFrameLength: Int = 1 << 20
    ) {
        precondition(LengthFieldEncoder.isValidWidth(lengthFieldLength), "lengthFieldLength must be 1, 2, 3, 4 or 8")
        precondition(lengthFieldOffset >= 0, "lengthFieldOffset must not be negative")
        precondition(maxFrameLength >= 0, "maxFrameLength must not be negative")
        let strip = initialBytesToStrip ?? (lengthFieldOffset + lengthFieldLength)
        precondition(strip >= 0, "initialBytesToStrip must not be negative")
        self.lengthFieldOffset = lengthFieldOffset
        self.lengthFieldLength = lengthFieldLength
        self.byteOrder = byteOrder
        self.lengthAdjustment = lengthAdjustment
        self.initialBytesToStrip = strip
        self.maxFrameLength = maxFrameLength
    }

    /// Bytes up to the end of the length field.
    @inlinable
    public var headerLength: Int { lengthFieldOffset + lengthFieldLength }

    @inlinable @inline(__always)
    public func decode(_ input: RawSpan, newBytesAt: Int) throws(MessageDecodingError) -> DecodeStep {
        let headerEnd = lengthFieldOffset + lengthFieldLength
        let available = input.byteCount
        if available < headerEnd { return .needMoreInput(atLeast: headerEnd) }
        let raw = readLength(input, at: lengthFieldOffset)
        if raw > UInt64(Int.max / 2) { throw .frameTooLong(length: Int.max, limit: maxFrameLength) }
        let bodyLength = Int(raw) + lengthAdjustment
        if bodyLength > maxFrameLength { throw .frameTooLong(length: bodyLength, limit: maxFrameLength) }
        let frameLength = headerEnd + bodyLength
        if bodyLength < 0 || frameLength < initialBytesToStrip { throw .invalidLengthField(value: bodyLength) }
        if available < frameLength { return .needMoreInput(atLeast: frameLength) }
        return .message(payload: initialBytesToStrip..<frameLength, consumed: frameLength)
    }

    /// The length field's unsigned value at `offset`.
    @inlinable @inline(__always)
    func readLength(_ input: RawSpan, at offset: Int) -> UInt64 {
        switch lengthFieldLength {
        case 4:
            let value = input.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt32.self)
            return UInt64(byteOrder == .bigEndian ? UInt32(bigEndian: value) : UInt32(littleEndian: value))
        case 2:
            let value = input.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt16.self)
            return UInt64(byteOrder == .bigEndian ? UInt16(bigEndian: value) : UInt16(littleEndian: value))
        case 1:
            return UInt64(input.unsafeLoad(fromByteOffset: offset, as: UInt8.self))
        case 8:
            let value = input.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt64.self)
            return byteOrder == .bigEndian ? UInt64(bigEndian: value) : UInt64(littleEndian: value)
        default:  // 3
            var value: UInt64 = 0
            for index in 0..<3 {
                let byte = UInt64(input.unsafeLoad(fromByteOffset: offset + index, as: UInt8.self))
                value |= byteOrder == .bigEndian ? byte << (8 * (2 - index)) : byte << (8 * index)
            }
            return value
        }
    }
}

/// Writes the length field a ``LengthFieldDecoder`` with the same width, byte order and adjustment reads: the
/// encoder half of the length-field codec (what Netty and NIOExtras call `LengthFieldPrepender`; named apart so both
/// modules can be imported together). Used by ``ConnectionContext/writeFrame(_:using:)-(RawSpan,_)`` and friends, the
/// one place a length header is formatted (besides the loop's fast path for the standard 4-byte big-endian header).
public struct LengthFieldEncoder: Hashable, Sendable {
    /// Width of the length field in bytes: 1, 2, 3, 4 or 8.
    public let lengthFieldLength: Int
    /// Byte order of the length field.
    public let byteOrder: LengthFieldDecoder.ByteOrder
    /// Subtracted from the header's value, the mirror of ``LengthFieldDecoder/lengthAdjustment``: the value written
    /// is `payload count - lengthAdjustment` (so `-4` with a 4-byte field writes `count + 4`).
    public let lengthAdjustment: Int

    /// The framework's own frame header: 4 bytes, big endian, the payload length.
    public static var standard: LengthFieldEncoder {
        LengthFieldEncoder(validLength: 4, byteOrder: .bigEndian, lengthAdjustment: 0)
    }

    @inlinable
    init(validLength: Int, byteOrder: LengthFieldDecoder.ByteOrder, lengthAdjustment: Int) {
        self.lengthFieldLength = validLength
        self.byteOrder = byteOrder
        self.lengthAdjustment = lengthAdjustment
    }

    /// A prepender; the defaults match ``LengthFieldDecoder/init(lengthFieldOffset:lengthFieldLength:byteOrder:lengthAdjustment:initialBytesToStrip:maxFrameLength:)``'s.
    public init(
        lengthFieldLength: Int = 4, byteOrder: LengthFieldDecoder.ByteOrder = .bigEndian, lengthAdjustment: Int = 0
    ) {
        precondition(Self.isValidWidth(lengthFieldLength), "lengthFieldLength must be 1, 2, 3, 4 or 8")
        self.lengthFieldLength = lengthFieldLength
        self.byteOrder = byteOrder
        self.lengthAdjustment = lengthAdjustment
    }

    /// The prepender matching `decoder`'s length field (its offset and stripping are the caller's business).
    public init(matching decoder: LengthFieldDecoder) {
        self.init(
            lengthFieldLength: decoder.lengthFieldLength, byteOrder: decoder.byteOrder,
            lengthAdjustment: decoder.lengthAdjustment)
    }

    @usableFromInline
    static func isValidWidth(_ width: Int) -> Bool {
        switch width {
        case 1, 2, 3, 4, 8: return true
        default: return false
        }
    }

    /// True when a payload of `count` bytes fits the field.
    @inlinable
    public func canEncode(payloadCount count: Int) -> Bool {
        let value = count - lengthAdjustment
        if value < 0 { return false }
        return lengthFieldLength == 8 || value < 1 << (8 * lengthFieldLength)
    }

    /// Stores the header for a payload of `count` bytes at `destination` (``lengthFieldLength`` bytes).
    @inlinable @inline(__always)
    public func storeHeader(payloadCount count: Int, at destination: UnsafeMutableRawPointer) {
        let value = UInt64(truncatingIfNeeded: count - lengthAdjustment)
        if lengthFieldLength == 4 {
            let field = UInt32(truncatingIfNeeded: value)
            destination.storeBytes(of: byteOrder == .bigEndian ? field.bigEndian : field.littleEndian, as: UInt32.self)
            return
        }
        for index in 0..<lengthFieldLength {
            let shift = byteOrder == .bigEndian ? 8 * (lengthFieldLength - 1 - index) : 8 * index
            destination.storeBytes(of: UInt8(truncatingIfNeeded: value >> shift), toByteOffset: index, as: UInt8.self)
        }
    }
}
