import Dispatch
import ReactorCore
import ReactorRESP
import ReactorRedisStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// reactor-redis on loopback: each command family answered byte for byte as redis 7.0.15 answers (the requests
/// and replies in ``RedisServerExchanges``), with one loop (the unlocked keyspace) and with two (the sharded one);
/// pipelining, SELECT, expiry, QUIT, maxclients, SCAN's guarantee, and several loops changing one key.
extension LoopbackTests {
    @Suite struct RedisServerReplies {
        @Test(arguments: RedisServerExchanges.families, [1, 2])
        func commandFamilyAnswersAsRedis(family: RedisServerExchanges.Family, loops: Int) throws {
            try RedisTestServer.converse(family.exchanges, loops: loops)
        }

        @Test func connectionAndServerCommandsAnswerAsRedis() throws {
            try RedisTestServer.converse(RedisServerExchanges.server, loops: 2)
        }

        @Test(arguments: [1, 2]) func keysMatchGlobsAsRedis(loops: Int) throws {
            try RedisTestServer.run(loops: loops) { port in
                let client = try TestClient(port: port)
                let reader = RedisReplyReader(client)
                for key in RedisServerExchanges.globKeys {
                    try RedisTestServer.expect(client, ["SET", key, "v"], "+OK\r\n")
                }
                for (pattern, expected) in RedisServerExchanges.globMatches {
                    try client.send(RedisTestServer.request("KEYS", pattern))
                    guard case .array(let keys) = try reader.next() else {
                        throw TestClient.Failure(description: "KEYS")
                    }
                    #expect(
                        keys.map(\.description).sorted()
                            == expected.map { "\(RedisReplyReader.Reply.bulk($0))" }.sorted(), "\(pattern)")
                }
            }
        }

        @Test func inlineCommandsAndHelloWithTheClientsID() throws {
            try RedisTestServer.run(loops: 1) { port in
                let client = try TestClient(port: port)
                try client.send(Array("PING\r\nSET k \"a b\"\r\nGET k\r\nECHO 'x y'\r\n".utf8))
                let expected = "+PONG\r\n+OK\r\n$3\r\na b\r\n$3\r\nx y\r\n"
                #expect(try client.receive(exactly: expected.utf8.count) == Array(expected.utf8))
                try client.send(RedisTestServer.request("CLIENT", "ID"))
                let id = try RedisReplyReader(client).next()
                try client.send(RedisTestServer.request("HELLO", "2", "SETNAME", "tester"))
                let hello =
                    "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n"
                    + "$2\r\nid\r\n\(id)$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
                    + "$7\r\nmodules\r\n*0\r\n"
                #expect(String(decoding: try client.receive(exactly: hello.utf8.count), as: UTF8.self) == hello)
                try client.send(RedisTestServer.request("CLIENT", "GETNAME") + RedisTestServer.request("HELLO", "4"))
                let expectedName = "$6\r\ntester\r\n-NOPROTO unsupported protocol version\r\n"
                #expect(try client.receive(exactly: expectedName.utf8.count) == Array(expectedName.utf8))
            }
        }

        @Test(arguments: [1, 2]) func afterHello3RepliesAreRESP3AsRedisSendsThem(loops: Int) throws {
            try RedisTestServer.run(loops: loops) { port in
                let client = try TestClient(port: port)
                let reader = RedisReplyReader(client)
                try client.send(RedisTestServer.request("HELLO", "3"))
                guard case .map(let hello) = try reader.next() else { throw TestClient.Failure(description: "HELLO 3") }
                #expect(hello.count == 14 && hello[4] == .bulk("proto") && hello[5] == .integer(3))
                for exchange in RedisServerExchanges.resp3 {
                    try RedisTestServer.expect(client, exchange.command, exchange.reply)
                }
                try client.send(RedisTestServer.request("HELLO", "2"))
                guard case .array(let back) = try reader.next() else {
                    throw TestClient.Failure(description: "HELLO 2")
                }
                #expect(back.count == 14 && back[5] == .integer(2))
                try RedisTestServer.expect(client, ["GET", "missing"], "$-1\r\n")
            }
        }

        @Test(arguments: [1, 2]) func pipelinedRequestsAreAnsweredInOrder(loops: Int) throws {
            try RedisTestServer.run(loops: loops) { port in
                let client = try TestClient(port: port)
                let exchanges = RedisServerExchanges.strings + RedisServerExchanges.lists
                try client.send(exchanges.flatMap { RedisTestServer.request($0.command) })
                let expected = exchanges.map(\.reply).joined()
                let received = String(decoding: try client.receive(exactly: expected.utf8.count), as: UTF8.self)
                #expect(received == expected)
            }
        }

        @Test func valuesAreBinarySafeAndLargeOnesComeBackWhole() throws {
            try RedisTestServer.run(loops: 2) { port in
                let client = try TestClient(port: port)
                let binary: [UInt8] = [0x61, 0x0D, 0x0A, 0x00, 0xFF, 0x62]
                try client.send(RedisTestServer.request([Array("SET".utf8), Array("bin".utf8), binary]))
                try client.send(RedisTestServer.request("GET", "bin"))
                #expect(try client.receive(exactly: 5 + 12) == Array("+OK\r\n$6\r\n".utf8) + binary + [0x0D, 0x0A])
                let big = [UInt8](repeating: UInt8(ascii: "v"), count: 200_000)
                try client.send(RedisTestServer.request([Array("SET".utf8), Array("big".utf8), big]))
                try client.send(RedisTestServer.request("APPEND", "big", "w") + RedisTestServer.request("GET", "big"))
                let reply = try client.receive(exactly: 5 + 9 + 9 + 200_001 + 2)
                let same = reply == Array("+OK\r\n:200001\r\n$200001\r\n".utf8) + big + Array("w\r\n".utf8)
                #expect(same)  // compared outside #expect, which would print 200 KB on a mismatch
            }
        }

        @Test(arguments: [1, 2]) func selectGivesEachConnectionItsOwnDatabase(loops: Int) throws {
            try RedisTestServer.run(loops: loops) { port in
                let first = try TestClient(port: port)
                let second = try TestClient(port: port)
                try RedisTestServer.expect(first, ["SELECT", "5"], "+OK\r\n")
                try RedisTestServer.expect(first, ["SET", "k", "five"], "+OK\r\n")
                try RedisTestServer.expect(second, ["GET", "k"], "$-1\r\n")
                try RedisTestServer.expect(second, ["SET", "k", "zero"], "+OK\r\n")
                try RedisTestServer.expect(first, ["GET", "k"], "$4\r\nfive\r\n")
                try RedisTestServer.expect(second, ["DBSIZE"], ":1\r\n")
                try RedisTestServer.expect(first, ["FLUSHDB"], "+OK\r\n")
                try RedisTestServer.expect(second, ["GET", "k"], "$4\r\nzero\r\n")
                try RedisTestServer.expect(first, ["SET", "k", "again"], "+OK\r\n")
                try RedisTestServer.expect(second, ["FLUSHALL"], "+OK\r\n")
                try RedisTestServer.expect(first, ["EXISTS", "k"], ":0\r\n")
            }
        }

        @Test(arguments: [1, 2]) func keysExpireOnAccessAndInTheBackground(loops: Int) throws {
            try RedisTestServer.run(loops: loops) { port in
                let client = try TestClient(port: port)
                try RedisTestServer.expect(client, ["SET", "soon", "v", "PX", "100"], "+OK\r\n")
                try RedisTestServer.expect(client, ["SET", "later", "v", "EX", "100"], "+OK\r\n")
                try RedisTestServer.expect(client, ["TTL", "later"], ":100\r\n")
                usleep(250_000)
                try RedisTestServer.expect(client, ["GET", "soon"], "$-1\r\n")
                try RedisTestServer.expect(client, ["TTL", "soon"], ":-2\r\n")
                // Keys nobody touches again go too: the active sweep deletes them (DBSIZE looks at no key).
                var batch: [UInt8] = []
                for index in 0..<500 { batch += RedisTestServer.request("SET", "short:\(index)", "v", "PX", "50") }
                try client.send(batch)
                _ = try client.receive(exactly: 500 * 5)
                #expect(eventually(seconds: 5) { (try? RedisTestServer.integer(client, ["DBSIZE"])) == 1 })
                try RedisTestServer.expect(client, ["GET", "later"], "$1\r\nv\r\n")
            }
        }

        @Test func quitRepliesThenClosesAndNothingAfterItRuns() throws {
            try RedisTestServer.run(loops: 2) { port in
                let client = try TestClient(port: port)
                try client.send(Array("PING\r\nQUIT\r\nSET after v\r\n".utf8))
                #expect(String(decoding: try client.receiveUntilEndOfStream(), as: UTF8.self) == "+PONG\r\n+OK\r\n")
                let other = try TestClient(port: port)
                try RedisTestServer.expect(other, ["EXISTS", "after"], ":0\r\n")
            }
        }

        @Test func aTransactionQueuedPastOneRequestsSizeIsRefusedAndDiscarded() throws {
            // The queue may hold what one request may be: max-bulk-length (here 1 KiB) + 1 MiB. 20,000 SETs of a
            // 100-byte value queue about 2.6 MB: the ones past the limit are refused, EXEC then answers EXECABORT
            // and nothing of the queue ran.
            var settings = RedisSettings()
            settings.maxBulkLength = 1024
            try RedisTestServer.run(loops: 1, settings: settings) { port in
                let client = try TestClient(port: port)
                let reader = RedisReplyReader(client)
                try client.send(RedisTestServer.request("MULTI"))
                #expect(try reader.next() == .simple("OK"))
                let value = String(repeating: "v", count: 100)
                let set = RedisTestServer.request("SET", "queued", value)
                var queued = 0
                var refused: [String] = []
                for _ in 0..<20 {
                    try client.send(Array(repeating: set, count: 1000).flatMap { $0 })
                    for _ in 0..<1000 {
                        let reply = try reader.next()
                        if case .simple("QUEUED") = reply { queued += 1 } else { refused.append("\(reply)") }
                    }
                }
                #expect(queued > 10_000 && queued < 20_000, "queued \(queued)")
                #expect(refused.count == 1, "one refusal; the rest are queued (and dropped) as redis does after one")
                #expect(refused.first?.contains("size limit") == true, "\(refused.first ?? "")")
                try RedisTestServer.expect(
                    client, ["EXEC"], "-EXECABORT Transaction discarded because of previous errors.\r\n")
                try RedisTestServer.expect(client, ["EXISTS", "queued"], ":0\r\n")
            }
        }

        @Test func aClientPastMaxclientsIsToldSoAndClosed() throws {
            var settings = RedisSettings()
            settings.maxClients = 1
            try RedisTestServer.run(loops: 2, settings: settings) { port in
                let first = try TestClient(port: port)
                try RedisTestServer.expect(first, ["PING"], "+PONG\r\n")
                let second = try TestClient(port: port)
                let refused = String(decoding: try second.receiveUntilEndOfStream(), as: UTF8.self)
                #expect(refused == "-ERR max number of clients reached\r\n")
                try RedisTestServer.expect(first, ["PING"], "+PONG\r\n")
            }
        }

        @Test(arguments: [1, 2]) func scanReturnsEveryKeyPresentThroughoutWhileTheKeyspaceGrows(loops: Int) throws {
            try RedisTestServer.run(loops: loops) { port in
                let client = try TestClient(port: port)
                let reader = RedisReplyReader(client)
                var batch: [UInt8] = []
                for index in 0..<1000 { batch += RedisTestServer.request("SET", "key:\(index)", "v") }
                try client.send(batch)
                _ = try client.receive(exactly: 1000 * 5)
                var seen: Set<String> = []
                var cursor = "0"
                var calls = 0
                var added = 0
                repeat {
                    try client.send(RedisTestServer.request("SCAN", cursor, "COUNT", "7", "MATCH", "key:*"))
                    guard case .array(let reply) = try reader.next(), case .bulk(let next) = reply[0],
                        case .array(let keys) = reply[1]
                    else { throw TestClient.Failure(description: "SCAN reply") }
                    for case .bulk(let key) in keys { seen.insert(key) }
                    cursor = next
                    calls += 1
                    // Grow the keyspace (and so its tables) between calls.
                    if added < 2000 {
                        var more: [UInt8] = []
                        for _ in 0..<100 {
                            more += RedisTestServer.request("SET", "other:\(added)", "v")
                            added += 1
                        }
                        try client.send(more)
                        _ = try client.receive(exactly: 100 * 5)
                    }
                } while cursor != "0" && calls < 10_000
                #expect(cursor == "0")
                #expect(seen == Set((0..<1000).map { "key:\($0)" }))
                try client.send(RedisTestServer.request("KEYS", "key:1??"))
                guard case .array(let keys) = try reader.next() else { throw TestClient.Failure(description: "KEYS") }
                #expect(Set(keys.compactMap { if case .bulk(let key) = $0 { key } else { nil } }).count == 100)
            }
        }

        /// A COUNT near `Int.max` from a cursor in the middle of a table once overflowed the walk's slot arithmetic
        /// (found by RedisCommandFuzzer): every cursor now gets the rest of the keyspace.
        @Test func scanWithTheLargestCountFromAnyCursorCompletes() throws {
            try RedisTestServer.run(loops: 1) { port in
                let client = try TestClient(port: port)
                let reader = RedisReplyReader(client)
                var batch: [UInt8] = []
                for index in 0..<200 { batch += RedisTestServer.request("SET", "key:\(index)", "v") }
                try client.send(batch)
                _ = try client.receive(exactly: 200 * 5)
                for shift in stride(from: 1, through: 63, by: 2) {
                    let cursor = String(UInt64(1) << UInt64(shift) | 1)
                    for count in ["9223372036854775807", "922337203685477580"] {
                        try client.send(RedisTestServer.request("SCAN", cursor, "COUNT", count))
                        guard case .array(let reply) = try reader.next(), reply.count == 2, case .bulk = reply[0],
                            case .array = reply[1]
                        else { throw TestClient.Failure(description: "SCAN \(cursor) COUNT \(count)") }
                    }
                }
                try RedisTestServer.expect(
                    client, ["SCAN", "0", "COUNT", "9223372036854775807", "MATCH", "key:7"],
                    "*2\r\n$1\r\n0\r\n*1\r\n$5\r\nkey:7\r\n")
            }
        }

        @Test func severalLoopsIncrementingOneKeyLoseNoIncrement() throws {
            try RedisTestServer.run(loops: 2) { port in
                let clients = 4
                let batches = 20
                let perBatch = 100
                let failures = Locked(0)
                DispatchQueue.concurrentPerform(iterations: clients) { _ in
                    do {
                        let client = try TestClient(port: port)
                        let reader = RedisReplyReader(client)
                        let batch = (0..<perBatch).flatMap { _ in RedisTestServer.request("INCR", "counter") }
                        for _ in 0..<batches {
                            try client.send(batch)
                            for _ in 0..<perBatch { _ = try reader.next() }
                        }
                    } catch {
                        failures.withLock { $0 += 1 }
                    }
                }
                #expect(failures.withLock { $0 } == 0)
                let client = try TestClient(port: port)
                let total = clients * batches * perBatch
                try RedisTestServer.expect(client, ["GET", "counter"], "$\(String(total).utf8.count)\r\n\(total)\r\n")
            }
        }

        @Test func execRunsItsQueueAtomicallyAcrossLoops() throws {
            // One connection increments two keys (in different shards) in each transaction; another, on the other
            // loop, reads both in a transaction: it must never see one incremented without the other.
            try RedisTestServer.race { role, client, reader in
                let queued = role == 0 ? [["INCR", "tx:a"], ["INCR", "tx:b"]] : [["GET", "tx:a"], ["GET", "tx:b"]]
                // 64 transactions per send, so the two loops run theirs at the same time.
                let requests = Array(repeating: [["MULTI"]] + queued + [["EXEC"]], count: 64).flatMap { $0 }
                let batch = requests.flatMap { RedisTestServer.request($0) }
                var torn = 0
                for _ in 0..<100 {
                    try client.send(batch)
                    for _ in 0..<64 {
                        for _ in 0...queued.count { _ = try reader.next() }  // +OK, +QUEUED…
                        guard case .array(let values) = try reader.next(), values.count == 2 else {
                            throw TestClient.Failure(description: "EXEC did not answer with two replies")
                        }
                        if role == 1 && "\(values[0])" != "\(values[1])" { torn += 1 }
                    }
                }
                return torn
            }
        }

        @Test func msetIsAtomicAcrossShardsForConcurrentReaders() throws {
            let keys = (0..<8).map { "m:\($0)" }
            try RedisTestServer.race { role, client, reader in
                var torn = 0
                for round in 0..<300 {
                    if role == 0 {
                        try client.send(RedisTestServer.request(["MSET"] + keys.flatMap { [$0, "\(round)"] }))
                        _ = try reader.next()
                    } else {
                        try client.send(RedisTestServer.request(["MGET"] + keys))
                        guard case .array(let values) = try reader.next() else { continue }
                        if Set(values.map { "\($0)" }).count != 1 { torn += 1 }
                    }
                }
                return torn
            }
        }
    }
}

/// Starting reactor-redis for a test and talking to it.
enum RedisTestServer {
    /// Runs `body` with the port of a reactor-redis with `loops` loops (the unlocked keyspace for one), configured
    /// as the executable configures it.
    static func run(loops: Int, settings: RedisSettings = RedisSettings(), _ body: (Int) throws -> Void) throws {
        let configuration = RedisServer.configure(testConfiguration(subReactors: loops), settings)
        if loops == 1 {
            try withServer(configuration, handler: UnlockedRedisHandler(settings: settings)) { _, port in try body(port)
            }
        } else {
            try withServer(configuration, handler: ShardedRedisHandler(settings: settings)) { _, port in try body(port)
            }
        }
    }

    /// Two connections to a two-loop reactor-redis (one on each loop) run `role` 0 and 1 at the same time; each
    /// returns how many torn results it saw, and the test expects none (and no error).
    static func race(_ role: @Sendable (Int, TestClient, RedisReplyReader) throws -> Int) throws {
        try run(loops: 2) { port in
            let torn = Locked(0)
            let failures = Locked(0)
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                do {
                    let client = try TestClient(port: port)
                    let seen = try role(index, client, RedisReplyReader(client))
                    torn.withLock { $0 += seen }
                } catch {
                    failures.withLock { $0 += 1 }
                }
            }
            #expect(failures.withLock { $0 } == 0)
            #expect(torn.withLock { $0 } == 0)
        }
    }

    /// Sends each request of `exchanges` in turn on one connection and expects redis's reply to it.
    static func converse(_ exchanges: [RedisServerExchanges.Exchange], loops: Int) throws {
        try run(loops: loops) { port in
            let client = try TestClient(port: port)
            for exchange in exchanges { try expect(client, exchange.command, exchange.reply) }
        }
    }

    /// Sends `command` and expects `reply`, byte for byte.
    static func expect(
        _ client: TestClient, _ command: [String], _ reply: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try client.send(request(command))
        let received = String(decoding: try client.receive(exactly: reply.utf8.count), as: UTF8.self)
        #expect(received == reply, "\(command)", sourceLocation: sourceLocation)
    }

    /// Sends `command` and returns its integer reply.
    static func integer(_ client: TestClient, _ command: [String]) throws -> Int? {
        try client.send(request(command))
        guard case .integer(let value) = try RedisReplyReader(client).next() else { return nil }
        return value
    }

    static func request(_ arguments: String...) -> [UInt8] { request(arguments) }

    static func request(_ arguments: [String]) -> [UInt8] { request(arguments.map { Array($0.utf8) }) }

    /// A multibulk request.
    static func request(_ arguments: [[UInt8]]) -> [UInt8] {
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments { bytes += Array("$\(argument.count)\r\n".utf8) + argument + [0x0D, 0x0A] }
        return bytes
    }
}

/// Reads RESP2 replies from a test client, one at a time (what it has read past a reply waits for the next call).
final class RedisReplyReader {
    enum Reply: Equatable, CustomStringConvertible {
        case simple(String)
        case error(String)
        case integer(Int)
        case bulk(String)
        case null
        case array([Reply])
        case map([Reply])

        var description: String {
            switch self {
            case .simple(let text): "+\(text)\r\n"
            case .error(let text): "-\(text)\r\n"
            case .integer(let value): ":\(value)\r\n"
            case .bulk(let text): "$\(text.utf8.count)\r\n\(text)\r\n"
            case .null: "$-1\r\n"
            case .array(let elements): "*\(elements.count)\r\n" + elements.map(\.description).joined()
            case .map(let elements): "%\(elements.count / 2)\r\n" + elements.map(\.description).joined()
            }
        }
    }

    private let client: TestClient
    private var buffer: [UInt8] = []

    init(_ client: TestClient) { self.client = client }

    func next() throws -> Reply {
        let line = try readLine()
        let text = String(decoding: line.dropFirst(), as: UTF8.self)
        switch line.first {
        case UInt8(ascii: "+"): return .simple(text)
        case UInt8(ascii: "-"): return .error(text)
        case UInt8(ascii: ":"): return .integer(Int(text) ?? 0)
        case UInt8(ascii: "$"):
            guard let length = Int(text), length >= 0 else { return .null }
            let bytes = try read(length + 2)
            return .bulk(String(decoding: bytes.dropLast(2), as: UTF8.self))
        case UInt8(ascii: "*"):
            guard let count = Int(text), count >= 0 else { return .null }
            return .array(try (0..<count).map { _ in try next() })
        case UInt8(ascii: "%"):
            guard let pairs = Int(text) else { return .null }
            return .map(try (0..<(2 * pairs)).map { _ in try next() })
        default: throw TestClient.Failure(description: "not a RESP reply: \(line)")
        }
    }

    private func readLine() throws -> [UInt8] {
        while true {
            if let end = buffer.indices.first(where: { buffer[$0] == 0x0D && $0 + 1 < buffer.count }) {
                let line = Array(buffer[..<end])
                buffer.removeFirst(end + 2)
                return line
            }
            try fill()
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let received = chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress!, $0.count, 0) }
        guard received > 0 else { throw TestClient.Failure(description: "connection ended (\(received))") }
        buffer += chunk[..<received]
    }
}
