import ReactorCore
import ReactorRESP

/// SADD, SREM, SCARD, SMEMBERS, SISMEMBER and SPOP (redis's `src/t_set.c`). A set that empties is deleted.
extension RedisCommandHandler {
    func setAdd(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asSet, &connection) { key, existing, connection in
            let set = existing ?? RedisSet()
            if existing == nil { key.create(.set(set)) }
            var added = 0
            for index in 2..<command.count {
                command.withArgument(index) { member in
                    if set.add(member, hash: ByteHash.of(member)) { added += 1 }
                }
            }
            connection.writeInteger(added)
        }
    }

    func setRemove(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        removeMembers(
            command, session.database, RedisValue.asSet, &connection, remove: { $0.members.remove($1, hash: $2) },
            count: \.members.count)
    }

    func setCardinality(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asSet, &connection) { _, set, connection in
            connection.writeInteger(set?.members.count ?? 0)
        }
    }

    func setIsMember(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asSet, &connection) { _, set, connection in
            let found = command.withArgument(2) { set?.members.position(of: $0, hash: ByteHash.of($0)) != nil }
            connection.writeInteger(found ? 1 : 0)
        }
    }

    func setMembers(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withValue(command, session.database, RedisValue.asSet, &connection) { _, set, connection in
            guard let set else {
                connection.writeEmpty(.set, session)
                return
            }
            Self.writeMembers(set, session, &connection)
        }
    }

    /// A whole set as an array: in numeric order while redis would keep it as an intset, else in insertion order.
    static func writeMembers(_ set: RedisSet, _ session: Session, _ connection: inout ConnectionContext) {
        var members: [ByteString] = []
        members.reserveCapacity(set.members.count)
        for entry in set.members.inOrder { members.append(entry.key) }
        if set.isIntset {
            members.sort { $0.withBytes(Numbers.integer)! < $1.withBytes(Numbers.integer)! }
        }
        connection.writeBulkArray(count: members.count, as: .set, resp3: session.resp3) { members[$0].bytes }
    }

    /// SPOP key [count]: one random member, or `count` of them as an array (`*0` for no key).
    func setPop(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        guard command.count <= 3 else {
            connection.writeError(RedisError.syntax)
            return
        }
        let hasCount = command.count == 3
        guard let count = popCount(command, &connection) else { return }
        withValue(command, session.database, RedisValue.asSet, &connection) { key, set, connection in
            guard let set else {
                if hasCount { connection.writeEmpty(.set, session) } else { connection.writeNull(session) }
                return
            }
            if hasCount && count >= set.members.count {
                Self.writeMembers(set, session, &connection)
                key.delete()
                return
            }
            if hasCount { connection.writeHeader(.set, count: count, resp3: session.resp3) }
            for _ in 0..<count {
                connection.writeBulkString(set.members.remove(at: set.members.randomPosition()).key)
            }
            if set.members.count == 0 { key.delete() }
        }
    }
}
