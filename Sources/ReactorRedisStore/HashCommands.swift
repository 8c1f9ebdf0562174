import ReactorCore
import ReactorRESP

/// HSET, HMSET, HGET, HGETALL, HDEL, HLEN and HEXISTS (redis's `src/t_hash.c`). Fields keep the order they were
/// first set in; a hash that empties is deleted.
extension RedisCommandHandler {
    /// HSET (replies with the number of fields added) and HMSET (replies `+OK`).
    func hashSet(
        _ command: borrowing RESPCommand, _ session: Session, replyOK: Bool, _ connection: inout ConnectionContext
    ) {
        guard command.count % 2 == 0 else {
            connection.writeArityError(replyOK ? "hmset" : "hset")
            return
        }
        withValue(command, session.database, RedisValue.asHash, &connection) { key, existing, connection in
            let fields = existing ?? OrderedByteMap()
            if existing == nil { key.create(.hash(fields)) }
            var added = 0
            for index in stride(from: 2, to: command.count, by: 2) {
                command.withArgument(index) { field in
                    let hash = ByteHash.of(field)
                    command.withArgument(index + 1) { value in
                        // A field's value is replaced in place when it fits, as a string key's is.
                        if let position = fields.position(of: field, hash: hash),
                            fields[position].value.overwrite(with: value)
                        {
                            return
                        }
                        if fields.set(field, hash: hash, value: ByteString.make(value)) { added += 1 }
                    }
                }
            }
            if replyOK { connection.writeOK() } else { connection.writeInteger(added) }
        }
    }

    func hashGet(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asHash, &connection) { _, fields, connection in
            let position = command.withArgument(2) { fields?.position(of: $0, hash: ByteHash.of($0)) }
            if let fields, let position {
                connection.writeBulkString(fields[position].value)
            } else {
                connection.writeNull(session)
            }
        }
    }

    func hashGetAll(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asHash, &connection) { _, fields, connection in
            guard let fields else {
                connection.writeEmpty(.map, session)
                return
            }
            var items: [UnsafeRawBufferPointer] = []  // field, value, field, …: in place, the shard is locked
            items.reserveCapacity(fields.count * 2)
            for entry in fields.inOrder {
                items.append(entry.key.bytes)
                items.append(entry.value.bytes)
            }
            connection.writeBulkArray(count: items.count, as: .map, resp3: session.resp3) { items[$0] }
        }
    }

    func hashDelete(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        removeMembers(
            command, session.database, RedisValue.asHash, &connection, remove: { $0.remove($1, hash: $2) },
            count: \.count)
    }

    func hashLength(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asHash, &connection) { _, fields, connection in
            connection.writeInteger(fields?.count ?? 0)
        }
    }

    func hashExists(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asHash, &connection) { _, fields, connection in
            let found = command.withArgument(2) { fields?.position(of: $0, hash: ByteHash.of($0)) != nil }
            connection.writeInteger(found ? 1 : 0)
        }
    }
}
