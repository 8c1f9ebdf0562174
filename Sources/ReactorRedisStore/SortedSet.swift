/// A sorted-set value: members with scores, ordered by score and then by member bytes (redis's order).
///
/// A ``ByteTable`` finds a member's score; the order is kept in blocks of at most ``blockLimit`` elements (a
/// one-level B-tree), so an insertion or removal moves at most a block's worth of elements, ranks are found by
/// walking block sizes, and ranges read elements in place.
final class SortedSet {
    struct Element {
        var score: Double
        let member: ByteString
    }

    static let blockLimit = 128

    private let scores = ByteTable<Double>()
    private var blocks: [[Element]] = []

    var count: Int { scores.count }

    /// The score of `member`, or nil.
    func score(of member: UnsafeRawBufferPointer, hash: UInt64) -> Double? {
        scores.find(member, hash: hash).map { scores[payloadAt: $0] }
    }

    /// Adds `member`, which must not be present.
    func insert(_ member: UnsafeRawBufferPointer, hash: UInt64, score: Double) {
        let stored = ByteString.make(member)
        scores.insert(stored, hash: hash, payload: score)
        insertOrdered(Element(score: score, member: stored))
    }

    /// Changes the score of `member`, which must be present with score `old`.
    func update(_ member: UnsafeRawBufferPointer, hash: UInt64, from old: Double, to new: Double) {
        let slot = scores.find(member, hash: hash)!
        scores[payloadAt: slot] = new
        let element = removeOrdered(score: old, member: member)
        insertOrdered(Element(score: new, member: element.member))
    }

    /// Removes `member`; true if it was there.
    @discardableResult
    func remove(_ member: UnsafeRawBufferPointer, hash: UInt64) -> Bool {
        guard let slot = scores.find(member, hash: hash) else { return false }
        let score = scores.remove(at: slot).payload
        scores.shrinkIfSparse()
        removeOrdered(score: score, member: member)
        return true
    }

    /// Removes and returns the lowest element (`fromEnd`: the highest). Needs `count > 0`.
    func popExtreme(fromEnd: Bool) -> Element {
        let block = fromEnd ? blocks.count - 1 : 0
        let element = fromEnd ? blocks[block].removeLast() : blocks[block].removeFirst()
        if blocks[block].isEmpty { blocks.remove(at: block) }
        element.member.withBytes { member in
            let slot = scores.find(member, hash: ByteHash.of(member))!
            scores.remove(at: slot)
        }
        scores.shrinkIfSparse()
        return element
    }

    /// Calls `body` with the elements from rank `start` (0 is the lowest score) upwards, or downwards with
    /// `reverse`, until `body` returns false or the elements run out.
    func walk(from start: Int, reverse: Bool, _ body: (Element) -> Bool) {
        guard start >= 0 && start < count else { return }
        var skip = reverse ? count - 1 - start : start  // elements to pass over, counted from the walk's end
        let step = reverse ? -1 : 1
        for block in stride(from: reverse ? blocks.count - 1 : 0, through: reverse ? 0 : blocks.count - 1, by: step) {
            let elements = blocks[block]
            if skip >= elements.count {
                skip -= elements.count
                continue
            }
            if reverse {
                for index in stride(from: elements.count - 1 - skip, through: 0, by: -1) where !body(elements[index]) {
                    return
                }
            } else {
                for index in skip..<elements.count where !body(elements[index]) { return }
            }
            skip = 0
        }
    }

    /// The rank of the first element that is not `before` the bound (elements are ordered; `before` holds for a
    /// prefix of them): the lowest rank of a range by score.
    func firstRank(where before: (Element) -> Bool) -> Int {
        var rank = 0
        for block in blocks {
            if let last = block.last, before(last) {
                rank += block.count
                continue
            }
            var low = 0
            var high = block.count
            while low < high {
                let middle = (low + high) / 2
                if before(block[middle]) { low = middle + 1 } else { high = middle }
            }
            return rank + low
        }
        return rank
    }

    // MARK: Order

    /// Whether (score, member) sorts before the element.
    private static func precedes(_ score: Double, _ member: UnsafeRawBufferPointer, _ element: Element) -> Bool {
        if score != element.score { return score < element.score }
        return element.member.withBytes { ByteString.compare(member, $0) } < 0
    }

    /// The block and index where (score, member) is or would be inserted.
    private func location(score: Double, member: UnsafeRawBufferPointer) -> (block: Int, index: Int) {
        // The first block whose last element does not sort before the target.
        var low = 0
        var high = blocks.count
        while low < high {
            let middle = (low + high) / 2
            if Self.precedes(score, member, blocks[middle].last!)
                || blocks[middle].last!.score == score
                    && blocks[middle].last!.member.equals(member)
            {
                high = middle
            } else {
                low = middle + 1
            }
        }
        if low == blocks.count { return blocks.isEmpty ? (0, 0) : (blocks.count - 1, blocks[blocks.count - 1].count) }
        var first = 0
        var last = blocks[low].count
        while first < last {
            let middle = (first + last) / 2
            let element = blocks[low][middle]
            if Self.precedes(score, member, element) || element.score == score && element.member.equals(member) {
                last = middle
            } else {
                first = middle + 1
            }
        }
        return (low, first)
    }

    private func insertOrdered(_ element: Element) {
        if blocks.isEmpty {
            blocks.append([element])
            return
        }
        let (block, index) = element.member.withBytes { location(score: element.score, member: $0) }
        blocks[block].insert(element, at: index)
        if blocks[block].count > Self.blockLimit {
            let upper = Array(blocks[block][(Self.blockLimit / 2)...])
            blocks[block].removeSubrange((Self.blockLimit / 2)...)
            blocks.insert(upper, at: block + 1)
        }
    }

    @discardableResult
    private func removeOrdered(score: Double, member: UnsafeRawBufferPointer) -> Element {
        let (block, index) = location(score: score, member: member)
        let element = blocks[block].remove(at: index)
        if blocks[block].isEmpty { blocks.remove(at: block) }
        return element
    }
}
