import CReactorTLS
import ReactorCore
import ReactorTLS
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    /// TLS through `ReactorTLS` on real loopback sockets, judged by an OpenSSL client that also misbehaves on purpose:
    /// every handler runs unchanged over it, and every kind of bad peer gets its own close reason.
    @Suite struct TLS {
        // MARK: Traffic

        @Test(arguments: [0x0303, 0x0304] as [CInt])
        func framesOfEdgeSizesAreEchoedOverEachVersion(version: CInt) throws {
            try withServer(try tlsTestConfiguration(), handler: RecordingEcho()) { server, port in
                let client = try TLSTestClient(
                    port: port, .init(minimumVersion: version, maximumVersion: version, serverName: "localhost"))
                try client.handshake()
                #expect(client.version == (version == 0x0304 ? "TLSv1.3" : "TLSv1.2"))
                for size in [0, 1, 4095, 16384, 16385, 65536, 1 << 20] {
                    let payload = pattern(size, seed: size)
                    try client.write(frame(payload))
                    #expect(try client.readFrame() == payload)
                }
                #expect(server.statistics().framesIn == 7)
            }
        }

        @Test func thousandsOfPipelinedFramesInOneWriteComeBackInOrder() throws {
            try withServer(try tlsTestConfiguration(), handler: RecordingEcho()) { _, port in
                let client = try TLSTestClient(port: port)
                try client.handshake()
                let payloads = (0..<5000).map { pattern($0 % 97, seed: $0) }
                try client.write(payloads.flatMap(frame))
                for payload in payloads { #expect(try client.readFrame() == payload) }
            }
        }

        @Test func manyConnectionsOverTwoLoopsAreEachEchoedExactly() throws {
            try withServer(try tlsTestConfiguration(subReactors: 2), handler: RecordingEcho()) { server, port in
                let clients = try (0..<40).map { _ in try TLSTestClient(port: port) }
                for client in clients { try client.handshake() }
                for (index, client) in clients.enumerated() {
                    try client.write((0..<10).flatMap { frame(pattern(100 + $0, seed: index * 10 + $0)) })
                }
                for (index, client) in clients.enumerated() {
                    for frameIndex in 0..<10 {
                        #expect(try client.readFrame() == pattern(100 + frameIndex, seed: index * 10 + frameIndex))
                    }
                }
                #expect(server.statistics().connectionsAccepted == 40)
            }
        }

        @Test func aReplyLargerThanTheSocketBuffersWaitsForAReaderAndArrivesWhole() throws {
            // 4 MiB against a client with a small receive window that does not read for a while: the server's writes
            // stop part way through a record (EAGAIN), the record's rest is written again from the same bytes once
            // the socket drains, and a request sent meanwhile is answered after it, in order.
            try withServer(try tlsTestConfiguration(), handler: BulkReply()) { server, port in
                let client = try TLSTestClient(port: port, .init(receiveBuffer: 4096))
                try client.handshake()
                try client.write(Array("4194304\n".utf8))
                #expect(eventually { server.statistics().backpressurePauses >= 1 })  // the socket is full
                try client.write(Array("65536\n".utf8))
                #expect(try client.read(exactly: 4_194_304) == BulkReply.bytes(4_194_304))
                #expect(try client.read(exactly: 65536) == BulkReply.bytes(65536))
            }
        }

        @Test func closeNotifyAfterALargeRequestedReplyEndsAfterTheLastByte() throws {
            // The peer asks for 4 MiB and closes its side at once, reading nothing yet: the graceful close waits for
            // the whole reply to go, then sends our close_notify.
            let handler = BulkReply()
            try withServer(try tlsTestConfiguration(), handler: handler) { _, port in
                let client = try TLSTestClient(port: port)
                try client.handshake()
                try client.write(Array("4194304\n".utf8))
                client.sendCloseNotify()
                #expect(try client.read(exactly: 4_194_304) == BulkReply.bytes(4_194_304))
                #expect(client.readUntilEnd() == .closeNotify)
                #expect(eventually { handler.record.reasons.withLock { $0 } == [.peerClosed] })
            }
        }

        // MARK: Ending a connection

        @Test func closeNotifyFromThePeerEndsTheConnectionCleanlyAndIsAnswered() throws {
            let handler = RecordingEcho()
            try withServer(try tlsTestConfiguration(), handler: handler) { _, port in
                let client = try TLSTestClient(port: port)
                try client.handshake()
                try client.write(frame(pattern(10)))
                #expect(try client.readFrame() == pattern(10))
                client.sendCloseNotify()
                #expect(client.readUntilEnd() == .closeNotify)
                #expect(eventually { handler.record.reasons.withLock { $0 } == [.peerClosed] })
            }
        }

        @Test func anEndWithoutCloseNotifyIsReportedAsTruncationAfterTheRepliesWent() throws {
            let handler = RecordingEcho()
            try withServer(try tlsTestConfiguration(), handler: handler) { _, port in
                let client = try TLSTestClient(port: port)
                try client.handshake()
                try client.write(frame(pattern(1000)))
                #expect(try client.readFrame() == pattern(1000))
                client.socket.shutdownWrite()  // TCP FIN, no close_notify
                #expect(client.readUntilEnd() == .closeNotify)  // our graceful close still sends one
                #expect(eventually { handler.record.reasons.withLock { $0 } == [.tlsTruncated] })
            }
        }

        @Test func aGracefulStopSendsCloseNotify() throws {
            let server = Server(configuration: try tlsTestConfiguration(), handler: RecordingEcho())
            try server.start()
            let client = try TLSTestClient(port: server.localAddress!.port)
            try client.handshake()
            try client.write(frame(pattern(5)))
            #expect(try client.readFrame() == pattern(5))
            server.stop()
            #expect(client.readUntilEnd() == .closeNotify)
        }

        // MARK: Hostile peers, each with its own reason

        @Test func aClientThatStallsMidHandshakeIsClosedByTheHandshakeTimeout() throws {
            let configuration = try tlsTestConfiguration { $0.handshakeTimeout = .milliseconds(300) }
            try withServer(configuration, handler: RecordingEcho()) { server, port in
                let client = try TestClient(port: port)
                try client.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])  // a ClientHello's first bytes, then nothing
                #expect(client.isClosedByPeer(discardingData: true))
                #expect(eventually { server.statistics().closed(.tlsHandshakeTimeout) == 1 })
                #expect(server.statistics().connectionsOpen == 0)
            }
        }

        @Test(arguments: ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "*1\r\n$4\r\nPING\r\n", "PING\r\n"])
        func aPlainTextClientIsClosedAtOnceWithItsOwnReason(request: String) throws {
            try withServer(try tlsTestConfiguration(), handler: RecordingEcho()) { server, port in
                let client = try TestClient(port: port)
                try client.send(Array(request.utf8))
                // Closed without reading the request, so the kernel may answer it with a reset: either way, not a
                // byte comes back.
                #expect(client.isClosedByPeer(discardingData: false, allowingReset: true))
                #expect(eventually { server.statistics().closed(.tlsPlaintextPeer) == 1 })
            }
        }

        @Test func handshakeGarbageIsRefused() throws {
            try withServer(try tlsTestConfiguration(), handler: RecordingEcho()) { server, port in
                let client = try TestClient(port: port)
                try client.send([0x16, 0x03, 0x01, 0x00, 0x08] + Array(repeating: 0xEE, count: 8))
                #expect(client.isClosedByPeer(discardingData: true))
                #expect(eventually { server.statistics().closed(.tlsHandshakeFailed) == 1 })
            }
        }

        @Test func aRecordOverTheLimitIsRefused() throws {
            try withServer(try tlsTestConfiguration(), handler: RecordingEcho()) { server, port in
                let client = try TLSTestClient(port: port)
                try client.handshake()
                // An application-data record announcing 18,000 bytes (TLS allows 2^14 + 256 of ciphertext).
                try client.sendRaw([0x17, 0x03, 0x03, 0x46, 0x50] + Array(repeating: 0x41, count: 18000))
                #expect(eventually { server.statistics().closed(.tlsRecordOverflow) == 1 })
            }
        }

        @Test func aCorruptedRecordClosesWithAProtocolErrorAndDeliversNothingOfIt() throws {
            try withServer(try tlsTestConfiguration(), handler: RecordingEcho()) { server, port in
                let client = try TLSTestClient(port: port)
                try client.handshake()
                try client.write(frame(pattern(3)))
                #expect(try client.readFrame() == pattern(3))
                // A well-formed header over bytes that are no valid ciphertext (the AEAD tag fails).
                try client.sendRaw([0x17, 0x03, 0x03, 0x00, 0x40] + pattern(64, seed: 9))
                #expect(eventually { server.statistics().closed(.tlsProtocolError) == 1 })
                #expect(server.statistics().framesIn == 1)
            }
        }

        @Test func aRenegotiationAttemptIsRefusedAndTheConnectionClosedGracefully() throws {
            try withServer(try tlsTestConfiguration(), handler: RecordingEcho()) { server, port in
                let client = try TLSTestClient(port: port, .init(maximumVersion: 0x0303))
                try client.handshake()
                try client.write(frame(pattern(7)))
                #expect(try client.readFrame() == pattern(7))
                #expect(SSL_renegotiate(client.ssl) == 1)
                _ = SSL_do_handshake(client.ssl)
                ERR_clear_error()
                #expect(eventually { server.statistics().closed(.tlsRenegotiationRefused) == 1 })
            }
        }

        // MARK: Client certificates

        @Test func aRequiredClientCertificateIsVerifiedAndVisibleToTheHandler() throws {
            let handler = TLSInfoHandler()
            let configuration = try tlsTestConfiguration {
                $0.clientCertificates = .required(trustedCAFile: TLSTestCertificates.path("ca.pem"))
            }
            try withServer(configuration, handler: handler) { server, port in
                let good = try TLSTestClient(
                    port: port,
                    .init(
                        certificate: TLSTestCertificates.path("client.pem"),
                        key: TLSTestCertificates.path("client.key")))
                try good.handshake()
                try good.write(Array("info\n".utf8))
                let line = try good.readLine()
                #expect(line.hasPrefix("TLSv1.3 - - false "))
                #expect(line != "TLSv1.3 - - false 0")  // the handler sees the client's certificate
                for name in ["expired-client", "untrusted-client", nil] as [String?] {
                    var options = TLSTestClient.Options()
                    if let name {
                        options.certificate = TLSTestCertificates.path("\(name).pem")
                        options.key = TLSTestCertificates.path("\(name).key")
                    }
                    let bad = try TLSTestClient(port: port, options)
                    // TLS 1.3: the client's handshake completes before the server has judged its certificate; the
                    // refusal arrives as an alert on the first read.
                    if (try? bad.handshake()) != nil {
                        try? bad.write(Array("info\n".utf8))
                        #expect((try? bad.read(exactly: 1)) == nil)
                    }
                }
                #expect(eventually { server.statistics().closed(.tlsCertificateRejected) == 3 })
            }
        }

        // MARK: ALPN, SNI, resumption

        @Test func alpnPicksTheServersPreferenceAndRefusesAClientWithNoCommonProtocol() throws {
            let handler = TLSInfoHandler()
            let configuration = try tlsTestConfiguration { $0.applicationProtocols = ["http/1.1", "redis"] }
            try withServer(configuration, handler: handler) { server, port in
                let both = try TLSTestClient(port: port, .init(alpn: ["h2", "redis", "http/1.1"]))
                try both.handshake()
                #expect(both.negotiatedProtocol == "http/1.1")
                let redis = try TLSTestClient(port: port, .init(alpn: ["h2", "redis"]))
                try redis.handshake()
                #expect(redis.negotiatedProtocol == "redis")
                try redis.write(Array("info\n".utf8))
                #expect(try redis.readLine() == "TLSv1.3 redis - false 0")
                let none = try TLSTestClient(port: port)
                try none.handshake()
                #expect(none.negotiatedProtocol == nil)
                let h2 = try TLSTestClient(port: port, .init(alpn: ["h2"]))
                #expect(throws: (any Error).self) { try h2.handshake() }
                #expect(eventually { server.statistics().closed(.tlsHandshakeFailed) == 1 })
            }
        }

        @Test func theServerNameHandlerPicksTheCertificate() throws {
            let other = try TLSServerContext(
                configuration: TLSServerConfiguration(
                    certificateChain: .file(TLSTestCertificates.path("other.pem")),
                    privateKey: .file(TLSTestCertificates.path("other.key"))))
            let handler = TLSInfoHandler()
            let configuration = try tlsTestConfiguration { $0.serverNameHandler = { $0 == "other.test" ? other : nil } }
            try withServer(configuration, handler: handler) { _, port in
                let named = try TLSTestClient(port: port, .init(serverName: "other.test"))
                try named.handshake()
                #expect(named.peerCommonName == "other.test")
                try named.write(Array("info\n".utf8))
                #expect(try named.readLine() == "TLSv1.3 - other.test false 0")
                let local = try TLSTestClient(port: port, .init(serverName: "localhost"))
                try local.handshake()
                #expect(local.peerCommonName == "localhost")
            }
        }

        @Test(arguments: [0x0303, 0x0304] as [CInt])
        func aSessionIsResumedFromItsTicket(version: CInt) throws {
            let handler = TLSInfoHandler()
            try withServer(try tlsTestConfiguration(), handler: handler) { _, port in
                let first = try TLSTestClient(port: port, .init(minimumVersion: version, maximumVersion: version))
                try first.handshake()
                try first.write(Array("info\n".utf8))  // TLS 1.3 tickets come after the handshake, before this answer
                #expect(try first.readLine() == "\(first.version) - - false 0")
                let session = try #require(first.session)
                defer { SSL_SESSION_free(session) }
                let second = try TLSTestClient(
                    port: port, .init(minimumVersion: version, maximumVersion: version, session: session))
                try second.handshake()
                #expect(second.isResumed)
                try second.write(Array("info\n".utf8))
                #expect(try second.readLine() == "\(second.version) - - true 0")
            }
        }

        // MARK: The client side

        @Test func aTLSClientOnTheLoopsVerifiesTheServerAndGetsEveryEcho() throws {
            try withServer(try tlsTestConfiguration(subReactors: 2), handler: RecordingEcho()) { server, port in
                let handler = CountingClient(count: 200)
                var configuration = ClientConfiguration(loops: 2)
                configuration.transport = try TLSClientContext(
                    configuration: TLSClientConfiguration(
                        serverName: "localhost", trust: .file(TLSTestCertificates.path("ca.pem"))))
                let client = Client(configuration: configuration, handler: handler)
                try client.start()
                defer { client.stop() }
                for _ in 0..<8 { try client.connect(to: ReactorSocketAddress(host: "127.0.0.1", port: port)) }
                #expect(eventually { handler.record.reasons.withLock { $0.count } == 8 })
                #expect(handler.record.received.load(ordering: .relaxed) == 1600)
                #expect(handler.record.mismatches.load(ordering: .relaxed) == 0)
                #expect(handler.record.reasons.withLock { $0 }.allSatisfy { $0 == .closedByHandler })
                // Each client close sent close_notify: the server saw clean ends.
                #expect(eventually { server.statistics().closed(.peerClosed) == 8 })
            }
        }

        @Test func aTLSClientRefusesAServerWhoseCertificateDoesNotMatchTheName() throws {
            try withServer(try tlsTestConfiguration(), handler: RecordingEcho()) { _, port in
                let handler = CountingClient(count: 1)
                var configuration = ClientConfiguration(logger: testConfiguration().logger)
                configuration.transport = try TLSClientContext(
                    configuration: TLSClientConfiguration(
                        serverName: "wrong.example", trust: .file(TLSTestCertificates.path("ca.pem"))))
                let client = Client(configuration: configuration, handler: handler)
                try client.start()
                defer { client.stop() }
                try client.connect(to: ReactorSocketAddress(host: "127.0.0.1", port: port))
                #expect(eventually { handler.record.reasons.withLock { $0.count } == 1 })
                #expect(handler.record.reasons.withLock { $0 }.first?.kind == .tlsCertificateRejected)
                #expect(handler.record.received.load(ordering: .relaxed) == 0)
            }
        }

        // MARK: Configuration errors

        @Test func aKeyThatDoesNotMatchItsCertificateIsRefusedAtStart() throws {
            let mismatched = TLSServerConfiguration(
                certificateChain: .file(TLSTestCertificates.path("server.pem")),
                privateKey: .file(TLSTestCertificates.path("other.key")))
            #expect(throws: TLSSetupError.self) { try TLSServerContext(configuration: mismatched) }
            let missing = TLSServerConfiguration(
                certificateChain: .file("/nonexistent.pem"), privateKey: .file("/x.key"))
            let error = #expect(throws: TLSSetupError.self) { try TLSServerContext(configuration: missing) }
            #expect(error?.description.contains("/nonexistent.pem") == true)
        }

        @Test func certificatesCanComeFromMemory() throws {
            func text(_ name: String) throws -> String {
                String(decoding: try readFile(TLSTestCertificates.path(name)), as: UTF8.self)
            }
            var configuration = testConfiguration(subReactors: 1)
            configuration.transport = try TLSServerContext(
                configuration: TLSServerConfiguration(
                    certificateChain: .pem(try text("server.pem")), privateKey: .pem(try text("server.key"))))
            try withServer(configuration, handler: RecordingEcho()) { _, port in
                let client = try TLSTestClient(port: port, .init(serverName: "localhost"))
                try client.handshake()
                try client.write(frame(pattern(50)))
                #expect(try client.readFrame() == pattern(50))
            }
        }
    }
}

/// The bytes of the file at `path`.
private func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw TestClient.Failure(description: "fopen \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return bytes
}

/// Answers each line `N\n` with `N` bytes of a fixed pattern (``bytes(_:)``), and records why connections closed.
private struct BulkReply: StreamHandler {
    let record = TLSInfoHandler.Record()

    private static let largest = (0..<4_194_304).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 13) }
    static func bytes(_ count: Int) -> [UInt8] { Array(largest.prefix(count)) }

    func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
        while let newline = input.withUnsafeBytes({ $0.firstIndex(of: 0x0A) }) {
            let line = input.withUnsafeBytes { String(decoding: $0.prefix(newline), as: UTF8.self) }
            input.consume(newline + 1)
            connection.write(Self.bytes(Int(line) ?? 0))
        }
    }

    func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
        record.reasons.withLock { $0.append(reason) }
    }
}
