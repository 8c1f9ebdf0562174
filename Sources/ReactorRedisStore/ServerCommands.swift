import ReactorCore
import ReactorRESP

/// Commands about the connection and the server: PING, SELECT, HELLO, CLIENT, COMMAND and CONFIG GET (what
/// redis-cli, redis-benchmark and client libraries send when they connect).
extension RedisCommandHandler {
    func ping(_ command: borrowing RESPCommand, _ connection: inout ConnectionContext) {
        switch command.count {
        case 1: connection.writeSimpleString("PONG")
        case 2: connection.writeBulkString(command[1])
        default: connection.writeArityError("ping")
        }
    }

    func select(_ command: borrowing RESPCommand, _ state: inout RedisClient, _ connection: inout ConnectionContext) {
        guard let index = command.integer(at: 1) else {
            connection.writeError(RedisError.notInteger)
            return
        }
        guard index >= Int(Int32.min) && index <= Int(Int32.max) else {
            connection.writeError("ERR value is out of range, value must between -2147483648 and 2147483647")
            return
        }
        guard index >= 0 && index < KeyspaceShard.databaseCount else {
            connection.writeError("ERR DB index is out of range")
            return
        }
        state.database = index
        connection.writeOK()
    }

    /// HELLO [protover [AUTH username password] [SETNAME name]]: switches the connection to RESP2 or RESP3 and
    /// describes the server, in the protocol now in use. AUTH accepts the default user (which has no password here).
    func hello(_ command: borrowing RESPCommand, _ state: inout RedisClient, _ connection: inout ConnectionContext) {
        var index = 1
        var version: Int?
        if command.count >= 2 {
            guard let given = command.integer(at: 1) else {
                connection.writeError("ERR Protocol version is not an integer or out of range")
                return
            }
            guard given == 2 || given == 3 else {
                connection.writeError("NOPROTO unsupported protocol version")
                return
            }
            version = given
            index = 2
        }
        var name: [UInt8]??
        while index < command.count {
            let following = command.count - index - 1
            if command.argument(index, equalsIgnoringCase: "AUTH") && following >= 2 {
                guard command.withArgument(index + 1, { $0.elementsEqual("default".utf8) }) else {
                    connection.writeError("WRONGPASS invalid username-password pair or user is disabled.")
                    return
                }
                index += 3
            } else if command.argument(index, equalsIgnoringCase: "SETNAME") && following >= 1 {
                guard let valid = command.withArgument(index + 1, Self.validClientName) else {
                    connection.writeError("ERR Client names cannot contain spaces, newlines or special characters.")
                    return
                }
                name = .some(valid)
                index += 2
            } else {
                let option = command.withArgument(index) { Self.cString($0, limit: .max) }
                connection.writeError(
                    bytes: Array("ERR Syntax error in HELLO option '".utf8) + option + [UInt8(ascii: "'")])
                return
            }
        }
        if let name { state.name = name }
        if let version { state.resp3 = version == 3 }
        connection.writeHeader(.map, count: 14, resp3: state.resp3)
        connection.writeBulkString("server")
        connection.writeBulkString("redis")
        connection.writeBulkString("version")
        connection.writeBulkString("7.0.15")
        connection.writeBulkString("proto")
        connection.writeInteger(state.resp3 ? 3 : 2)
        connection.writeBulkString("id")
        connection.writeInteger(state.id)
        connection.writeBulkString("mode")
        connection.writeBulkString("standalone")
        connection.writeBulkString("role")
        connection.writeBulkString("master")
        connection.writeBulkString("modules")
        connection.writeEmptyArray()
    }

    /// A name CLIENT SETNAME accepts: `!`…`~` only; empty clears the name (nil inside). Nil if invalid.
    static func validClientName(_ bytes: UnsafeRawBufferPointer) -> [UInt8]?? {
        guard bytes.allSatisfy({ $0 >= UInt8(ascii: "!") && $0 <= UInt8(ascii: "~") }) else { return nil }
        return .some(bytes.isEmpty ? nil : Array(bytes))
    }

    /// CLIENT SETNAME, GETNAME and ID.
    func client(_ command: borrowing RESPCommand, _ state: inout RedisClient, _ connection: inout ConnectionContext) {
        if command.argument(1, equalsIgnoringCase: "SETNAME") {
            guard command.count == 3 else { return connection.writeArityError("client|setname") }
            guard let name = command.withArgument(2, Self.validClientName) else {
                connection.writeError("ERR Client names cannot contain spaces, newlines or special characters.")
                return
            }
            state.name = name
            connection.writeOK()
        } else if command.argument(1, equalsIgnoringCase: "GETNAME") {
            guard command.count == 2 else { return connection.writeArityError("client|getname") }
            if let name = state.name {
                name.withUnsafeBytes { connection.writeBulkString($0) }
            } else {
                connection.writeNull(Session(database: state.database, resp3: state.resp3))
            }
        } else if command.argument(1, equalsIgnoringCase: "ID") {
            guard command.count == 2 else { return connection.writeArityError("client|id") }
            connection.writeInteger(state.id)
        } else {
            replyUnknownCommand(command, &connection)
        }
    }

    /// COMMAND, COMMAND DOCS and COMMAND INFO answer that nothing is documented (`*0`, nulls): enough for redis-cli,
    /// which then uses its built-in help. COMMAND COUNT counts the commands this server knows.
    func commandCommand(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        if command.count == 1 {
            connection.writeEmptyArray()
        } else if command.argument(1, equalsIgnoringCase: "DOCS") {
            connection.writeEmpty(.map, session)
        } else if command.argument(1, equalsIgnoringCase: "COUNT") {
            guard command.count == 2 else { return connection.writeArityError("command|count") }
            connection.writeInteger(RedisCommands.count)
        } else if command.argument(1, equalsIgnoringCase: "INFO") {
            connection.writeArrayHeader(count: command.count - 2)
            for _ in 2..<command.count { connection.writeNull(session) }
        } else {
            replyUnknownCommand(command, &connection)
        }
    }

    /// CONFIG GET parameter [parameter …]: names or globs (case-insensitive), answered from the settings as name,
    /// value pairs; a name this server does not have is left out, as redis leaves out unknown names.
    func config(_ command: borrowing RESPCommand, _ session: Session, _ connection: inout ConnectionContext) {
        guard command.argument(1, equalsIgnoringCase: "GET") else {
            replyUnknownCommand(command, &connection)
            return
        }
        guard command.count >= 3 else { return connection.writeArityError("config|get") }
        let parameters = configParameters
        var matches: [(name: [UInt8], value: String)] = []
        var matched: Set<String> = []  // parameters already answered, each once, under the name first matched
        for index in 2..<command.count {
            command.withArgument(index) { pattern in
                let text = pattern.prefix { $0 != 0 }
                let isGlob = text.contains {
                    $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[")
                }
                let glob = GlobPattern(pattern: pattern, ignoringCase: true)
                for parameter in parameters where !matched.contains(parameter.name) {
                    let hit = Array(parameter.name.utf8).withUnsafeBytes { name in
                        isGlob ? glob.matches(name) : Self.equalIgnoringCase(pattern, name)
                    }
                    guard hit else { continue }
                    matched.insert(parameter.name)
                    // An exact name is answered as the client spelled it, a glob's matches by their own names.
                    matches.append((isGlob ? Array(parameter.name.utf8) : Array(pattern), parameter.value))
                }
            }
        }
        connection.writeHeader(.map, count: matches.count * 2, resp3: session.resp3)
        for match in matches {
            match.name.withUnsafeBytes { connection.writeBulkString($0) }
            Array(match.value.utf8).withUnsafeBytes { connection.writeBulkString($0) }
        }
    }

    /// The parameters CONFIG GET knows, with redis's names. `save` is empty and `appendonly` is `no`: nothing is
    /// persisted.
    var configParameters: [(name: String, value: String)] {
        [
            ("save", ""), ("appendonly", "no"), ("databases", String(KeyspaceShard.databaseCount)),
            ("maxclients", String(settings.maxClients)), ("timeout", String(settings.idleTimeoutSeconds)),
            ("proto-max-bulk-len", String(settings.maxBulkLength)), ("port", String(settings.port)),
            ("bind", settings.bind),
        ]
    }
}
