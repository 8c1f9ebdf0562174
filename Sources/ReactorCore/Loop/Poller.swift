import CEpoll

#if canImport(Glibc)
    import Glibc
#endif

/// One epoll instance and the events array it fills, allocated once and doubled whenever a wait fills it
/// (redis' and gnet's rule: a full array means there may be more ready descriptors than we asked for).
final class Poller {
    /// The epoll descriptor.
    let fd: CInt
    private var events: UnsafeMutablePointer<epoll_event>
    private var capacity: Int
    private let maximumCapacity = 16384
    /// Events from the latest ``wait(timeoutMilliseconds:)``.
    private(set) var count = 0

    init(initialCapacity: Int = 256) throws(SystemError) {
        self.fd = try Epoll.create()
        self.capacity = initialCapacity
        self.events = .allocate(capacity: initialCapacity)
    }

    deinit {
        events.deallocate()
    }

    /// Closes the epoll descriptor. Call once, from the owning thread, after the loop has stopped.
    func close() {
        Posix.close(fd)
    }

    /// Waits for readiness; returns the number of events now readable via ``data(at:)`` and ``mask(at:)``.
    @inline(__always)
    func wait(timeoutMilliseconds: CInt) throws(SystemError) -> Int {
        if count == capacity && capacity < maximumCapacity {
            events.deallocate()
            capacity *= 2
            events = .allocate(capacity: capacity)
        }
        count = try Epoll.wait(epoll: fd, events: events, capacity: capacity, timeoutMilliseconds: timeoutMilliseconds)
        return count
    }

    /// The u64 tag of event `index`.
    @inline(__always)
    func data(at index: Int) -> UInt64 { CEpoll_event_data(events, CInt(index)) }

    /// The readiness mask of event `index`.
    @inline(__always)
    func mask(at index: Int) -> UInt32 { CEpoll_event_mask(events, CInt(index)) }

    /// Registers `fd` for `events` with tag `data`.
    func add(_ descriptor: CInt, events: UInt32, data: UInt64) throws(SystemError) {
        try Epoll.add(epoll: fd, fd: descriptor, events: events, data: data)
    }

    /// Changes the interest set of `fd`.
    func modify(_ descriptor: CInt, events: UInt32, data: UInt64) throws(SystemError) {
        try Epoll.modify(epoll: fd, fd: descriptor, events: events, data: data)
    }

    /// Removes `fd` from the interest list.
    func remove(_ descriptor: CInt) throws(SystemError) {
        try Epoll.delete(epoll: fd, fd: descriptor)
    }
}
