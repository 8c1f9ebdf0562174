import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Raw ``StreamHandler``s on a real server: what `onRead` is shown (old bytes again, then new ones), consuming,
/// ``InboundBytes/expect(atLeast:)``, ``InboundBytes/skip(_:)``, per-connection state, end of input, the buffered
/// input limit, addresses and a greeting written in `onOpen`.
extension LoopbackTests {
    @Suite struct StreamHandlerLevel {
        /// What one `onRead` (or `onInputEnded`) call was shown.
        struct Call: Equatable, Sendable, CustomStringConvertible {
            var count: Int
            var newBytesOffset: Int
            /// The bytes shown (left empty by handlers that see megabytes).
            var bytes: [UInt8]

            init(_ bytes: [UInt8], newBytesOffset: Int) {
                self.count = bytes.count
                self.newBytesOffset = newBytesOffset
                self.bytes = bytes
            }

            init(count: Int, newBytesOffset: Int) {
                self.count = count
                self.newBytesOffset = newBytesOffset
                self.bytes = []
            }

            var description: String {
                "Call(count: \(count), newBytesOffset: \(newBytesOffset), bytes: \(bytes.prefix(16)))"
            }
        }

        /// Calls and closes recorded on the loop threads.
        final class Record: Sendable {
            let calls = Locked<[Call]>([])
            let endings = Locked<[Call]>([])
            let closes = Locked<[CloseReason]>([])

            var callCount: Int { calls.withLock { $0.count } }

            func note(_ input: borrowing InboundBytes, keepingBytes: Bool = true) {
                let call =
                    keepingBytes
                    ? Call(input.withUnsafeBytes { Array($0) }, newBytesOffset: input.newBytesOffset)
                    : Call(count: input.count, newBytesOffset: input.newBytesOffset)
                calls.withLock { $0.append(call) }
            }
        }

        // MARK: Consuming

        /// Consumes nothing until 10 bytes are there, then echoes and consumes all of them.
        struct ConsumesAtTen: StreamHandler {
            let record = Record()

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                record.note(input)
                guard input.count >= 10 else { return }
                connection.write(input.bytes)
                input.consume(input.count)
            }
        }

        @Test func bytesLeftUnconsumedAreShownAgainFollowedByTheNewOnes() throws {
            let handler = ConsumesAtTen()
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { _, client in
                try client.send([1, 2, 3, 4])
                #expect(eventually { handler.record.callCount == 1 })
                try client.send([5, 6, 7])
                #expect(eventually { handler.record.callCount == 2 })
                try client.send([8, 9, 10, 11])
                #expect(try client.receive(exactly: 11) == Array(1...11))
                try client.send([12, 13])
                #expect(eventually { handler.record.callCount == 4 })
                try client.send(Array(14...23))
                #expect(try client.receive(exactly: 12) == Array(12...23))
                #expect(
                    handler.record.calls.withLock { $0 } == [
                        Call([1, 2, 3, 4], newBytesOffset: 0),
                        Call(Array(1...7), newBytesOffset: 4),
                        Call(Array(1...11), newBytesOffset: 7),
                        Call([12, 13], newBytesOffset: 0),
                        Call(Array(12...23), newBytesOffset: 2),
                    ])
            }
        }

        /// Handles complete 3-byte records (replies with each one reversed) and leaves a partial one; at the end of
        /// input replies `END` and the leftover bytes, consuming them if `consumesLeftover`.
        struct ThreeByteRecords: StreamHandler {
            let record = Record()
            var consumesLeftover = false

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                record.note(input)
                while input.count >= 3 {
                    let reversed = input.withUnsafeBytes { [$0[2], $0[1], $0[0]] }
                    connection.write(reversed)
                    input.consume(3)
                }
            }

            func onInputEnded(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                let call = Call(input.withUnsafeBytes { Array($0) }, newBytesOffset: input.newBytesOffset)
                record.endings.withLock { $0.append(call) }
                connection.write("END" as StaticString)
                connection.write(input.bytes)
                if consumesLeftover { input.consume(input.count) }
            }

            func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
                record.closes.withLock { $0.append(reason) }
            }
        }

        @Test func aPartialRecordIsCarriedToTheNextCall() throws {
            let handler = ThreeByteRecords()
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { _, client in
                try client.send([1, 2, 3, 4])
                #expect(try client.receive(exactly: 3) == [3, 2, 1])
                try client.send([5, 6, 7, 8, 9])
                #expect(try client.receive(exactly: 6) == [6, 5, 4, 9, 8, 7])
                try client.send([10, 11])
                #expect(eventually { handler.record.callCount == 3 })
                try client.send([12])
                #expect(try client.receive(exactly: 3) == [12, 11, 10])
                #expect(
                    handler.record.calls.withLock { $0 } == [
                        Call([1, 2, 3, 4], newBytesOffset: 0),
                        Call([4, 5, 6, 7, 8, 9], newBytesOffset: 1),
                        Call([10, 11], newBytesOffset: 0),
                        Call([10, 11, 12], newBytesOffset: 2),
                    ])
            }
        }

        // MARK: expect(atLeast:)

        /// Messages of a 4-byte big-endian length and that many bytes: asks for the whole message with
        /// `expect(atLeast:)` and replies with the length and the payload's FNV-1a checksum.
        struct ChecksumsMessages: StreamHandler {
            let record = Record()

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                record.note(input, keepingBytes: false)
                while input.count >= 4 {
                    let length = input.withUnsafeBytes { Int(UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self))) }
                    guard input.count >= 4 + length else {
                        input.expect(atLeast: 4 + length)
                        return
                    }
                    let checksum = input.withUnsafeBytes { fnv1a($0[4..<(4 + length)]) }
                    connection.write(bigEndianBytes(UInt32(length)) + bigEndianBytes(checksum))
                    input.consume(4 + length)
                }
            }
        }

        @Test func aHandlerThatExpectsAOneMebibyteMessageIsCalledOnceMoreWithAllOfIt() throws {
            let handler = ChecksumsMessages()
            var configuration = testConfiguration(subReactors: 1)
            configuration.limits.maxFrameLength = 2 << 20
            configuration.limits.maxBufferedInput = 2 << 20
            try withServerAndClient(configuration, handler: handler) { server, client in
                let length = 1 << 20
                let payload = pattern(length, seed: 3)
                try client.send(bigEndianBytes(UInt32(length)))
                #expect(eventually { handler.record.callCount == 1 })
                try client.send(payload)
                let reply = try client.receive(exactly: 8)
                #expect(reply == bigEndianBytes(UInt32(length)) + bigEndianBytes(fnv1a(payload[...])))
                let calls = handler.record.calls.withLock { $0 }
                #expect(calls.map(\.count) == [4, 4 + length], "no call between the header and the whole message")
                // The message's chunk goes back to the pool once it is consumed.
                #expect(eventually { server.statistics().pool.bytesInUse == 0 })
                // The connection carries on with a small message.
                try client.send(bigEndianBytes(10) + pattern(10, seed: 4))
                #expect(
                    try client.receive(exactly: 8) == bigEndianBytes(10)
                        + bigEndianBytes(fnv1a(pattern(10, seed: 4)[...])))
                #expect(handler.record.callCount == 3)
            }
        }

        /// `newBytesOffset` is "the first byte no earlier call was shown". Bytes that arrived while the handler
        /// waited for an `expect(atLeast:)` were never shown to it, so after seeing a 4-byte header the offset in
        /// the call with the whole message must be 4, however many reads the message took.
        @Test func afterAnExpectTheNewBytesOffsetCountsOnlyTheBytesTheHandlerWasShown() throws {
            let handler = ChecksumsMessages()
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { server, client in
                let payload = pattern(20, seed: 5)
                try client.send(bigEndianBytes(20))
                #expect(eventually { handler.record.callCount == 1 })
                try client.send(Array(payload[..<8]))
                #expect(eventually { server.statistics().bytesIn == 12 })
                #expect(handler.record.callCount == 1, "8 of 20 bytes: not called yet")
                try client.send(Array(payload[8...]))
                #expect(try client.receive(exactly: 8) == bigEndianBytes(20) + bigEndianBytes(fnv1a(payload[...])))
                #expect(
                    handler.record.calls.withLock { $0 } == [
                        Call(count: 4, newBytesOffset: 0), Call(count: 24, newBytesOffset: 4),
                    ])
            }
        }

        // MARK: skip(_:)

        /// Per connection: how many bytes of the current record are still to be echoed.
        struct SkipState {
            var echoRemaining = 0
        }

        /// Records of an 8-byte header (4-byte big-endian skip count, 4-byte big-endian echo count), then `skip`
        /// bytes that are skipped unseen, then `echo` bytes that are echoed.
        struct SkipsThenEchoes: StreamHandler {
            let record = Record()

            func onOpen(connection: inout ConnectionContext) -> SkipState { SkipState() }

            func onRead(_ input: inout InboundBytes, state: inout SkipState, connection: inout ConnectionContext) {
                record.note(input)
                while true {
                    if state.echoRemaining > 0 {
                        let count = min(state.echoRemaining, input.count)
                        guard count > 0 else { return }
                        connection.write(input.bytes.extracting(0..<count))
                        input.consume(count)
                        state.echoRemaining -= count
                        continue
                    }
                    guard input.count >= 8 else { return }
                    let (skip, echo) = input.withUnsafeBytes { bytes in
                        (
                            Int(UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self))),
                            Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
                        )
                    }
                    input.consume(8)
                    state.echoRemaining = echo
                    input.skip(skip)
                }
            }
        }

        @Test func skipDropsBytesInViewAndBytesNotReceivedYet() throws {
            let handler = SkipsThenEchoes()
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { server, client in
                let filler: UInt8 = 0xEE
                func header(skip: Int, echo: Int) -> [UInt8] {
                    bigEndianBytes(UInt32(skip)) + bigEndianBytes(UInt32(echo))
                }
                // Skipped bytes all in view.
                try client.send(header(skip: 10, echo: 5) + [UInt8](repeating: filler, count: 10) + [1, 2, 3, 4, 5])
                #expect(try client.receive(exactly: 5) == [1, 2, 3, 4, 5])

                // 100 000 to skip, 3000 of them there.
                try client.send(header(skip: 100_000, echo: 5000) + [UInt8](repeating: filler, count: 3000))
                #expect(eventually { server.statistics().bytesIn == 23 + 3008 })
                let afterSkip = handler.record.callCount
                let trailer = pattern(5000, seed: 9).map { $0 == filler ? 0 : $0 }
                let rest = [UInt8](repeating: filler, count: 97_000) + trailer + header(skip: 0, echo: 3) + [7, 8, 9]
                for start in stride(from: 0, to: rest.count, by: 7777) {
                    try client.send(Array(rest[start..<min(start + 7777, rest.count)]))
                }
                #expect(try client.receive(exactly: 5003) == trailer + [7, 8, 9])
                let later = handler.record.calls.withLock { Array($0.dropFirst(afterSkip)) }
                #expect(!later.isEmpty)
                #expect(later.allSatisfy { !$0.bytes.contains(filler) }, "no skipped byte was shown")
                #expect(later.first?.bytes.starts(with: trailer.prefix(16)) == true)
            }
        }

        // MARK: Per-connection state

        /// A plain, non-Sendable class: lives on the loop thread only.
        final class LineState {
            var byteCount = 0
            var lines: [String] = []
            var partial: [UInt8] = []
        }

        /// What `onClose` was given.
        struct ClosedState: Sendable {
            var id: ConnectionID
            var byteCount: Int?
            var lines: [String]?
            var partial: [UInt8]?
            var reason: CloseReason
        }

        /// Counts bytes and splits lines per connection; replies `<line number on this connection>:<line>\n`.
        struct NumbersLines: StreamHandler {
            let opened = Locked<[ConnectionID]>([])
            let closed = Locked<[ClosedState]>([])

            func onOpen(connection: inout ConnectionContext) -> LineState {
                let id = connection.id
                opened.withLock { $0.append(id) }
                return LineState()
            }

            func onRead(_ input: inout InboundBytes, state: inout LineState, connection: inout ConnectionContext) {
                state.byteCount += input.count
                for byte in input.withUnsafeBytes({ Array($0) }) {
                    if byte == UInt8(ascii: "\n") {
                        state.lines.append(String(decoding: state.partial, as: UTF8.self))
                        state.partial.removeAll()
                        connection.write(Array("\(state.lines.count):\(state.lines.last!)\n".utf8))
                    } else {
                        state.partial.append(byte)
                    }
                }
                input.consume(input.count)
            }

            func onClose(_ id: ConnectionID, state: LineState?, reason: CloseReason) {
                let closedState = ClosedState(
                    id: id, byteCount: state?.byteCount, lines: state?.lines, partial: state?.partial, reason: reason)
                closed.withLock { $0.append(closedState) }
            }
        }

        @Test func eachConnectionKeepsItsOwnStateFromOpenToClose() throws {
            let handler = NumbersLines()
            // One loop: both connections share one copy of the handler, so only the state can tell them apart.
            try withServer(testConfiguration(subReactors: 1), handler: handler) { _, port in
                var a: TestClient? = try TestClient(port: port)
                #expect(eventually { handler.opened.withLock { $0.count } == 1 })
                var b: TestClient? = try TestClient(port: port)
                #expect(eventually { handler.opened.withLock { $0.count } == 2 })
                let (idA, idB) = handler.opened.withLock { ($0[0], $0[1]) }

                try a!.send(Array("a1\nA".utf8))
                #expect(try a!.receive(exactly: 5) == Array("1:a1\n".utf8))
                try b!.send(Array("b1\n".utf8))
                #expect(try b!.receive(exactly: 5) == Array("1:b1\n".utf8))
                try a!.send(Array("2\na3\n".utf8))
                #expect(try a!.receive(exactly: 10) == Array("2:A2\n3:a3\n".utf8))
                try b!.send(Array("b2\nb3\nbb".utf8))
                #expect(try b!.receive(exactly: 10) == Array("2:b2\n3:b3\n".utf8))

                a = nil
                #expect(eventually { handler.closed.withLock { $0.count } == 1 })
                b = nil
                #expect(eventually { handler.closed.withLock { $0.count } == 2 })
                let closed = handler.closed.withLock { $0 }
                #expect(closed.map(\.id) == [idA, idB])
                #expect(closed[0].byteCount == 9)
                #expect(closed[0].lines == ["a1", "A2", "a3"])
                #expect(closed[0].partial == [])
                #expect(closed[0].reason == .peerClosed)
                #expect(closed[1].byteCount == 11)
                #expect(closed[1].lines == ["b1", "b2", "b3"])
                #expect(closed[1].partial == Array("bb".utf8))
                #expect(closed[1].reason == .peerClosed)
            }
        }

        // MARK: End of input

        @Test(arguments: [false, true])
        func theHandlerSeesTheLeftoverBytesWhenThePeerEndsItsInput(consumesLeftover: Bool) throws {
            var handler = ThreeByteRecords()
            handler.consumesLeftover = consumesLeftover
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { _, client in
                try client.send([1, 2, 3, 4, 5])
                #expect(try client.receive(exactly: 3) == [3, 2, 1])
                client.shutdownWrite()
                #expect(try client.receiveUntilEndOfStream() == Array("END".utf8) + [4, 5])
                #expect(eventually { handler.record.closes.withLock { $0.count } == 1 })
                #expect(handler.record.endings.withLock { $0 } == [Call([4, 5], newBytesOffset: 2)])
                let expected: CloseReason = consumesLeftover ? .peerClosed : .truncatedFrame(bufferedBytes: 2)
                #expect(handler.record.closes.withLock { $0 } == [expected])
            }
        }

        @Test func endOfInputWithNothingLeftClosesAsPeerClosed() throws {
            let handler = ThreeByteRecords()
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { _, client in
                try client.send([1, 2, 3])
                #expect(try client.receive(exactly: 3) == [3, 2, 1])
                client.shutdownWrite()
                #expect(try client.receiveUntilEndOfStream() == Array("END".utf8))
                #expect(eventually { handler.record.closes.withLock { $0 } == [.peerClosed] })
                #expect(handler.record.endings.withLock { $0 } == [Call([], newBytesOffset: 0)])
            }
        }

        // MARK: maxBufferedInput

        /// Never consumes; echoes the bytes it had not been shown before.
        struct NeverConsumes: StreamHandler {
            let record = Record()

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                record.note(input, keepingBytes: false)
                let offset = input.newBytesOffset
                connection.write(input.bytes.extracting(offset..<input.count))
            }

            func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
                record.closes.withLock { $0.append(reason) }
            }
        }

        @Test func aHandlerThatNeverConsumesIsClosedPastMaxBufferedInputAfterItsReplies() throws {
            let handler = NeverConsumes()
            var configuration = testConfiguration(subReactors: 1)
            configuration.limits.maxBufferedInput = 8192
            try withServerAndClient(configuration, handler: handler) { server, client in
                let sent = pattern(10_000, seed: 11)
                try client.send(Array(sent[..<5000]))
                #expect(eventually { handler.record.callCount == 1 })
                #expect(handler.record.closes.withLock { $0.isEmpty }, "5000 bytes are under the limit")
                try client.send(Array(sent[5000...]))
                // Both replies arrive (the first still unread when the limit is passed), then a FIN, not a reset.
                #expect(try client.receiveUntilEndOfStream() == sent)
                #expect(eventually { handler.record.closes.withLock { $0.count } == 1 })
                #expect(
                    handler.record.closes.withLock { $0 } == [
                        .bufferedInputTooLarge(bufferedBytes: 10_000, limit: 8192)
                    ])
                #expect(handler.record.calls.withLock { $0 }.map(\.count) == [5000, 10_000])
                #expect(server.statistics().closed(.bufferedInputTooLarge) == 1)
            }
        }

        // MARK: Addresses and greeting

        /// Records the addresses the context reports, and writes a greeting on open; echoes.
        struct GreetsAndRecordsAddresses: StreamHandler {
            let addresses = Locked<[(peer: ReactorSocketAddress?, local: ReactorSocketAddress?)]>([])

            func onOpen(connection: inout ConnectionContext) {
                let pair = (connection.peerAddress, connection.localAddress)
                addresses.withLock { $0.append(pair) }
                connection.write("hello\n" as StaticString)
            }

            func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
                connection.write(input.bytes)
                input.consume(input.count)
            }
        }

        @Test func peerAndLocalAddressesMatchTheClientsSocket() throws {
            let handler = GreetsAndRecordsAddresses()
            try withServer(testConfiguration(subReactors: 1), handler: handler) { server, port in
                let client = try TestClient(port: port)
                #expect(eventually { handler.addresses.withLock { $0.count } == 1 })
                let (peer, local) = handler.addresses.withLock { ($0[0].peer, $0[0].local) }
                let clientPort = try #require(localPort(of: client.fd))
                #expect(peer?.host == "127.0.0.1")
                #expect(peer?.port == clientPort)
                #expect(local?.host == "127.0.0.1")
                #expect(local?.port == port)
                #expect(local == server.localAddress)
            }
        }

        @Test func aGreetingWrittenInOnOpenArrivesFirst() throws {
            let handler = GreetsAndRecordsAddresses()
            try withServerAndClient(testConfiguration(subReactors: 1), handler: handler) { _, client in
                // Sent at once, before the greeting was read: the echo still comes after it.
                try client.send(Array("ping\n".utf8))
                #expect(try client.receive(exactly: 11) == Array("hello\nping\n".utf8))
            }
        }
    }
}

/// The 4 bytes of `value`, big endian.
private func bigEndianBytes(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
}

/// 32-bit FNV-1a of `bytes`.
private func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
    var hash: UInt32 = 2_166_136_261
    for byte in bytes {
        hash ^= UInt32(byte)
        hash = hash &* 16_777_619
    }
    return hash
}

/// The local port of the socket `fd` (`getsockname`).
private func localPort(of fd: CInt) -> Int? {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let result = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard result == 0 else { return nil }
    return Int(UInt16(bigEndian: address.sin_port))
}
