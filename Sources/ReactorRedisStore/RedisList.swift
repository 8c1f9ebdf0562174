/// A list value: a ring buffer of elements, so a push or pop at either end is O(1) and reading by index is too.
final class RedisList {
    private var storage: UnsafeMutablePointer<ByteString>?
    /// 0 or a power of two.
    private var capacity = 0
    private var head = 0
    private(set) var count = 0

    init() {}

    deinit {
        guard let storage else { return }
        for offset in 0..<count { (storage + slot(offset)).deinitialize(count: 1) }
        storage.deallocate()
    }

    @inline(__always)
    private func slot(_ offset: Int) -> Int { (head + offset) & (capacity - 1) }

    /// Element `index` (0 is the head).
    subscript(index: Int) -> ByteString {
        storage.unsafelyUnwrapped[slot(index)]
    }

    func pushFront(_ element: ByteString) {
        if count == capacity { grow() }
        head = (head - 1) & (capacity - 1)
        (storage.unsafelyUnwrapped + head).initialize(to: element)
        count += 1
    }

    func pushBack(_ element: ByteString) {
        if count == capacity { grow() }
        (storage.unsafelyUnwrapped + slot(count)).initialize(to: element)
        count += 1
    }

    /// Removes and returns the head. Needs `count > 0`.
    func popFront() -> ByteString {
        let element = (storage.unsafelyUnwrapped + head).move()
        head = (head + 1) & (capacity - 1)
        count -= 1
        return element
    }

    /// Removes and returns the tail. Needs `count > 0`.
    func popBack() -> ByteString {
        count -= 1
        return (storage.unsafelyUnwrapped + slot(count)).move()
    }

    private func grow() {
        let newCapacity = max(4, capacity * 2)
        let newStorage = UnsafeMutablePointer<ByteString>.allocate(capacity: newCapacity)
        if let storage {
            // The elements, head first, move to the start of the new storage.
            let firstRun = min(count, capacity - head)
            newStorage.moveInitialize(from: storage + head, count: firstRun)
            (newStorage + firstRun).moveInitialize(from: storage, count: count - firstRun)
            storage.deallocate()
        }
        storage = newStorage
        capacity = newCapacity
        head = 0
    }
}
