import ReactorCore
import ReactorRESP

/// SET's options (`parseExtendedStringArgumentsOrReply` in redis's `src/t_string.c`).
struct SetOptions {
    enum Expiry {
        case none, seconds, milliseconds, unixSeconds, unixMilliseconds
    }

    var ifAbsent = false
    var ifPresent = false
    var returnOld = false
    var keepTTL = false
    var expiry = Expiry.none
    var expiryArgument = 0

    /// Parses the options after `SET key value`; nil for redis's syntax error. An option that conflicts with one
    /// already given is a syntax error (NX with XX, KEEPTTL with an expiry, two different expiries), but a repeat
    /// is not (`EX 1 EX 2`: the last wins).
    init?(_ command: borrowing RESPCommand) {
        var index = 3
        while index < command.count {
            let hasNext = index + 1 < command.count
            let hasExpiry = expiry != .none
            if command.argument(index, equalsIgnoringCase: "NX") && !ifPresent {
                ifAbsent = true
            } else if command.argument(index, equalsIgnoringCase: "XX") && !ifAbsent {
                ifPresent = true
            } else if command.argument(index, equalsIgnoringCase: "GET") {
                returnOld = true
            } else if command.argument(index, equalsIgnoringCase: "KEEPTTL") && !hasExpiry {
                keepTTL = true
            } else if let kind = Self.expiry(command, index), hasNext && !keepTTL && (!hasExpiry || expiry == kind) {
                expiry = kind
                expiryArgument = index + 1
                index += 1
            } else {
                return nil
            }
            index += 1
        }
    }

    private static func expiry(_ command: borrowing RESPCommand, _ index: Int) -> Expiry? {
        if command.argument(index, equalsIgnoringCase: "EX") { return .seconds }
        if command.argument(index, equalsIgnoringCase: "PX") { return .milliseconds }
        if command.argument(index, equalsIgnoringCase: "EXAT") { return .unixSeconds }
        if command.argument(index, equalsIgnoringCase: "PXAT") { return .unixMilliseconds }
        return nil
    }
}

extension Database {
    /// Stores string `value` under `key`, which is in `slot` (any type) or absent (nil): in place when the old
    /// value is a string with room for it, else in a new allocation of at least `capacity` bytes. The expiry
    /// becomes `expiresAt` (0: none), or stays with `keepTTL`.
    func storeString(
        _ value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, hash: UInt64, slot: Int?,
        expiresAt: Int64 = 0, keepTTL: Bool = false, capacity: Int = 0
    ) {
        guard let slot else {
            add(key, hash: hash, value: .string(ByteString.make(value, capacity: capacity)), expiresAt: expiresAt)
            return
        }
        if case .string(let old) = self[payloadAt: slot].value, old.overwrite(with: value) {
        } else {
            self[payloadAt: slot].value = .string(ByteString.make(value, capacity: capacity))
        }
        if !keepTTL { setExpiry(at: slot, expiresAt) }
    }
}

extension RedisCommandHandler {
    func get(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withKey(command, 1, session.database) { db, key, hash in
            var now = Now()
            _ = replyWithString(db, db.lookup(key, hash: hash, now: &now), session, &connection)
        }
    }

    /// GET's reply for the key in `slot`: its value, `$-1` if absent, WRONGTYPE (and false) if not a string.
    func replyWithString(
        _ db: Database, _ slot: Int?, _ session: Session, _ connection: inout ConnectionContext
    ) -> Bool {
        guard let slot else {
            connection.writeNull(session)
            return true
        }
        guard case .string(let value) = db[payloadAt: slot].value else {
            connection.writeError(RedisError.wrongType)
            return false
        }
        connection.writeBulkString(value)
        return true
    }

    func set(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        guard let options = SetOptions(command) else {
            connection.writeError(RedisError.syntax)
            return
        }
        var now = Now()
        var expiresAt: Int64 = 0
        if options.expiry != .none {
            guard let given = command.integer(at: options.expiryArgument) else {
                connection.writeError(RedisError.notInteger)
                return
            }
            let seconds = options.expiry == .seconds || options.expiry == .unixSeconds
            let relative = options.expiry == .seconds || options.expiry == .milliseconds
            // Redis's getExpireMillisecondsOrReply: positive, no overflow in the unit change or in adding now.
            guard given > 0, !seconds || given <= Int.max / 1000 else {
                connection.writeError("ERR invalid expire time in 'set' command")
                return
            }
            expiresAt = Int64(seconds ? given * 1000 : given)
            if relative { expiresAt = expiresAt &+ now.milliseconds }
            guard expiresAt > 0 else {
                connection.writeError("ERR invalid expire time in 'set' command")
                return
            }
        }
        withKey(command, 1, session.database) { db, key, hash in
            let slot = db.lookup(key, hash: hash, now: &now)
            if options.returnOld && !replyWithString(db, slot, session, &connection) { return }
            if (options.ifAbsent && slot != nil) || (options.ifPresent && slot == nil) {
                if !options.returnOld { connection.writeNull(session) }
                return
            }
            command.withArgument(2) { value in
                db.storeString(value, key: key, hash: hash, slot: slot, expiresAt: expiresAt, keepTTL: options.keepTTL)
            }
            if !options.returnOld { connection.writeOK() }
        }
    }

    func setIfAbsent(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withKey(command, 1, session.database) { db, key, hash in
            var now = Now()
            if db.lookup(key, hash: hash, now: &now) != nil {
                connection.writeInteger(0)
                return
            }
            command.withArgument(2) { db.storeString($0, key: key, hash: hash, slot: nil) }
            connection.writeInteger(1)
        }
    }

    func getSet(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withKey(command, 1, session.database) { db, key, hash in
            var now = Now()
            let slot = db.lookup(key, hash: hash, now: &now)
            guard replyWithString(db, slot, session, &connection) else { return }
            command.withArgument(2) { db.storeString($0, key: key, hash: hash, slot: slot) }
        }
    }

    func getDelete(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withKey(command, 1, session.database) { db, key, hash in
            var now = Now()
            let slot = db.lookup(key, hash: hash, now: &now)
            if replyWithString(db, slot, session, &connection), let slot { db.delete(at: slot) }
        }
    }

    func increment(
        _ command: borrowing RESPCommand, _ session: Session, by increment: Int, _ connection: inout ConnectionContext
    ) {
        withKey(command, 1, session.database) { db, key, hash in
            var now = Now()
            let slot = db.lookup(key, hash: hash, now: &now)
            var current = 0
            if let slot {
                guard case .string(let value) = db[payloadAt: slot].value else {
                    connection.writeError(RedisError.wrongType)
                    return
                }
                guard let parsed = value.withBytes(Numbers.integer) else {
                    connection.writeError(RedisError.notInteger)
                    return
                }
                current = parsed
            }
            let (result, overflow) = current.addingReportingOverflow(increment)
            guard !overflow else {
                connection.writeError("ERR increment or decrement would overflow")
                return
            }
            // A counter gets room for any 64-bit value, so it never moves again.
            Numbers.withDecimal(result) {
                db.storeString($0, key: key, hash: hash, slot: slot, keepTTL: true, capacity: 20)
            }
            connection.writeInteger(result)
        }
    }

    func incrementBy(
        _ command: borrowing RESPCommand, _ session: Session, negated: Bool, _ connection: inout ConnectionContext
    ) {
        guard let given = command.integer(at: 2) else {
            connection.writeError(RedisError.notInteger)
            return
        }
        if negated && given == Int.min {
            connection.writeError("ERR decrement would overflow")
            return
        }
        increment(command, session, by: negated ? -given : given, &connection)
    }

    func append(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        let limit = settings.maxBulkLength
        withKey(command, 1, session.database) { db, key, hash in
            var now = Now()
            command.withArgument(2) { suffix in
                guard let slot = db.lookup(key, hash: hash, now: &now) else {
                    db.storeString(suffix, key: key, hash: hash, slot: nil)
                    connection.writeInteger(suffix.count)
                    return
                }
                guard case .string(let value) = db[payloadAt: slot].value else {
                    connection.writeError(RedisError.wrongType)
                    return
                }
                let total = value.count + suffix.count
                guard total <= limit else {
                    connection.writeError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
                    return
                }
                if !value.append(suffix) {
                    // Room to grow, as redis's sds does: double up to 1 MiB, then 1 MiB more at a time.
                    let room = min(limit, total < 1 << 20 ? total * 2 : total + (1 << 20))
                    let grown = value.withBytes { ByteString.make($0, capacity: room) }
                    _ = grown.append(suffix)
                    db[payloadAt: slot].value = .string(grown)
                }
                connection.writeInteger(total)
            }
        }
    }

    func stringLength(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withKey(command, 1, session.database) { db, key, hash in
            var now = Now()
            guard let slot = db.lookup(key, hash: hash, now: &now) else {
                connection.writeInteger(0)
                return
            }
            guard case .string(let value) = db[payloadAt: slot].value else {
                connection.writeError(RedisError.wrongType)
                return
            }
            connection.writeInteger(value.count)
        }
    }

    func multipleGet(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        withKeys(command, from: 1) {
            var now = Now()
            connection.writeArrayHeader(count: command.count - 1)
            for index in 1..<command.count {
                command.withArgument(index) { key in
                    let (db, hash) = lockedKey(key, session.database)
                    if let slot = db.lookup(key, hash: hash, now: &now),
                        case .string(let value) = db[payloadAt: slot].value
                    {
                        connection.writeBulkString(value)
                    } else {
                        connection.writeNull(session)  // missing, or not a string: MGET never says WRONGTYPE
                    }
                }
            }
        }
    }

    func multipleSet(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        guard command.count % 2 == 1 else {
            connection.writeArityError("mset")
            return
        }
        withKeys(command, from: 1, step: 2) {
            var now = Now()
            for index in stride(from: 1, to: command.count, by: 2) {
                command.withArgument(index) { key in
                    let (db, hash) = lockedKey(key, session.database)
                    let slot = db.lookup(key, hash: hash, now: &now)
                    command.withArgument(index + 1) { db.storeString($0, key: key, hash: hash, slot: slot) }
                }
            }
        }
        connection.writeOK()
    }
}
