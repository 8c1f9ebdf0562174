/// Reads a fuzz input front to back: a few fixed header fields, then the rest as the byte stream under test.
///
/// Reads past the end yield zeros, so every input is valid and libFuzzer can start from an empty one.
public struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    /// A reader over `size` bytes at `data`.
    public init(data: UnsafePointer<UInt8>?, size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    }

    /// The next byte (0 past the end).
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next two bytes, big-endian.
    public mutating func uint16() -> UInt16 {
        UInt16(byte()) << 8 | UInt16(byte())
    }

    /// The next eight bytes, big-endian.
    public mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(byte()) }
        return value
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset >= bytes.count }

    /// Everything not read yet.
    public mutating func rest() -> UnsafeRawBufferPointer {
        guard offset < bytes.count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        defer { offset = bytes.count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset...])
    }
}
