/// Something a ``TimerHeap`` can hold: it carries its own deadline and heap position, so scheduling, moving and
/// cancelling need no search and no allocation.
protocol TimerHeapElement: AnyObject {
    /// When the element is due (monotonic nanoseconds); meaningful only while scheduled.
    var timerDeadline: UInt64 { get set }
    /// The element's position in its heap, or -1 when it is not scheduled.
    var timerIndex: Int { get set }
}

/// A binary min-heap of intrusive timer elements ordered by deadline: the per-loop timer facility.
///
/// The earliest deadline is always at the root, so a loop sleeps in `epoll_wait` exactly until the next one is
/// due; insert, move and cancel are O(log n), finding what is due is O(1). The elements store their own position,
/// so a reschedule is a sift in place. The storage array only grows to the peak number of scheduled elements and
/// keeps its capacity, so scheduling allocates nothing in steady state. (SwiftNIO schedules tasks on a heap in the
/// same way; a hashed wheel would need a tick that either wakes an idle loop often or rounds deadlines coarsely.)
///
/// With `retainsElements` the heap holds a strong reference to each scheduled element (timers stay alive while
/// scheduled even if nobody else keeps them); without it the caller guarantees elements outlive their scheduling
/// (connections are owned by the table and cancelled before they are released). Loop-confined, like the loop.
struct TimerHeap<Element: TimerHeapElement> {
    private var storage: ContiguousArray<Unmanaged<Element>> = []
    private let retainsElements: Bool

    init(retainsElements: Bool) {
        self.retainsElements = retainsElements
    }

    /// Scheduled elements.
    var count: Int { storage.count }

    /// The earliest deadline, if anything is scheduled.
    @inline(__always)
    var nextDeadline: UInt64? {
        guard let first = storage.first else { return nil }
        return first._withUnsafeGuaranteedRef { $0.timerDeadline }
    }

    /// Schedules `element` at `deadline`, moving it if it was already scheduled.
    mutating func schedule(_ element: Element, at deadline: UInt64) {
        let index = element.timerIndex
        if index >= 0 {
            let earlier = deadline < element.timerDeadline
            element.timerDeadline = deadline
            if earlier { siftUp(index) } else { siftDown(index) }
            return
        }
        element.timerDeadline = deadline
        element.timerIndex = storage.count
        storage.append(retainsElements ? .passRetained(element) : .passUnretained(element))
        siftUp(storage.count - 1)
    }

    /// Unschedules `element`; a no-op when it is not scheduled.
    mutating func cancel(_ element: Element) {
        let index = element.timerIndex
        guard index >= 0 else { return }
        let removed = remove(at: index)
        if retainsElements { removed.release() }
    }

    /// Removes and returns the earliest element if it is due at `now`.
    @inline(__always)
    mutating func popExpired(now: UInt64) -> Element? {
        guard let deadline = nextDeadline, deadline <= now else { return nil }
        let removed = remove(at: 0)
        return retainsElements ? removed.takeRetainedValue() : removed.takeUnretainedValue()
    }

    /// Unschedules everything (releasing what the heap retained).
    mutating func removeAll() {
        for element in storage {
            element._withUnsafeGuaranteedRef { $0.timerIndex = -1 }
            if retainsElements { element.release() }
        }
        storage.removeAll()
    }

    // MARK: Heap order

    private mutating func remove(at index: Int) -> Unmanaged<Element> {
        let removed = storage[index]
        removed._withUnsafeGuaranteedRef { $0.timerIndex = -1 }
        let last = storage.removeLast()
        if index < storage.count {
            storage[index] = last
            last._withUnsafeGuaranteedRef { $0.timerIndex = index }
            siftDown(index)
            siftUp(index)
        }
        return removed
    }

    @inline(__always)
    private func deadline(at index: Int) -> UInt64 {
        storage[index]._withUnsafeGuaranteedRef { $0.timerDeadline }
    }

    private mutating func siftUp(_ start: Int) {
        var index = start
        let element = storage[index]
        let key = deadline(at: index)
        while index > 0 {
            let parent = (index - 1) / 2
            if deadline(at: parent) <= key { break }
            storage[index] = storage[parent]
            storage[index]._withUnsafeGuaranteedRef { $0.timerIndex = index }
            index = parent
        }
        storage[index] = element
        element._withUnsafeGuaranteedRef { $0.timerIndex = index }
    }

    private mutating func siftDown(_ start: Int) {
        var index = start
        let element = storage[index]
        let key = deadline(at: index)
        let count = storage.count
        while true {
            var child = 2 * index + 1
            if child >= count { break }
            if child + 1 < count && deadline(at: child + 1) < deadline(at: child) { child += 1 }
            if key <= deadline(at: child) { break }
            storage[index] = storage[child]
            storage[index]._withUnsafeGuaranteedRef { $0.timerIndex = index }
            index = child
        }
        storage[index] = element
        element._withUnsafeGuaranteedRef { $0.timerIndex = index }
    }
}
