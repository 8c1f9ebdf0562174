/// Where a decoded request's arguments are: one (address, length) pair per argument, pointing into the input the
/// decoder was shown or, for an inline argument that had quotes or escapes, into this object's own scratch bytes.
///
/// Owned by one loop (a ``RESPStreamHandler`` makes one per loop on first use) and reused for every request, so a
/// request allocates nothing once the loop has seen one with as many arguments (and, inline, as long a line) as the
/// largest so far, up to ``retainedCapacity`` arguments: storage for a larger request is given back once it has
/// been answered (``releaseExcessCapacity()``). Valid until the next ``RESPRequestDecoder/decode(_:into:)``. Not
/// thread-safe.
public final class RESPArguments {
    // Unchecked exclusivity: one loop owns the object and no access overlaps another; a checked access costs a
    // runtime call per argument read.
    @usableFromInline @exclusivity(unchecked) private(set) var starts: UnsafeMutablePointer<UnsafeRawPointer>
    @usableFromInline @exclusivity(unchecked) private(set) var lengths: UnsafeMutablePointer<Int>
    @usableFromInline @exclusivity(unchecked) private(set) var capacity: Int
    private let initialCapacity: Int
    /// Arguments of the last decoded request.
    @exclusivity(unchecked) public private(set) var count = 0
    @exclusivity(unchecked) private var scratch: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var scratchCapacity = 0
    @exclusivity(unchecked) private var scratchCount = 0

    /// The most arguments whose storage is kept between requests (16 bytes each: 1 MiB). A request with more
    /// (a peer may send up to what ``ReactorCore/ConnectionLimits/maxBufferedInput`` holds: 89 million `$0`
    /// arguments in 512 MiB) grows the storage for itself only.
    public static let retainedCapacity = 65_536

    /// Storage for `initialCapacity` arguments; it grows (doubling) for a request with more.
    public init(initialCapacity: Int = 64) {
        capacity = max(1, min(initialCapacity, Self.retainedCapacity))
        self.initialCapacity = capacity
        starts = .allocate(capacity: capacity)
        lengths = .allocate(capacity: capacity)
    }

    deinit {
        starts.deallocate()
        lengths.deallocate()
        scratch?.deallocate()
    }

    /// Argument `index` (0 is the command name) as a buffer; valid until the next decode.
    @inlinable
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < count, "argument index out of range")
        return UnsafeRawBufferPointer(start: starts[index], count: lengths[index])
    }

    /// Calls `body` with the request last decoded into these arguments as a ``RESPCommand``, for a handler that
    /// replays requests it kept (a transaction's queue, decoded again with ``RESPRequestDecoder``) through its own
    /// command path. The command is valid during `body` only.
    @inlinable
    public func withCommand<Result>(_ body: (borrowing RESPCommand) -> Result) -> Result {
        body(RESPCommand(arguments: self))
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

    /// Gives back the storage of a request with more than ``retainedCapacity`` arguments (call it when the request
    /// has been answered); keeps it for a smaller one. Inline scratch bytes are bounded by the inline limit and
    /// kept.
    @inlinable
    public func releaseExcessCapacity() {
        if capacity > Self.retainedCapacity { shrink() }
    }

    @usableFromInline
    func shrink() {
        starts.deallocate()
        lengths.deallocate()
        count = 0
        capacity = initialCapacity
        starts = .allocate(capacity: capacity)
        lengths = .allocate(capacity: capacity)
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
