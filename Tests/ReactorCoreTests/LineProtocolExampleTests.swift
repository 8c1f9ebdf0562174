// The article shows every line between BEGIN EXAMPLE and END EXAMPLE, in order (two runs, so that all the imports
// stay at the top of this file); `theArticleShowsExactlyTheCodeTestedHere` checks it.
// BEGIN EXAMPLE
import Foundation
import ReactorCore
import Synchronization
// END EXAMPLE
import Testing
// BEGIN EXAMPLE

/// What every connection on every loop shares. Each loop runs its own copy of the handler, so a dictionary stored in
/// the handler would be one store per loop; this class is shared by every copy, and its lock is held for one
/// dictionary operation. `NSLock` (a pthread mutex) rather than `Synchronization.Mutex`: ThreadSanitizer on Linux
/// cannot see Mutex's futex, and reports races on it as soon as two loops contend.
final class KeyValueStore: @unchecked Sendable {  // `entries` is only touched with `lock` held
    private let lock = NSLock()
    private var entries: [String: [UInt8]] = [:]
    let commandsServed = Atomic<Int>(0)

    func withEntries<Result>(_ body: (inout [String: [UInt8]]) -> Result) -> Result {
        lock.withLock { body(&entries) }
    }
}

/// `SET key value` -> `OK`, `GET key` -> the value or `NIL`, `DEL key` -> `1` or `0`, `QUIT` -> `BYE` and close,
/// anything else -> `ERR unknown command`. Every reply ends with `\r\n`.
struct KeyValueLines: MessageHandler {
    /// Per connection: the commands it sent (stored inline next to the connection, no lookup).
    typealias ConnectionState = Int

    static let crlf: [UInt8] = [0x0D, 0x0A]
    let store: KeyValueStore

    func onOpen(connection: inout ConnectionContext) -> Int { 0 }

    func onMessage(_ line: RawSpan, state commands: inout Int, connection: inout ConnectionContext) {
        commands += 1
        line.withUnsafeBytes { line in
            let (command, arguments) = splitWord(line[...])
            let (key, value) = splitWord(arguments)
            let name = String(decoding: key, as: UTF8.self)  // up to 15 bytes: a small string, no allocation
            switch String(decoding: command, as: UTF8.self) {
            case "SET" where !key.isEmpty:
                store.withEntries { $0[name] = Array(value) }  // copy what you keep
                connection.write("OK\r\n")
            case "GET" where !key.isEmpty && value.isEmpty:
                if let found = store.withEntries({ $0[name] }) {
                    connection.write(found.span.bytes, Self.crlf.span.bytes)  // a gathering write
                } else {
                    connection.write("NIL\r\n")
                }
            case "DEL" where !key.isEmpty && value.isEmpty:
                let removed = store.withEntries { $0.removeValue(forKey: name) != nil }
                connection.write(removed ? "1\r\n" : "0\r\n")
            case "QUIT" where arguments.isEmpty:
                connection.write("BYE\r\n")
                connection.close()
            default:
                connection.write("ERR unknown command\r\n")
            }
        }
    }

    func onClose(_ id: ConnectionID, state commands: Int?, reason: CloseReason) {
        store.commandsServed.add(commands ?? 0, ordering: .relaxed)
    }
}

/// The bytes before the first space, and the bytes after it.
private func splitWord(
    _ bytes: Slice<UnsafeRawBufferPointer>
) -> (Slice<UnsafeRawBufferPointer>, Slice<UnsafeRawBufferPointer>) {
    guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return (bytes, bytes[bytes.endIndex...]) }
    return (bytes[..<space], bytes[(space + 1)...])
}

/// The handler to run: lines end with `\n` or `\r\n` and are at most 1 KiB (a longer one closes the connection).
func keyValueHandler(store: KeyValueStore) -> Decoded<DelimiterDecoder, KeyValueLines> {
    Decoded(DelimiterDecoder.lines(maxLength: 1024), KeyValueLines(store: store))
}
// END EXAMPLE

extension LoopbackTests {
    /// The key-value line protocol of the "Writing a protocol handler" article, on a real server over loopback.
    @Suite struct LineProtocolExample {
        @Test func aSessionSetsGetsDeletesRejectsUnknownCommandsAndQuits() throws {
            let store = KeyValueStore()
            let handler = RecordingCloses(keyValueHandler(store: store))
            try withServer(handler: handler) { server, port in
                let client = try TestClient(port: port)
                let session = SessionTranscript(client)
                let exchanges: [(sent: String, replies: [String])] = [
                    ("SET greeting hello world\r\n", ["OK"]),
                    ("GET greeting\r\n", ["hello world"]),
                    ("GET nothing\r\n", ["NIL"]),
                    ("FLY me to the moon\r\n", ["ERR unknown command"]),
                    ("GET\r\n", ["ERR unknown command"]),
                    ("DEL greeting\r\n", ["1"]),
                    ("DEL greeting\r\n", ["0"]),
                    ("GET greeting\r\n", ["NIL"]),
                    ("SET counter 42\n", ["OK"]),  // a bare \n ends a line too
                    ("GET counter\n", ["42"]),
                    ("QUIT\r\n", ["BYE"]),
                ]
                for (sent, expected) in exchanges {
                    let replies = try session.send(sent)
                    #expect(replies == expected, "after sending \(sent.debugDescription)")
                }
                #expect(client.isClosedByPeer(allowingReset: false), "BYE, then a FIN")
                session.print(title: "a session")

                #expect(eventually { handler.closes.withLock { $0.count } == 1 })
                let closes = handler.closes.withLock { $0 }
                #expect(closes.first?.reason == .closedByHandler)
                #expect(closes.first?.state == 11, "the per-connection state counted every command")
                #expect(store.commandsServed.load(ordering: .relaxed) == 11)
                #expect(server.statistics().framesIn == 11, "one decoded message per line")
                #expect(store.withEntries { $0 } == ["counter": Array("42".utf8)])
            }
        }

        @Test func pipelinedCommandsInOneSendAreAnsweredInOrder() throws {
            let store = KeyValueStore()
            try withServer(handler: keyValueHandler(store: store)) { server, port in
                let client = try TestClient(port: port)
                let session = SessionTranscript(client)
                let replies = try session.send(
                    "SET a 1\r\nSET b two words\nGET a\r\nGET b\r\nDEL a\r\nGET a\r\nNOPE\r\n\r\nGET b\r\n",
                    expectingLines: 9)
                let expected = [
                    "OK", "OK", "1", "two words", "1", "NIL", "ERR unknown command", "ERR unknown command", "two words",
                ]
                #expect(replies == expected)
                session.print(title: "pipelined")
                // QUIT in the middle of a batch: the commands after it are never run.
                let bye = try session.send("QUIT\r\nSET c 3\r\n", expectingLines: 1)
                #expect(bye == ["BYE"])
                #expect(client.isClosedByPeer(allowingReset: false))
                #expect(store.withEntries { $0 } == ["b": Array("two words".utf8)])
                #expect(eventually { server.statistics().closed(.closedByHandler) == 1 })
            }
        }

        @Test func commandsTricklingInOneByteAtATimeAreReassembled() throws {
            try withServer(handler: keyValueHandler(store: KeyValueStore())) { _, port in
                let client = try TestClient(port: port)
                for byte in Array("SET slow value\r\nGET slow\r\n".utf8) {
                    try client.send([byte])
                }
                #expect(try client.receiveReplyLine() == "OK")
                #expect(try client.receiveReplyLine() == "value")
            }
        }

        @Test func theStoreIsSharedByConnectionsOnDifferentLoops() throws {
            let store = KeyValueStore()
            let handler = RecordingCloses(keyValueHandler(store: store))
            try withServer(testConfiguration(subReactors: 2), handler: handler) { server, port in
                // The acceptor hands connections to the loops round-robin: these two land on loops 0 and 1.
                let first = try TestClient(port: port)
                let second = try TestClient(port: port)
                try first.send(Array("SET shared from-first\r\n".utf8))
                #expect(try first.receiveReplyLine() == "OK")
                try second.send(Array("GET shared\r\nSET other from-second\r\n".utf8))
                #expect(try second.receiveReplyLine() == "from-first")
                #expect(try second.receiveReplyLine() == "OK")
                try first.send(Array("GET other\r\n".utf8))
                #expect(try first.receiveReplyLine() == "from-second")
                first.shutdownWrite()
                second.shutdownWrite()
                #expect(first.isClosedByPeer() && second.isClosedByPeer())
                #expect(eventually { handler.closes.withLock { $0.count } == 2 })
                #expect(handler.opens.withLock { $0 } == [0, 1], "one connection on each loop")
                #expect(handler.closes.withLock { $0.map(\.reason) } == [.peerClosed, .peerClosed])
                #expect(store.commandsServed.load(ordering: .relaxed) == 4)
                #expect(server.statistics().closed(.peerClosed) == 2)
            }
        }

        @Test func connectionsOnBothLoopsUpdatingTheStoreAtOnceEachReadTheirOwnWrites() throws {
            let store = KeyValueStore()
            let handler = RecordingCloses(keyValueHandler(store: store))
            try withServer(testConfiguration(subReactors: 2), handler: handler) { server, port in
                let clients = try (0..<8).map { _ in try TestClient(port: port) }
                let failures = Locked<[String]>([])
                DispatchQueue.concurrentPerform(iterations: clients.count) { index in
                    do {
                        let client = clients[index]
                        for round in 0..<200 {
                            // Each command in its own send, so the two loops contend on the store all the time.
                            try client.send(Array("SET key-\(index) \(round)\r\n".utf8))
                            try client.send(Array("GET key-\(index)\r\n".utf8))
                            try client.send(Array("SET shared \(index)\r\n".utf8))
                            let replies = try (0..<3).map { _ in try client.receiveReplyLine() }
                            if replies != ["OK", "\(round)", "OK"] {
                                failures.withLock { $0.append("client \(index) round \(round): \(replies)") }
                                return
                            }
                        }
                        client.shutdownWrite()
                        _ = client.isClosedByPeer()
                    } catch {
                        failures.withLock { $0.append("client \(index): \(error)") }
                    }
                }
                #expect(failures.withLock { $0 } == [])
                #expect(eventually { handler.closes.withLock { $0.count } == clients.count })
                #expect(handler.opens.withLock { $0 } == [0, 1])
                #expect(store.commandsServed.load(ordering: .relaxed) == clients.count * 600)
                let entries = store.withEntries { $0 }
                #expect(entries.count == clients.count + 1)
                for index in clients.indices { #expect(entries["key-\(index)"] == Array("199".utf8)) }
                #expect(server.statistics().framesIn == clients.count * 600)
            }
        }

        @Test func aLineOverTheLimitClosesTheConnectionAfterTheEarlierReplies() throws {
            let handler = RecordingCloses(keyValueHandler(store: KeyValueStore()))
            try withServer(handler: handler) { server, port in
                let client = try TestClient(port: port)
                let bystander = try TestClient(port: port)
                // Two good commands, then 2,000 bytes with no line end: past 1,024 (+ the 2-byte delimiter) the
                // decoder gives up, the replies so far go out, then the FIN.
                try client.send(Array("SET a 1\r\nGET a\r\nSET big ".utf8) + [UInt8](repeating: 0x78, count: 2000))
                #expect(try client.receiveReplyLine() == "OK")
                #expect(try client.receiveReplyLine() == "1")
                #expect(client.isClosedByPeer(allowingReset: false))
                #expect(eventually { handler.closes.withLock { $0.count } == 1 })
                #expect(handler.closes.withLock { $0.map(\.reason) } == [.decodingFailed(.lineTooLong(limit: 1024))])
                #expect(server.statistics().closed(.decodingFailed) == 1)
                // Only that connection: the other one is still served, and sees the store.
                try bystander.send(Array("GET a\r\n".utf8))
                #expect(try bystander.receiveReplyLine() == "1")
            }
        }

        @Test func aLineOfExactlyTheLimitIsAcceptedAndOneByteMoreIsNot() throws {
            let handler = RecordingCloses(keyValueHandler(store: KeyValueStore()))
            try withServer(handler: handler) { _, port in
                let client = try TestClient(port: port)
                let longest = "SET k " + String(repeating: "v", count: 1024 - 6)
                try client.send(Array((longest + "\r\nGET k\r\n").utf8))
                #expect(try client.receiveReplyLine() == "OK")
                #expect(try client.receiveReplyLine() == String(repeating: "v", count: 1018))
                try client.send(Array((longest + "v\r\n").utf8))
                #expect(client.isClosedByPeer(allowingReset: false))
                #expect(eventually { handler.closes.withLock { $0.count } == 1 })
                #expect(handler.closes.withLock { $0.map(\.reason) } == [.decodingFailed(.lineTooLong(limit: 1024))])
            }
        }

        @Test func theArticleShowsExactlyTheCodeTestedHere() throws {
            let testFile = try String(contentsOfFile: #filePath, encoding: .utf8)
            let articlePath = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Sources/ReactorCore/Docs.docc/WritingAProtocolHandler.md").path
            let article = try String(contentsOfFile: articlePath, encoding: .utf8)

            var example: [Substring] = []
            var inExample = false
            for line in testFile.split(separator: "\n", omittingEmptySubsequences: false) {
                if line == "// BEGIN EXAMPLE" || line == "// END EXAMPLE" {
                    inExample = line == "// BEGIN EXAMPLE"
                } else if inExample {
                    example.append(line)
                }
            }
            #expect(example.count > 40)

            let blocks = swiftCodeBlocks(in: article).filter { $0.contains("struct KeyValueLines: MessageHandler") }
            #expect(blocks.count == 1, "the article shows the example once")
            let shown = try #require(blocks.first).split(separator: "\n", omittingEmptySubsequences: false)
            let firstDifference = (0..<max(shown.count, example.count)).first { index in
                shown.indices.contains(index) != example.indices.contains(index) || shown[index] != example[index]
            }
            if let index = firstDifference {
                let article = shown.indices.contains(index) ? "\"\(shown[index])\"" : "nothing"
                let tested = example.indices.contains(index) ? "\"\(example[index])\"" : "nothing"
                Issue.record(
                    """
                    WritingAProtocolHandler.md's example differs from the code tested in this file at line \(index + 1) \
                    of the example: the article has \(article), the test file \(tested)
                    """)
            }
        }
    }
}

/// The contents of every ```swift fenced block in `markdown`.
private func swiftCodeBlocks(in markdown: String) -> [String] {
    var blocks: [String] = []
    var current: [Substring]?
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
        if current == nil, line == "```swift" {
            current = []
        } else if current != nil, line == "```" {
            blocks.append(current!.joined(separator: "\n"))
            current = nil
        } else {
            current?.append(line)
        }
    }
    return blocks
}

/// Wraps a stream handler and records which loops opened connections, and why each closed with what state.
private struct RecordingCloses<Inner: StreamHandler>: StreamHandler {
    var inner: Inner
    let opens = Locked<Set<Int>>([])
    let closes = Locked<[(reason: CloseReason, state: Inner.ConnectionState?)]>([])

    init(_ inner: Inner) {
        self.inner = inner
    }

    mutating func onOpen(connection: inout ConnectionContext) -> Inner.ConnectionState {
        let loop = connection.id.loop
        opens.withLock { _ = $0.insert(loop) }
        return inner.onOpen(connection: &connection)
    }

    mutating func onRead(
        _ input: inout InboundBytes, state: inout Inner.ConnectionState, connection: inout ConnectionContext
    ) {
        inner.onRead(&input, state: &state, connection: &connection)
    }

    mutating func onInputEnded(
        _ input: inout InboundBytes, state: inout Inner.ConnectionState, connection: inout ConnectionContext
    ) {
        inner.onInputEnded(&input, state: &state, connection: &connection)
    }

    mutating func onWritabilityChanged(
        _ isWritable: Bool, state: inout Inner.ConnectionState, connection: inout ConnectionContext
    ) {
        inner.onWritabilityChanged(isWritable, state: &state, connection: &connection)
    }

    mutating func onClose(_ id: ConnectionID, state: Inner.ConnectionState?, reason: CloseReason) {
        closes.withLock { $0.append((reason, state)) }
        inner.onClose(id, state: state, reason: reason)
    }
}

/// A client session that remembers what was sent and received, to print it.
private final class SessionTranscript {
    let client: TestClient
    private(set) var lines: [String] = []

    init(_ client: TestClient) {
        self.client = client
    }

    /// Sends `text` in one `send` and reads `expectingLines` reply lines (default: one per line sent).
    func send(_ text: String, expectingLines count: Int? = nil) throws -> [String] {
        let sent = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).dropLast()
        lines += sent.map { "> " + $0 }
        try client.send(Array(text.utf8))
        let replies = try (0..<(count ?? sent.count)).map { _ in try client.receiveReplyLine() }
        lines += replies.map { "< " + $0 }
        return replies
    }

    func print(title: String) {
        Swift.print("--- transcript: \(title) ---\n" + lines.joined(separator: "\n") + "\n--- end ---")
    }
}

extension TestClient {
    /// Reads one `\r\n`-terminated line (without it), a byte at a time.
    fileprivate func receiveReplyLine() throws -> String {
        var line: [UInt8] = []
        while line.suffix(2) != [0x0D, 0x0A] {
            line += try receive(exactly: 1)
        }
        return String(decoding: line.dropLast(2), as: UTF8.self)
    }
}
