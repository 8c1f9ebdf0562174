import ReactorCore
import ReactorRESP

/// ZADD, ZINCRBY, ZRANGE, ZSCORE, ZCARD, ZPOPMIN, ZPOPMAX and ZREM (redis's `src/t_zset.c`). Scores are replied
/// as redis 7.0 prints them (`%.17g`); a sorted set that empties is deleted.
extension RedisCommandHandler {
    /// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member …, and ZINCRBY (ZADD with INCR).
    func sortedSetAdd(
        _ command: borrowing RESPCommand, _ session: Session, increment: Bool, _ connection: inout ConnectionContext
    ) {
        var ifAbsent = false
        var ifPresent = false
        var countChanged = false
        var increment = increment
        var ifGreater = false
        var ifLess = false
        var first = 2
        while first < command.count {
            if command.argument(first, equalsIgnoringCase: "NX") {
                ifAbsent = true
            } else if command.argument(first, equalsIgnoringCase: "XX") {
                ifPresent = true
            } else if command.argument(first, equalsIgnoringCase: "CH") {
                countChanged = true
            } else if command.argument(first, equalsIgnoringCase: "INCR") {
                increment = true
            } else if command.argument(first, equalsIgnoringCase: "GT") {
                ifGreater = true
            } else if command.argument(first, equalsIgnoringCase: "LT") {
                ifLess = true
            } else {
                break
            }
            first += 1
        }
        let remaining = command.count - first
        guard remaining > 0 && remaining % 2 == 0 else {
            connection.writeError(RedisError.syntax)
            return
        }
        if ifAbsent && ifPresent {
            connection.writeError("ERR XX and NX options at the same time are not compatible")
            return
        }
        if (ifGreater || ifLess) && ifAbsent || ifGreater && ifLess {
            connection.writeError("ERR GT, LT, and/or NX options at the same time are not compatible")
            return
        }
        if increment && remaining > 2 {
            connection.writeError("ERR INCR option supports a single increment-element pair")
            return
        }
        // Every score is checked before anything changes, as in redis.
        for index in stride(from: first, to: command.count, by: 2)
        where command.withArgument(index, Numbers.double) == nil {
            connection.writeError(RedisError.notFloat)
            return
        }
        withValue(command, session.database, RedisValue.asSortedSet, &connection) { key, existing, connection in
            if existing == nil && ifPresent {
                if increment { connection.writeNull(session) } else { connection.writeInteger(0) }
                return
            }
            let sortedSet = existing ?? SortedSet()
            if existing == nil { key.create(.sortedSet(sortedSet)) }
            var added = 0
            var updated = 0
            var result: Double?
            for index in stride(from: first, to: command.count, by: 2) {
                let given = command.withArgument(index, Numbers.double)!
                let outcome = command.withArgument(index + 1) { member -> Double?? in
                    let hash = ByteHash.of(member)
                    guard let current = sortedSet.score(of: member, hash: hash) else {
                        if ifPresent { return .some(nil) }
                        sortedSet.insert(member, hash: hash, score: given == 0 ? 0 : given)
                        added += 1
                        return given
                    }
                    if ifAbsent { return .some(nil) }
                    let score = increment ? given + current : given
                    if score.isNaN { return nil }
                    if (ifLess && score >= current) || (ifGreater && score <= current) { return .some(nil) }
                    if score != current {
                        sortedSet.update(member, hash: hash, from: current, to: score == 0 ? 0 : score)
                        updated += 1
                    }
                    return score
                }
                guard let outcome else {
                    connection.writeError("ERR resulting score is not a number (NaN)")
                    return
                }
                if let outcome { result = outcome }
            }
            if increment {
                if let result { connection.writeScore(result, session) } else { connection.writeNull(session) }
            } else {
                connection.writeInteger(countChanged ? added + updated : added)
            }
        }
    }

    /// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] (`zrangeGenericCommand`).
    func sortedSetRange(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        guard var query = RangeQuery(command, &connection) else { return }
        withValue(command, session.database, RedisValue.asSortedSet, &connection) { _, sortedSet, connection in
            guard let sortedSet else {
                connection.writeEmptyArray()
                return
            }
            let elements = query.elements(of: sortedSet)
            // With scores: flat member, score pairs in RESP2; in RESP3 an array of [member, score] arrays.
            let nested = query.withScores && session.resp3
            connection.writeArrayHeader(count: elements.count * (query.withScores && !nested ? 2 : 1))
            for element in elements {
                if nested { connection.writeArrayHeader(count: 2) }
                connection.writeBulkString(element.member)
                if query.withScores { connection.writeScore(element.score, session) }
            }
        }
    }

    func sortedSetScore(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asSortedSet, &connection) { _, sortedSet, connection in
            if let score = command.withArgument(2, { sortedSet?.score(of: $0, hash: ByteHash.of($0)) }) {
                connection.writeScore(score, session)
            } else {
                connection.writeNull(session)
            }
        }
    }

    func sortedSetCardinality(
        _ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext
    ) {
        withValue(command, session.database, RedisValue.asSortedSet, &connection) { _, sortedSet, connection in
            connection.writeInteger(sortedSet?.count ?? 0)
        }
    }

    /// ZPOPMIN and ZPOPMAX key [count]: a flat array of member, score pairs (`*0` for no key).
    func sortedSetPop(
        _ command: borrowing RESPCommand, _ session: Session, highest: Bool, _ connection: inout ConnectionContext
    ) {
        guard command.count <= 3 else {
            connection.writeError(RedisError.syntax)
            return
        }
        guard let count = popCount(command, &connection) else { return }
        withValue(command, session.database, RedisValue.asSortedSet, &connection) { key, sortedSet, connection in
            guard let sortedSet else {
                connection.writeEmptyArray()
                return
            }
            // Flat member, score pairs, but in RESP3 a count asks for an array of [member, score] arrays.
            let popped = min(count, sortedSet.count)
            let nested = session.resp3 && command.count == 3
            connection.writeArrayHeader(count: nested ? popped : popped * 2)
            for _ in 0..<popped {
                let element = sortedSet.popExtreme(fromEnd: highest)
                if nested { connection.writeArrayHeader(count: 2) }
                connection.writeBulkString(element.member)
                connection.writeScore(element.score, session)
            }
            if sortedSet.count == 0 { key.delete() }
        }
    }

    func sortedSetRemove(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        removeMembers(
            command, session.database, RedisValue.asSortedSet, &connection, remove: { $0.remove($1, hash: $2) },
            count: \.count)
    }
}

/// ZRANGE's arguments, parsed and checked in redis's order before the key is looked up.
struct RangeQuery {
    enum Kind {
        case rank(start: Int, end: Int)
        case score(min: ScoreBound, max: ScoreBound)
        case lex(min: LexBound, max: LexBound)
    }

    struct ScoreBound {
        let value: Double
        let exclusive: Bool
    }

    enum LexBound {
        case lowest, highest
        case bytes([UInt8], exclusive: Bool)
    }

    var kind: Kind
    var reverse = false
    var withScores = false
    var offset = 0
    var limit = -1

    /// Parses ZRANGE's arguments; on an error, replies with it and returns nil.
    init?(_ command: borrowing RESPCommand, _ connection: inout ConnectionContext) {
        var byScore = false
        var byLex = false
        var index = 4
        while index < command.count {
            let following = command.count - index - 1
            if command.argument(index, equalsIgnoringCase: "WITHSCORES") {
                withScores = true
            } else if command.argument(index, equalsIgnoringCase: "LIMIT") && following >= 2 {
                guard let offset = command.integer(at: index + 1), let limit = command.integer(at: index + 2) else {
                    connection.writeError(RedisError.notInteger)
                    return nil
                }
                self.offset = offset
                self.limit = limit
                index += 2
            } else if !reverse && command.argument(index, equalsIgnoringCase: "REV") {
                reverse = true
            } else if !byScore && !byLex && command.argument(index, equalsIgnoringCase: "BYLEX") {
                byLex = true
            } else if !byScore && !byLex && command.argument(index, equalsIgnoringCase: "BYSCORE") {
                byScore = true
            } else {
                connection.writeError(RedisError.syntax)
                return nil
            }
            index += 1
        }
        if limit != -1 && !byScore && !byLex {
            connection.writeError(
                "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
            return nil
        }
        if withScores && byLex {
            connection.writeError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
            return nil
        }
        // BYSCORE and BYLEX with REV take the range as max, min.
        let (low, high) = reverse && (byScore || byLex) ? (3, 2) : (2, 3)
        /// Both bounds, or nil after replying `error`.
        func bounds<Bound>(
            _ parse: (UnsafeRawBufferPointer) -> Bound?, _ error: StaticString, _ connection: inout ConnectionContext
        ) -> (Bound, Bound)? {
            guard let min = command.withArgument(low, parse), let max = command.withArgument(high, parse) else {
                connection.writeError(error)
                return nil
            }
            return (min, max)
        }
        if byScore {
            guard let (min, max) = bounds(Self.scoreBound, "ERR min or max is not a float", &connection) else {
                return nil
            }
            kind = .score(min: min, max: max)
        } else if byLex {
            guard let (min, max) = bounds(Self.lexBound, "ERR min or max not valid string range item", &connection)
            else { return nil }
            kind = .lex(min: min, max: max)
        } else {
            guard let start = command.integer(at: low), let end = command.integer(at: high) else {
                connection.writeError(RedisError.notInteger)
                return nil
            }
            kind = .rank(start: start, end: end)
        }
    }

    /// `(1.5` is exclusive, `1.5` inclusive (`zslParseRange`).
    static func scoreBound(_ bytes: UnsafeRawBufferPointer) -> ScoreBound? {
        let exclusive = bytes.first == UInt8(ascii: "(")
        let number = exclusive ? UnsafeRawBufferPointer(rebasing: bytes[1...]) : bytes
        return Numbers.rangeBound(number).map { ScoreBound(value: $0, exclusive: exclusive) }
    }

    /// `-` and `+` are the ends, `(abc` exclusive, `[abc` inclusive (`zslParseLexRangeItem`).
    static func lexBound(_ bytes: UnsafeRawBufferPointer) -> LexBound? {
        let second = bytes.count > 1 ? bytes[1] : 0
        switch bytes.first {
        case UInt8(ascii: "+"): return second == 0 ? .highest : nil
        case UInt8(ascii: "-"): return second == 0 ? .lowest : nil
        case UInt8(ascii: "("): return .bytes(Array(bytes.dropFirst()), exclusive: true)
        case UInt8(ascii: "["): return .bytes(Array(bytes.dropFirst()), exclusive: false)
        default: return nil
        }
    }

    /// The elements the query selects, in reply order.
    mutating func elements(of sortedSet: SortedSet) -> [SortedSet.Element] {
        var selected: [SortedSet.Element] = []
        switch kind {
        case .rank(let start, let end):
            guard let range = Numbers.clampedRange(start, end, count: sortedSet.count) else { return [] }
            // With REV, rank 0 is the highest score.
            let first = reverse ? sortedSet.count - 1 - range.lowerBound : range.lowerBound
            sortedSet.walk(from: first, reverse: reverse) { element in
                selected.append(element)
                return selected.count < range.count
            }
            return selected
        case .score(let min, let max):
            return select(
                sortedSet,
                aboveMin: { min.exclusive ? $0.score > min.value : $0.score >= min.value },
                belowMax: { max.exclusive ? $0.score < max.value : $0.score <= max.value })
        case .lex(let min, let max):
            return select(
                sortedSet,
                aboveMin: {
                    Self.compare($0.member, min).signum() == 1 || !min.isExclusive && Self.compare($0.member, min) == 0
                },
                belowMax: {
                    Self.compare($0.member, max).signum() == -1 || !max.isExclusive && Self.compare($0.member, max) == 0
                })
        }
    }

    /// A range by score or by member (`genericZrangebyscoreCommand`): from the first element in range (the last,
    /// in reverse), skip `offset` elements, then take up to `limit` (all if negative) while in range.
    private func select(
        _ sortedSet: SortedSet, aboveMin: (SortedSet.Element) -> Bool, belowMax: (SortedSet.Element) -> Bool
    ) -> [SortedSet.Element] {
        guard offset >= 0 && offset < sortedSet.count else { return [] }
        var selected: [SortedSet.Element] = []
        let start =
            reverse ? sortedSet.firstRank { belowMax($0) } - 1 - offset : sortedSet.firstRank { !aboveMin($0) } + offset
        var left = limit
        sortedSet.walk(from: start, reverse: reverse) { element in
            guard left != 0, reverse ? aboveMin(element) : belowMax(element) else { return false }
            selected.append(element)
            left -= 1
            return true
        }
        return selected
    }

    /// `member` against a lex bound (`sdscmplex`): -, 0 or + as it sorts before, equal to or after the bound.
    private static func compare(_ member: ByteString, _ bound: LexBound) -> Int {
        switch bound {
        case .lowest: 1
        case .highest: -1
        case .bytes(let bytes, _): member.withBytes { value in bytes.withUnsafeBytes { ByteString.compare(value, $0) } }
        }
    }
}

extension RangeQuery.LexBound {
    /// `-`, `+` and `(…` are exclusive.
    var isExclusive: Bool {
        switch self {
        case .lowest, .highest: true
        case .bytes(_, let exclusive): exclusive
        }
    }
}
