import ReactorRESP

/// The commands the store answers.
enum CommandID {
    // Connection and server
    case ping, echo, quit, select, hello, client, command, config, dbsize, flushdb, flushall, securityWarning
    // Transactions
    case multi, exec, discard
    // Strings
    case set, get, getset, getdel, incr, incrby, decr, decrby, append, strlen, setnx, mget, mset
    // Keys
    case del, exists, expire, pexpire, ttl, pttl, persist, type, keys, scan
    // Lists
    case lpush, rpush, lpop, rpop, lrange, llen, lindex
    // Sets
    case sadd, srem, scard, smembers, sismember, spop
    // Hashes
    case hset, hmset, hget, hgetall, hdel, hlen, hexists
    // Sorted sets
    case zadd, zincrby, zrange, zscore, zcard, zpopmin, zpopmax, zrem
}

/// A command's dispatch entry: what it is, its arity (redis's: a positive arity is the exact argument count, the
/// name included; a negative one is the minimum) and its lower-case name for the wrong-arity error.
struct CommandSpec {
    let id: CommandID
    let arity: Int
    let name: StaticString

    /// Whether the command runs at once inside MULTI rather than being queued (redis's `processCommand`: EXEC,
    /// DISCARD, MULTI and QUIT, and what closes the connection).
    var runsInTransaction: Bool {
        switch id {
        case .exec, .discard, .multi, .quit, .securityWarning: true
        default: false
        }
    }

    @inline(__always)
    func accepts(_ argumentCount: Int) -> Bool {
        arity > 0 ? argumentCount == arity : argumentCount >= -arity
    }
}

/// Name to command, as redis 7.0.15's command table has them (`src/commands/*.json`).
@_spi(Fuzzing) public enum RedisCommands {
    /// Every command: its lower-case name, what it is, its arity.
    static let specs: [(StaticString, CommandID, Int)] = [
        ("ping", .ping, -1), ("echo", .echo, 2), ("quit", .quit, -1), ("select", .select, 2),
        ("hello", .hello, -1), ("client", .client, -2), ("command", .command, -1), ("config", .config, -2),
        ("dbsize", .dbsize, 1), ("flushdb", .flushdb, -1), ("flushall", .flushall, -1),
        ("host:", .securityWarning, -1), ("post", .securityWarning, -1),
        ("multi", .multi, 1), ("exec", .exec, 1), ("discard", .discard, 1),
        ("set", .set, -3), ("get", .get, 2), ("getset", .getset, 3), ("getdel", .getdel, 2),
        ("incr", .incr, 2), ("incrby", .incrby, 3), ("decr", .decr, 2), ("decrby", .decrby, 3),
        ("append", .append, 3), ("strlen", .strlen, 2), ("setnx", .setnx, 3), ("mget", .mget, -2),
        ("mset", .mset, -3),
        ("del", .del, -2), ("exists", .exists, -2), ("expire", .expire, -3), ("pexpire", .pexpire, -3),
        ("ttl", .ttl, 2), ("pttl", .pttl, 2), ("persist", .persist, 2), ("type", .type, 2), ("keys", .keys, 2),
        ("scan", .scan, -2),
        ("lpush", .lpush, -3), ("rpush", .rpush, -3), ("lpop", .lpop, -2), ("rpop", .rpop, -2),
        ("lrange", .lrange, 4), ("llen", .llen, 2), ("lindex", .lindex, 3),
        ("sadd", .sadd, -3), ("srem", .srem, -3), ("scard", .scard, 2), ("smembers", .smembers, 2),
        ("sismember", .sismember, 3), ("spop", .spop, -2),
        ("hset", .hset, -4), ("hmset", .hmset, -4), ("hget", .hget, 3), ("hgetall", .hgetall, 2),
        ("hdel", .hdel, -3), ("hlen", .hlen, 2), ("hexists", .hexists, 3),
        ("zadd", .zadd, -4), ("zincrby", .zincrby, 4), ("zrange", .zrange, -4), ("zscore", .zscore, 3),
        ("zcard", .zcard, 2), ("zpopmin", .zpopmin, -2), ("zpopmax", .zpopmax, -2), ("zrem", .zrem, -3),
    ]

    static let table = RESPCommandTable(
        specs.map { (RESPCommandName($0.0), CommandSpec(id: $0.1, arity: $0.2, name: $0.0)) })

    /// Every name in the table, lower case and sorted: what a fuzzer draws command names from.
    @_spi(Fuzzing) public static let names: [String] = specs.map { "\($0.0)" }.sorted()

    /// Commands with subcommands: an unknown subcommand is reported as such (`Try CONFIG HELP.`).
    static let containers: Set<RESPCommandName> = [
        RESPCommandName("CONFIG"), RESPCommandName("CLIENT"), RESPCommandName("COMMAND"),
    ]

    /// COMMAND COUNT's answer: the commands this server knows.
    static var count: Int { table.count }
}

/// Error replies redis shares between commands (`src/server.c`, `createSharedObjects`, and `src/object.c`).
enum RedisError {
    static let wrongType: StaticString = "WRONGTYPE Operation against a key holding the wrong kind of value"
    static let syntax: StaticString = "ERR syntax error"
    static let notInteger: StaticString = "ERR value is not an integer or out of range"
    static let notFloat: StaticString = "ERR value is not a valid float"
    static let notPositive: StaticString = "ERR value is out of range, must be positive"
}
