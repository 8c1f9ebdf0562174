import ReactorCore
import ReactorRESP

/// The commands a connection queued between MULTI and EXEC, re-encoded as multibulk requests (the request's own
/// bytes are only borrowed), and whether one was refused (EXEC then discards them all).
struct RedisTransaction: Sendable {
    /// The queued requests, one after another.
    var requests: [UInt8] = []
    var count = 0
    /// A command was refused while queueing (unknown, wrong arity, or the queue full): EXEC replies EXECABORT.
    var aborted = false
}

/// MULTI, EXEC and DISCARD (redis's `src/multi.c`). Between MULTI and EXEC every command but EXEC, DISCARD, MULTI
/// and QUIT is checked (name and arity, as redis does before queueing) and queued with `+QUEUED`; EXEC runs the
/// queue with every shard of the keyspace held, so no other loop's command runs in between (redis's transactions are
/// atomic because it has one thread), and replies with an array of the queued commands' replies. WATCH is not
/// supported.
extension RedisCommandHandler {
    /// The most bytes a connection may queue in one transaction: what one request may be
    /// (``RedisSettings/maxBulkLength`` plus ``RedisServer/requestHeadroom``). Past it the command is refused and the
    /// transaction aborted (redis has no such limit of its own; it would grow until `maxmemory-clients`).
    var maxQueuedBytes: Int { settings.maxBulkLength + RedisServer.requestHeadroom }

    func multi(_ state: inout RedisClient, _ connection: inout ConnectionContext) {
        if state.transaction != nil { return connection.writeError("ERR MULTI calls can not be nested") }
        state.transaction = RedisTransaction()
        connection.writeSimpleString("OK")
    }

    func discard(_ state: inout RedisClient, _ connection: inout ConnectionContext) {
        guard state.transaction != nil else { return connection.writeError("ERR DISCARD without MULTI") }
        state.transaction = nil
        connection.writeSimpleString("OK")
    }

    /// Inside MULTI: queues a command that passed the name and arity checks.
    func queue(_ command: borrowing RESPCommand, _ state: inout RedisClient, _ connection: inout ConnectionContext) {
        // An aborted transaction still answers QUEUED (as redis does) but keeps nothing: EXEC will discard it.
        if state.transaction.unsafelyUnwrapped.aborted { return connection.writeSimpleString("QUEUED") }
        var size = 16
        for index in 0..<command.count { size += command.withArgument(index) { $0.count } + 24 }
        guard state.transaction.unsafelyUnwrapped.requests.count + size <= maxQueuedBytes else {
            state.transaction?.requests = []  // aborted: nothing of it will run, so give the memory back now
            state.transaction?.aborted = true
            return connection.writeError("ERR transaction discarded: its queued commands passed the size limit")
        }
        state.transaction?.count += 1
        state.transaction?.requests.append(contentsOf: "*\(command.count)\r\n".utf8)
        for index in 0..<command.count {
            command.withArgument(index) { argument in
                state.transaction?.requests.append(contentsOf: "$\(argument.count)\r\n".utf8)
                state.transaction?.requests.append(contentsOf: argument)
                state.transaction?.requests.append(contentsOf: [0x0D, 0x0A])
            }
        }
        connection.writeSimpleString("QUEUED")
    }

    /// Marks the transaction in progress, if any, as aborted: a command was refused before it could be queued.
    func refuseInTransaction(_ state: inout RedisClient) {
        if state.transaction != nil {
            state.transaction?.aborted = true
            state.transaction?.requests = []
        }
    }

    /// EXEC with arguments: redis's `rejectCommand` aborts the transaction (if any) with the arity error inside
    /// its EXECABORT reply.
    func execRefused(_ state: inout RedisClient, _ connection: inout ConnectionContext) {
        state.transaction = nil
        connection.writeError(
            "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
    }

    func exec(_ state: inout RedisClient, _ connection: inout ConnectionContext) {
        guard let transaction = state.transaction else { return connection.writeError("ERR EXEC without MULTI") }
        state.transaction = nil
        if transaction.aborted {
            return connection.writeError("EXECABORT Transaction discarded because of previous errors.")
        }
        connection.writeArrayHeader(count: transaction.count)
        if transaction.count == 0 { return }
        // The queue runs through a copy of this handler over the same keys whose shard locks are all held here.
        var held = RedisCommandHandler<HeldKeyspace<Space>>(
            keyspace: HeldKeyspace(keyspace), settings: settings, clients: clients)
        let arguments = RESPArguments()
        let decoder = RESPRequestDecoder(maxBulkLength: .max, maxArguments: .max, maxInlineLength: .max)
        keyspace.withShards(Space.allShards) {
            transaction.requests.withUnsafeBytes { requests in
                var offset = 0
                while offset < requests.count {
                    let step = try? decoder.decode(
                        UnsafeRawBufferPointer(rebasing: requests[offset...]), into: arguments)
                    guard case .request(_, let consumed) = step else {
                        preconditionFailure("a queued request does not decode: \(String(describing: step))")
                    }
                    arguments.withCommand { command in
                        // Checked when it was queued: a known name, a valid arity.
                        let id = RedisCommands.table[command.name.unsafelyUnwrapped].unsafelyUnwrapped.id
                        held.execute(id, command, &state, &connection)
                    }
                    offset += consumed
                }
            }
        }
    }
}
