public import ReactorCore

/// Reply writers: RESP2 values formatted straight into the connection's outbound bytes (the loop's staging buffer
/// during the read batch), so a reply costs one copy and no allocation. Shapes as in the RESP specification
/// (redis.io/docs/reference/protocol-spec): simple string `+OK\r\n`, error `-ERR …\r\n`, integer `:42\r\n`, bulk
/// string `$5\r\nhello\r\n`, null bulk string `$-1\r\n`, array header `*2\r\n` followed by its elements.
extension ConnectionContext {
    /// `+text\r\n`. `text` must not contain `\r` or `\n`.
    @inline(__always)
    public mutating func writeSimpleString(_ text: StaticString) {
        writeLine(UInt8(ascii: "+"), UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `-message\r\n`: `message` starts with the error code (`ERR …`, `WRONGTYPE …`), as redis's errors do.
    @inline(__always)
    public mutating func writeError(_ message: StaticString) {
        writeLine(
            UInt8(ascii: "-"), UnsafeRawBufferPointer(start: message.utf8Start, count: message.utf8CodeUnitCount))
    }

    /// `-message\r\n` for a message built at run time (an error path: the `String` is the caller's). `\r` and
    /// `\n` in it become spaces, as redis makes them.
    public mutating func writeError(_ message: String) {
        var bytes = Array(message.utf8)
        for index in bytes.indices where bytes[index] == 0x0D || bytes[index] == 0x0A { bytes[index] = 0x20 }
        bytes.withUnsafeBytes { writeLine(UInt8(ascii: "-"), $0) }
    }

    /// `marker`, `text`, `\r\n`: a simple string or an error line.
    @inline(__always)
    mutating func writeLine(_ marker: UInt8, _ text: UnsafeRawBufferPointer) {
        write(reserving: text.count + 3) { buffer in
            buffer[0] = marker
            UnsafeMutableRawBufferPointer(rebasing: buffer[1...]).copyMemory(from: text)
            buffer[text.count + 1] = 0x0D
            buffer[text.count + 2] = 0x0A
            return text.count + 3
        }
    }

    /// `:value\r\n`.
    @inline(__always)
    public mutating func writeInteger(_ value: Int) {
        write(reserving: 23) { buffer in
            buffer[0] = UInt8(ascii: ":")
            let digits = RESPFormat.storeDecimal(value, at: buffer.baseAddress! + 1)
            buffer[digits + 1] = 0x0D
            buffer[digits + 2] = 0x0A
            return digits + 3
        }
    }

    /// `$length\r\nbytes\r\n`.
    @inline(__always)
    public mutating func writeBulkString(_ bytes: UnsafeRawBufferPointer) {
        let length = bytes.count
        if length <= RESPFormat.inlineBulkLimit {
            write(reserving: length + 25) { buffer in
                let header = RESPFormat.storeHeader(UInt8(ascii: "$"), length, at: buffer.baseAddress!)
                if length > 0 {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[header...]).copyMemory(from: bytes)
                }
                buffer[header + length] = 0x0D
                buffer[header + length + 1] = 0x0A
                return header + length + 2
            }
        } else {
            // A large value: header, value and trailer as three writes, so the value is copied once, not staged
            // through a reservation of its size.
            writeAggregateHeader(UInt8(ascii: "$"), length)
            write(bytes)
            write("\r\n" as StaticString)
        }
    }

    /// `$length\r\nbytes\r\n`.
    @inline(__always)
    public mutating func writeBulkString(_ bytes: RawSpan) {
        bytes.withUnsafeBytes { writeBulkString($0) }
    }

    /// `$length\r\nbytes\r\n` for a string literal.
    @inline(__always)
    public mutating func writeBulkString(_ text: StaticString) {
        writeBulkString(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `$-1\r\n`: the null bulk string (a missing key).
    @inline(__always)
    public mutating func writeNullBulkString() { write("$-1\r\n" as StaticString) }

    /// `*count\r\n`: an array of `count` elements, which the next writes must supply.
    @inline(__always)
    public mutating func writeArrayHeader(count: Int) { writeAggregateHeader(UInt8(ascii: "*"), count) }

    /// `*-1\r\n`: the null array.
    @inline(__always)
    public mutating func writeNullArray() { write("*-1\r\n" as StaticString) }

    @inline(__always)
    mutating func writeAggregateHeader(_ marker: UInt8, _ count: Int) {
        write(reserving: 24) { buffer in RESPFormat.storeHeader(marker, count, at: buffer.baseAddress!) }
    }
}

/// Number formatting for replies, without `String`.
public enum RESPFormat {
    /// Values up to this long are formatted with their header in one reservation.
    static let inlineBulkLimit = 16 * 1024

    /// Stores `marker`, the decimal `count` and `\r\n` at `destination`; returns the bytes stored (at most 24).
    @inline(__always)
    static func storeHeader(_ marker: UInt8, _ count: Int, at destination: UnsafeMutableRawPointer) -> Int {
        destination.storeBytes(of: marker, as: UInt8.self)
        let digits = storeDecimal(count, at: destination + 1)
        destination.storeBytes(of: 0x0D, toByteOffset: digits + 1, as: UInt8.self)
        destination.storeBytes(of: 0x0A, toByteOffset: digits + 2, as: UInt8.self)
        return digits + 3
    }

    /// Stores `value` in decimal at `destination` (room for 20 bytes: `-9223372036854775808`); returns the length.
    /// For writers of replies this file does not have (RESP3 types, a reply formatted in one reservation).
    @inlinable
    public static func storeDecimal(_ value: Int, at destination: UnsafeMutableRawPointer) -> Int {
        if value >= 0 && value < 100 {  // lengths and small counts, most of what is printed
            if value < 10 {
                destination.storeBytes(of: UInt8(ascii: "0") &+ UInt8(value), as: UInt8.self)
                return 1
            }
            destination.storeBytes(of: UInt8(ascii: "0") &+ UInt8(value / 10), as: UInt8.self)
            destination.storeBytes(of: UInt8(ascii: "0") &+ UInt8(value % 10), toByteOffset: 1, as: UInt8.self)
            return 2
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, filled from the end
        return withUnsafeMutableBytes(of: &digits) { scratch in
            var magnitude = value.magnitude
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                scratch[start] = UInt8(ascii: "-")
            }
            let length = scratch.count - start
            destination.copyMemory(from: scratch.baseAddress! + start, byteCount: length)
            return length
        }
    }

}
