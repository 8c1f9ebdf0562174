import ReactorCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Listening: several addresses per server, Unix-domain sockets, and how connections are spread over the loops.
extension LoopbackTests {
    @Suite struct Listeners {
        /// A socket path of this test's own under the temporary directory.
        static func socketPath(_ name: String) -> String {
            "/tmp/reactor-test-\(getpid())-\(name).sock"
        }

        static func exists(_ path: String) -> Bool {
            var status = stat()
            return lstat(path, &status) == 0
        }

        @Test func oneServerListensOnTCPAndAUnixSocketAndRemovesTheSocketFileAtStop() throws {
            let path = Self.socketPath("both")
            var configuration = testConfiguration()
            configuration.listenAddresses = [
                try ReactorSocketAddress(host: "127.0.0.1", port: 0), try ReactorSocketAddress(unixPath: path),
            ]
            let handler = RecordingEcho()
            let server = Server(configuration: configuration, handler: handler)
            try server.start()
            let addresses = server.localAddresses
            #expect(addresses.count == 2)
            #expect(addresses.first?.port ?? 0 > 0 && addresses.first?.unixPath == nil)
            #expect(addresses.last?.unixPath == path && addresses.last?.description == "unix:\(path)")
            #expect(Self.exists(path))
            do {
                let tcp = try TestClient(port: addresses[0].port)
                let unix = try TestClient(unixPath: path)
                for index in 0..<50 {
                    let payload = pattern(100 + index, seed: index)
                    try tcp.send(frame(payload))
                    try unix.send(frame(payload.reversed()))
                    #expect(try tcp.receiveFrame() == payload)
                    #expect(try unix.receiveFrame() == payload.reversed())
                }
                #expect(server.statistics().framesIn == 100)
            }
            server.stop()
            #expect(!Self.exists(path), "the socket file is removed at stop")
            #expect(throws: (any Error).self) { try TestClient(port: addresses[0].port) }
            #expect(handler.record.reasons.withLock { $0.count } == 2)
        }

        @Test func aStaleSocketFileIsReplacedButALiveOneOrAnotherFileIsNot() throws {
            let path = Self.socketPath("stale")
            // A socket file nobody listens on: bound, then closed without removing it.
            let stale = socket(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0)
            let address = try ReactorSocketAddress(unixPath: path)
            var storage = sockaddr_un()
            storage.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let bound = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            #expect(bound == 0)
            close(stale)
            #expect(Self.exists(path))

            var configuration = testConfiguration()
            configuration.listenAddresses = [address]
            let first = Server(configuration: configuration, handler: RecordingEcho())
            try first.start()
            defer { first.stop() }
            let client = try TestClient(unixPath: path)
            try client.send(frame(pattern(10)))
            #expect(try client.receiveFrame() == pattern(10))

            // Live: a second server on the same path fails to start, and the first still answers.
            let second = Server(configuration: configuration, handler: RecordingEcho())
            #expect(throws: (any Error).self) { try second.start() }
            try client.send(frame(pattern(11)))
            #expect(try client.receiveFrame() == pattern(11))

            // A regular file is never removed.
            let file = Self.socketPath("regular")
            let created = open(file, O_CREAT | O_WRONLY, 0o600)
            close(created)
            defer { unlink(file) }
            configuration.listenAddresses = [try ReactorSocketAddress(unixPath: file)]
            let third = Server(configuration: configuration, handler: RecordingEcho())
            #expect(throws: (any Error).self) { try third.start() }
            #expect(Self.exists(file))
        }

        @Test func unixSocketPathsAreCheckedForLength() {
            #expect(throws: ReactorSocketAddress.ParseError.self) { try ReactorSocketAddress(unixPath: "") }
            #expect(throws: ReactorSocketAddress.ParseError.self) {
                try ReactorSocketAddress(unixPath: "/tmp/" + String(repeating: "x", count: 110))
            }
            #expect((try? ReactorSocketAddress(unixPath: "/tmp/a.sock"))?.unixPath == "/tmp/a.sock")
        }

        @Test(arguments: [ServerConfiguration.Balancing.roundRobin, .leastConnections])
        func everyLoopGetsConnections(balancing: ServerConfiguration.Balancing) throws {
            var configuration = testConfiguration(subReactors: 3)
            configuration.balancing = balancing
            let handler = LoopReporter()
            try withServer(configuration, handler: handler) { _, port in
                let clients = try (0..<9).map { _ in try TestClient(port: port) }
                var loops: [Int] = []
                for client in clients {
                    try client.send(frame([]))
                    loops.append(Int(try client.receiveFrame()[0]))
                }
                #expect(loops.sorted() == [0, 0, 0, 1, 1, 1, 2, 2, 2], "\(balancing): \(loops)")
            }
        }

        @Test func leastConnectionsFillsTheLoopThatLostItsConnections() throws {
            var configuration = testConfiguration(subReactors: 2)
            configuration.balancing = .leastConnections
            let handler = LoopReporter()
            try withServer(configuration, handler: handler) { server, port in
                func open() throws -> (TestClient, Int) {
                    let client = try TestClient(port: port)
                    try client.send(frame([]))
                    return (client, Int(try client.receiveFrame()[0]))
                }
                var clients = try (0..<4).map { _ in try open() }
                #expect(clients.map(\.1).sorted() == [0, 0, 1, 1])
                // Every connection of loop 0 closes: the next two go there, however round-robin would have gone.
                let onLoop0 = clients.filter { $0.1 == 0 }.count
                clients.removeAll { $0.1 == 0 }
                #expect(onLoop0 == 2)
                #expect(eventually { server.statistics().connectionsOpen == 2 })
                let refilled = try (0..<2).map { _ in try open() }
                #expect(refilled.map(\.1) == [0, 0])
                // Even again: ties spread in turn.
                let more = try (0..<2).map { _ in try open() }
                #expect(more.map(\.1).sorted() == [0, 1])
                withExtendedLifetime((clients, refilled, more)) {}
            }
        }
    }
}

/// Answers every frame with one byte: the index of the loop that owns the connection.
struct LoopReporter: FrameHandler {
    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.writeFrame([UInt8(connection.id.loop)])
    }
}

extension LoopbackTests {
    @Suite struct ReusePort {
        @Test func everyLoopAcceptsOnItsOwnListenerAndEveryByteIsEchoed() throws {
            var configuration = testConfiguration(subReactors: 2)
            configuration.reusePort = true
            let handler = RecordingEcho()
            let server = Server(configuration: configuration, handler: handler)
            try server.start()
            let port = server.localAddress!.port
            #expect(port > 0)
            do {
                // 64 connections from different source ports: the kernel's hash gives both loops some (all on one
                // loop has a 2^-63 chance).
                let clients = try (0..<64).map { _ in try TestClient(port: port) }
                for (index, client) in clients.enumerated() {
                    try client.send((0..<10).flatMap { frame(pattern(100 * $0 + index, seed: index + $0)) })
                }
                for (index, client) in clients.enumerated() {
                    for step in 0..<10 {
                        #expect(try client.receiveFrame() == pattern(100 * step + index, seed: index + step))
                    }
                }
                #expect(handler.record.loops.withLock { $0 } == [0, 1])
                let statistics = server.statistics()
                #expect(statistics.connectionsAccepted == 64 && statistics.framesIn == 640)
            }
            server.stop()
            #expect(throws: (any Error).self, "every listener is closed at stop") { try TestClient(port: port) }
        }

        @Test func maxConnectionsHoldsAcrossTheLoops() throws {
            var configuration = testConfiguration(subReactors: 2)
            configuration.reusePort = true
            configuration.maxConnections = 5
            try withServer(configuration, handler: RecordingEcho()) { server, port in
                let clients = try (0..<12).map { _ in try TestClient(port: port) }
                var echoed = 0
                for client in clients {
                    try? client.send(frame(pattern(8)))
                    if (try? client.receiveFrame()) == pattern(8) { echoed += 1 }
                }
                #expect(echoed == 5)
                #expect(eventually { server.statistics().connectionsRejected == 7 })
            }
        }
    }
}
