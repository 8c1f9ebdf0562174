import ReactorCore
import ReactorRESP
import Testing

/// A tiny RESP service for the tests: PING, ECHO, SET and GET on one dictionary per loop, QUIT, and redis's
/// unknown-command error.
struct TinyRESPStore: RESPCommandHandler {
    final class Values: @unchecked Sendable {  // one loop in these tests
        var values: [[UInt8]: [UInt8]] = [:]
    }
    let store = Values()

    func onCommand(_ command: borrowing RESPCommand, state: inout Void, connection: inout ConnectionContext) {
        switch command.name {
        case RESPCommandName("PING"):
            if command.count == 1 {
                connection.writeSimpleString("PONG")
            } else {
                connection.writeBulkString(command[1])
            }
        case RESPCommandName("ECHO"):
            connection.writeBulkString(command[1])
        case RESPCommandName("SET"):
            let key = command.withArgument(1) { Array($0) }
            store.values[key] = command.withArgument(2) { Array($0) }
            connection.writeSimpleString("OK")
        case RESPCommandName("GET"):
            let key = command.withArgument(1) { Array($0) }
            if let value = store.values[key] {
                value.withUnsafeBytes { connection.writeBulkString($0) }
            } else {
                connection.writeNullBulkString()
            }
        case RESPCommandName("INCR"):
            connection.writeInteger(-42)
        case RESPCommandName("QUIT"):
            connection.writeSimpleString("OK")
            connection.close()
        default:
            let name = command.withArgument(0) { String(decoding: $0, as: UTF8.self) }
            connection.writeError("ERR unknown command '\(name)', with args beginning with: ")
        }
    }
}

extension LoopbackTests {
    @Suite struct RESPServer {
        static func request(_ arguments: String...) -> [UInt8] {
            var bytes = Array("*\(arguments.count)\r\n".utf8)
            for argument in arguments { bytes += Array("$\(argument.utf8.count)\r\n\(argument)\r\n".utf8) }
            return bytes
        }

        /// The store served through a concrete type (the fast way; see `RESPSpecializedHandler`).
        struct TinyServerHandler: RESPSpecializedHandler {
            var base = RESPStreamHandler(TinyRESPStore())
        }

        /// Runs `body` against the tiny store served generically and through ``TinyServerHandler``.
        static func withEachHandler(_ body: (Int) throws -> Void) throws {
            try withServer(testConfiguration(subReactors: 1), handler: RESPStreamHandler(TinyRESPStore())) { _, port in
                try body(port)
            }
            try withServer(testConfiguration(subReactors: 1), handler: TinyServerHandler()) { _, port in try body(port)
            }
        }

        @Test func aRequestOfManyArgumentsTrickledInIsAnsweredOnce() throws {
            // 100,000 arguments (700 KB) in 1,000-byte sends: the decoder resumes after the last complete argument
            // at every read (RESPRequestDecoder.Progress, kept per connection) and answers once, then the next.
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                let request =
                    Array("*100000\r\n$4\r\nPING\r\n$5\r\nfirst\r\n".utf8)
                    + Array(repeating: Array("$1\r\na\r\n".utf8), count: 99_998).flatMap { $0 } + Self.request("PING")
                for start in stride(from: 0, to: request.count, by: 1000) {
                    try client.send(Array(request[start..<min(start + 1000, request.count)]))
                }
                let expected = Array("$5\r\nfirst\r\n+PONG\r\n".utf8)
                #expect(try client.receive(exactly: expected.count) == expected)
            }
        }

        @Test func pipelinedRequestsAreAnsweredInOrderByteForByte() throws {
            try Self.withEachHandler { port in
                let client = try TestClient(port: port)
                let requests =
                    Self.request("PING") + Array("PING\r\n".utf8) + Self.request("SET", "k", "hello")
                    + Self.request("GET", "k") + Self.request("GET", "missing") + Array("ECHO \"a b\"\r\n".utf8)
                    + Array("\r\n".utf8) + Self.request("INCR", "x") + Self.request("PING", "hi") + Self.request("foo")
                let expected =
                    "+PONG\r\n+PONG\r\n+OK\r\n$5\r\nhello\r\n$-1\r\n$3\r\na b\r\n:-42\r\n$2\r\nhi\r\n"
                    + "-ERR unknown command 'foo', with args beginning with: \r\n"
                // Whole, then one byte at a time.
                try client.send(requests)
                #expect(try client.receive(exactly: expected.utf8.count) == Array(expected.utf8))
                for byte in requests { try client.send([byte]) }
                #expect(try client.receive(exactly: expected.utf8.count) == Array(expected.utf8))
            }
        }

        @Test func aLargeValueArrivesInPiecesAndComesBackWhole() throws {
            try withServer(testConfiguration(subReactors: 1), handler: RESPStreamHandler(TinyRESPStore())) { _, port in
                let client = try TestClient(port: port)
                let value = String(repeating: "v", count: 300_000)
                let set = Self.request("SET", "big", value)
                for start in stride(from: 0, to: set.count, by: 50_000) {
                    try client.send(Array(set[start..<min(start + 50_000, set.count)]))
                }
                #expect(try client.receive(exactly: 5) == Array("+OK\r\n".utf8))
                try client.send(Self.request("GET", "big"))
                let expected = Array("$300000\r\n\(value)\r\n".utf8)
                let reply = try client.receive(exactly: expected.count)
                let same = reply == expected  // compared outside #expect, which would print 300 KB on a mismatch
                #expect(same)
            }
        }

        @Test func aProtocolErrorIsAnsweredAfterTheEarlierRepliesThenTheConnectionCloses() throws {
            let configuration = testConfiguration(subReactors: 1)
            try withServer(configuration, handler: RESPStreamHandler(TinyRESPStore())) { server, port in
                let client = try TestClient(port: port)
                // As redis: the PING before it is answered, the bad request gets the error, nothing after it runs.
                try client.send(Array("PING\r\n*1\r\nx\r\nPING\r\n".utf8))
                let received = try client.receiveUntilEndOfStream()
                #expect(
                    String(decoding: received, as: UTF8.self)
                        == "+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n")
                #expect(eventually { server.statistics().closed(.decodingFailed) == 1 })
            }
        }

        @Test func quitRepliesThenCloses() throws {
            try withServer(testConfiguration(subReactors: 1), handler: RESPStreamHandler(TinyRESPStore())) { _, port in
                let client = try TestClient(port: port)
                try client.send(Array("PING\r\nQUIT\r\nPING\r\n".utf8))
                let received = try client.receiveUntilEndOfStream()
                #expect(String(decoding: received, as: UTF8.self) == "+PONG\r\n+OK\r\n")
            }
        }

        @Test func aRequestLargerThanTheBufferedInputCapClosesTheConnection() throws {
            var configuration = testConfiguration(subReactors: 1)
            configuration.limits.maxBufferedInput = 64 * 1024
            try withServer(configuration, handler: RESPStreamHandler(TinyRESPStore())) { server, port in
                let client = try TestClient(port: port)
                try client.send(Self.request("SET", "k", String(repeating: "x", count: 100_000)))
                #expect(client.isClosedByPeer(discardingData: true))
                #expect(eventually { server.statistics().closed(.bufferedInputTooLarge) == 1 })
            }
        }
    }
}
