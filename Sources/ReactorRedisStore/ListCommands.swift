import ReactorCore
import ReactorRESP

/// LPUSH, RPUSH, LPOP, RPOP, LRANGE, LLEN and LINDEX (redis's `src/t_list.c`). A list that empties is deleted.
extension RedisCommandHandler {
    func push(
        _ command: borrowing RESPCommand, _ session: Session, atFront: Bool, _ connection: inout ConnectionContext
    ) {
        withValue(command, session.database, RedisValue.asList, &connection) { key, existing, connection in
            let list = existing ?? RedisList()
            if existing == nil { key.create(.list(list)) }
            for index in 2..<command.count {
                let element = command.withArgument(index) { ByteString.make($0) }
                if atFront { list.pushFront(element) } else { list.pushBack(element) }
            }
            connection.writeInteger(list.count)
        }
    }

    /// LPOP and RPOP, with an optional count (then an array, or `*-1` for no key).
    func pop(
        _ command: borrowing RESPCommand, _ session: Session, fromFront: Bool, _ connection: inout ConnectionContext
    ) {
        guard command.count <= 3 else {
            connection.writeArityError(fromFront ? "lpop" : "rpop")
            return
        }
        let hasCount = command.count == 3
        guard let count = popCount(command, &connection) else { return }
        withValue(command, session.database, RedisValue.asList, &connection) { key, list, connection in
            guard let list else {
                connection.writeNull(session, array: hasCount)
                return
            }
            let popped = min(count, list.count)
            if hasCount { connection.writeArrayHeader(count: popped) }
            for _ in 0..<popped { connection.writeBulkString(fromFront ? list.popFront() : list.popBack()) }
            if list.count == 0 { key.delete() }
        }
    }

    func listRange(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        guard let start = command.integer(at: 2), let end = command.integer(at: 3) else {
            connection.writeError(RedisError.notInteger)
            return
        }
        withValue(command, session.database, RedisValue.asList, &connection) { _, list, connection in
            guard let list, let range = Numbers.clampedRange(start, end, count: list.count) else {
                connection.writeEmptyArray()
                return
            }
            let elements = list.elements
            connection.writeBulkArray(count: range.count) { elements[range.lowerBound + $0] }
        }
    }

    func listLength(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asList, &connection) { _, list, connection in
            connection.writeInteger(list?.count ?? 0)
        }
    }

    /// LINDEX: the key is looked up (and its type checked) before the index is parsed, as in redis.
    func listIndex(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asList, &connection) { _, list, connection in
            guard let list else {
                connection.writeNull(session)
                return
            }
            guard let given = command.integer(at: 2) else {
                connection.writeError(RedisError.notInteger)
                return
            }
            let index = given < 0 ? list.count + given : given
            if index >= 0 && index < list.count {
                connection.writeBulkString(list.element(index))
            } else {
                connection.writeNull(session)
            }
        }
    }
}
