/// A list value: a ring buffer of elements, so a push or pop at either end is O(1) and reading by index is too.
///
/// The buffer holds its elements as unmanaged references (retained on the way in, released on the way out), so
/// reading one (LRANGE, LINDEX) touches no reference count.
final class RedisList {
    private var storage: UnsafeMutablePointer<Unmanaged<ByteString>>?
    /// 0 or a power of two.
    private var capacity = 0
    private var head = 0
    private(set) var count = 0

    init() {}

    deinit {
        guard let storage else { return }
        for offset in 0..<count { storage[slot(offset)].release() }
        storage.deallocate()
    }

    @inline(__always)
    private func slot(_ offset: Int) -> Int { (head + offset) & (capacity - 1) }

    /// The bytes of element `index` (0 is the head), in place: valid until the list changes.
    @inline(__always)
    func element(_ index: Int) -> UnsafeRawBufferPointer { elements[index] }

    /// A view of the elements for reading many (LRANGE): valid until the list changes.
    var elements: Elements { Elements(storage: storage, head: head, mask: capacity - 1) }

    /// The elements of a list, read in place.
    struct Elements {
        fileprivate let storage: UnsafeMutablePointer<Unmanaged<ByteString>>?
        fileprivate let head: Int
        fileprivate let mask: Int

        /// The bytes of element `index` (0 is the head).
        @inline(__always)
        subscript(index: Int) -> UnsafeRawBufferPointer {
            storage.unsafelyUnwrapped[(head + index) & mask]._withUnsafeGuaranteedRef { $0.bytes }
        }
    }

    func pushFront(_ element: ByteString) {
        if count == capacity { grow() }
        head = (head - 1) & (capacity - 1)
        storage.unsafelyUnwrapped[head] = .passRetained(element)
        count += 1
    }

    func pushBack(_ element: ByteString) {
        if count == capacity { grow() }
        storage.unsafelyUnwrapped[slot(count)] = .passRetained(element)
        count += 1
    }

    /// Removes and returns the head. Needs `count > 0`.
    func popFront() -> ByteString {
        let element = storage.unsafelyUnwrapped[head].takeRetainedValue()
        head = (head + 1) & (capacity - 1)
        count -= 1
        return element
    }

    /// Removes and returns the tail. Needs `count > 0`.
    func popBack() -> ByteString {
        count -= 1
        return storage.unsafelyUnwrapped[slot(count)].takeRetainedValue()
    }

    private func grow() {
        let newCapacity = max(4, capacity * 2)
        let newStorage = UnsafeMutablePointer<Unmanaged<ByteString>>.allocate(capacity: newCapacity)
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
