import Testing

@testable import ReactorCore

@Suite struct TimerHeapTests {
    final class Entry: TimerHeapElement {
        let id: Int
        var timerDeadline: UInt64 = 0
        var timerIndex = -1
        init(id: Int) { self.id = id }
    }

    /// A small deterministic generator, so a failure reproduces.
    struct SplitMix {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    @Test(arguments: [false, true])
    func randomSchedulesMovesAndCancelsPopInDeadlineOrder(retains: Bool) {
        var heap = TimerHeap<Entry>(retainsElements: retains)
        let entries = (0..<200).map { Entry(id: $0) }
        var expected: [Int: UInt64] = [:]  // id -> deadline, the reference model
        var random = SplitMix(state: 42)
        for _ in 0..<5000 {
            let entry = entries[random.next(entries.count)]
            if random.next(4) == 0 {
                heap.cancel(entry)
                expected[entry.id] = nil
            } else {
                let deadline = UInt64(random.next(10_000))
                heap.schedule(entry, at: deadline)
                expected[entry.id] = deadline
            }
            #expect(heap.count == expected.count)
        }
        #expect(entries.allSatisfy { ($0.timerIndex >= 0) == (expected[$0.id] != nil) })

        // Popping up to a cut-off returns exactly the due entries, earliest first.
        var popped: [(Int, UInt64)] = []
        while let entry = heap.popExpired(now: 5000) { popped.append((entry.id, entry.timerDeadline)) }
        let due = expected.filter { $0.value <= 5000 }
        #expect(popped.count == due.count)
        #expect(zip(popped, popped.dropFirst()).allSatisfy { $0.1 <= $1.1 })
        #expect(popped.allSatisfy { expected[$0.0] == $0.1 && $0.1 <= 5000 })
        #expect(heap.nextDeadline.map { $0 > 5000 } ?? true)
        #expect(heap.count == expected.count - due.count)

        heap.removeAll()
        #expect(heap.count == 0 && heap.nextDeadline == nil)
        #expect(entries.allSatisfy { $0.timerIndex == -1 })
    }

    @Test func aRetainingHeapKeepsAScheduledEntryAliveUntilItIsRemoved() {
        var heap = TimerHeap<Entry>(retainsElements: true)
        weak var weakEntry: Entry?
        do {
            let entry = Entry(id: 1)
            weakEntry = entry
            heap.schedule(entry, at: 10)
        }
        #expect(weakEntry != nil, "the heap holds the only reference")
        #expect(heap.popExpired(now: 9) == nil)
        #expect(heap.popExpired(now: 10)?.id == 1)
        #expect(weakEntry == nil, "released once popped")
    }
}
