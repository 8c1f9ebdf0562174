/// A borrowed view of one frame's payload, valid only for the duration of the call that received it.
///
/// The bytes live in the loop's read buffer (or a pooled chunk for a frame that arrived in pieces) and are reused
/// as soon as the callback returns: copy them (``bytes``, ``copyBytes(to:)``) to keep them.
public struct FrameView {
    @usableFromInline let base: UnsafeRawPointer?
    /// The payload length in bytes (the frame's length prefix).
    public let count: Int

    @inlinable
    init(base: UnsafeRawPointer?, count: Int) {
        self.base = base
        self.count = count
    }

    /// True when the frame carries no payload.
    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// The byte at `index` (0 ..< ``count``).
    @inlinable
    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "FrameView index \(index) out of range 0..<\(count)")
        return base.unsafelyUnwrapped.load(fromByteOffset: index, as: UInt8.self)
    }

    /// Calls `body` with the payload; the pointer must not escape `body`.
    @inlinable
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// A copy of the payload (allocates: not for the hot path).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Copies the payload to `destination`, which must hold at least ``count`` bytes.
    @inlinable
    public func copyBytes(to destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= count, "destination too small for frame of \(count) bytes")
        guard let base, count > 0 else { return }
        destination.baseAddress.unsafelyUnwrapped.copyMemory(from: base, byteCount: count)
    }
}
