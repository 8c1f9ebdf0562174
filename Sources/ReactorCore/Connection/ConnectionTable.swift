/// A loop's connections in dense slots indexed by descriptor, each with a generation counter.
///
/// The kernel hands out the lowest free descriptor, so the table stays dense. A slot's generation advances when its
/// connection closes; epoll events carry `fd | generation << 32`, so an event for a closed and reused descriptor no
/// longer matches and is dropped. Written and read only by the owning loop.
///
/// Slots hold their connection retained but as `Unmanaged`, so the hot path can look one up and use it at +0
/// (no retain/release per event). The owner must keep a closed connection alive until it is done with it in the
/// current iteration (``SubReactor`` parks it until the iteration ends).
@_spi(Benchmarks) public struct ConnectionTable {
    private var slots: [Unmanaged<Connection>?] = []
    private var generations: [UInt32] = []
    /// Open connections.
    @_spi(Benchmarks) public private(set) var count = 0

    /// An empty table.
    @_spi(Benchmarks) public init() {}

    /// The generation the next connection on `fd` gets.
    @_spi(Benchmarks) public mutating func nextGeneration(for fd: CInt) -> UInt32 {
        grow(toHold: Int(fd))
        return generations[Int(fd)]
    }

    /// Stores `connection` in its descriptor's slot.
    @_spi(Benchmarks) public mutating func insert(_ connection: Connection) {
        let index = Int(connection.fd)
        grow(toHold: index)
        precondition(slots[index] == nil, "descriptor \(index) is already in use by an open connection")
        slots[index] = .passRetained(connection)
        count += 1
    }

    /// The connection an epoll tag names, unretained, or nil when it closed since (stale event).
    @inline(__always)
    @_spi(Benchmarks) public func lookupUnretained(tag: UInt64) -> Unmanaged<Connection>? {
        let fd = Int(UInt32(truncatingIfNeeded: tag))
        guard fd < slots.count, generations[fd] == UInt32(truncatingIfNeeded: tag >> 32) else { return nil }
        return slots[fd]
    }

    /// The connection an epoll tag names (retained), or nil when it closed since.
    @_spi(Benchmarks) public func lookup(tag: UInt64) -> Connection? {
        lookupUnretained(tag: tag)?.takeUnretainedValue()
    }

    /// The connection `id` names, or nil when it has closed.
    @inline(__always)
    func lookup(_ id: ConnectionID) -> Connection? { lookup(tag: id.tag) }

    /// Empties `connection`'s slot and advances its generation.
    @_spi(Benchmarks) public mutating func remove(_ connection: Connection) {
        let index = Int(connection.fd)
        precondition(slots[index]?.takeUnretainedValue() === connection, "removing a connection not in its slot")
        slots[index]?.release()
        slots[index] = nil
        generations[index] &+= 1
        if generations[index] == UInt32.max { generations[index] = 0 }  // keep clear of the wakeup tag
        count -= 1
    }

    /// Every open connection (a copy: closing while iterating is safe).
    var all: [Connection] { slots.compactMap { $0?.takeUnretainedValue() } }

    private mutating func grow(toHold index: Int) {
        if index < slots.count { return }
        let newCount = max(index + 1, slots.count * 2, 64)
        slots.append(contentsOf: repeatElement(nil, count: newCount - slots.count))
        generations.append(contentsOf: repeatElement(0, count: newCount - generations.count))
    }
}
