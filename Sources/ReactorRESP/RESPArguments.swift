/// Where a decoded request's arguments are: one (address, length) pair per argument, pointing into the input the
/// decoder was shown or, for an inline argument that had quotes or escapes, into this object's own scratch bytes.
///
/// Owned by one loop (a ``RESPStreamHandler`` makes one per loop on first use) and reused for every request, so a
/// request allocates nothing once the loop has seen one with as many arguments (and, inline, as long a line) as the
/// largest so far. Valid until the next ``RESPRequestDecoder/decode(_:into:)``. Not thread-safe.
public final class RESPArguments {
    private(set) var starts: UnsafeMutablePointer<UnsafeRawPointer>
    private(set) var lengths: UnsafeMutablePointer<Int>
    private var capacity: Int
    /// Arguments of the last decoded request.
    public private(set) var count = 0
    private var scratch: UnsafeMutableRawPointer?
    private var scratchCapacity = 0
    private var scratchCount = 0

    /// Storage for `initialCapacity` arguments; it grows (doubling) for a request with more.
    public init(initialCapacity: Int = 64) {
        capacity = max(1, initialCapacity)
        starts = .allocate(capacity: capacity)
        lengths = .allocate(capacity: capacity)
    }

    deinit {
        starts.deallocate()
        lengths.deallocate()
        scratch?.deallocate()
    }

    /// Argument `index` (0 is the command name) as a buffer; valid until the next decode.
    @inline(__always)
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < count, "argument index out of range")
        return UnsafeRawBufferPointer(start: starts[index], count: lengths[index])
    }

    // MARK: Filled by the decoder

    /// Forgets the previous request; makes room for `expected` arguments (capped by the caller's limit) and, when
    /// `scratchBytes` is above 0, for that many unescaped inline bytes.
    @inline(__always)
    func reset(expected: Int, scratchBytes: Int = 0) {
        count = 0
        scratchCount = 0
        if expected > capacity { grow(to: expected) }
        if scratchBytes > scratchCapacity { growScratch(to: scratchBytes) }
    }

    @inline(__always)
    func append(_ start: UnsafeRawPointer, count length: Int) {
        if count == capacity { grow(to: capacity * 2) }
        starts[count] = start
        lengths[count] = length
        count += 1
    }

    /// Starts an argument in the scratch bytes (an inline token with quotes or escapes); returns its offset.
    @inline(__always)
    func beginScratchArgument() -> Int { scratchCount }

    /// Adds one unescaped byte to the argument being built in the scratch bytes.
    @inline(__always)
    func appendScratchByte(_ byte: UInt8) {
        scratch.unsafelyUnwrapped.storeBytes(of: byte, toByteOffset: scratchCount, as: UInt8.self)
        scratchCount += 1
    }

    /// Ends the scratch argument that began at `offset`.
    @inline(__always)
    func endScratchArgument(from offset: Int) {
        append(UnsafeRawPointer(scratch.unsafelyUnwrapped + offset), count: scratchCount - offset)
    }

    private func grow(to newCapacity: Int) {
        let newStarts = UnsafeMutablePointer<UnsafeRawPointer>.allocate(capacity: newCapacity)
        let newLengths = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
        newStarts.moveInitialize(from: starts, count: count)
        newLengths.moveInitialize(from: lengths, count: count)
        starts.deallocate()
        lengths.deallocate()
        starts = newStarts
        lengths = newLengths
        capacity = newCapacity
    }

    private func growScratch(to byteCount: Int) {
        precondition(scratchCount == 0, "scratch grown while in use")
        scratch?.deallocate()
        scratchCapacity = max(byteCount, 256)
        scratch = .allocate(byteCount: scratchCapacity, alignment: 16)
    }
}
