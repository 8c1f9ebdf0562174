import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Helpers

/// The UTF-8 bytes of `text`.
private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The reference model: the first delimiter to end in the stream ends the record (the longest of those ending at the
/// same byte), found by trying every end position and every delimiter.
private struct ReferenceSplitter: DecoderReferenceModel {
    var delimiters: [[UInt8]]
    var stripsDelimiter: Bool
    var maxLength: Int

    var decoder: DelimiterDecoder {
        DelimiterDecoder(delimiters: delimiters, stripsDelimiter: stripsDelimiter, maxLength: maxLength)
    }

    var description: String {
        "delimiters \(delimiters) strips \(stripsDelimiter) maxLength \(maxLength)"
    }

    /// What the decoder must answer for `input` (the start of a record first).
    func parse(_ input: ArraySlice<UInt8>) -> Result<DecodeStep, MessageDecodingError> {
        let bytes = Array(input)
        var longest = 0
        for delimiter in delimiters where delimiter.count > longest { longest = delimiter.count }
        var end = 1
        while end <= bytes.count {
            var matched = 0
            for delimiter in delimiters where delimiter.count <= end && delimiter.count > matched {
                if Array(bytes[(end - delimiter.count)..<end]) == delimiter { matched = delimiter.count }
            }
            if matched > 0 {
                let recordLength = end - matched
                if recordLength > maxLength { return .failure(.lineTooLong(limit: maxLength)) }
                return .success(.message(payload: 0..<(stripsDelimiter ? recordLength : end), consumed: end))
            }
            end += 1
        }
        // No delimiter yet. The next one would end at byte count + 1 or later, after a record of at least
        // count + 1 - longest bytes: once that is over the limit, no valid record can follow.
        if bytes.count + 1 - longest > maxLength { return .failure(.lineTooLong(limit: maxLength)) }
        return .success(.needMoreInput(atLeast: bytes.count + 1))
    }
}

// MARK: - Unit tests

@Suite struct DelimiterDecoderTests {
    @Test func linesEndWithNewlineOrCarriageReturnNewline() {
        let lines = DelimiterDecoder.lines()
        #expect(lines.delimiters == [[0x0A], [0x0D, 0x0A]])
        #expect(lines.stripsDelimiter)
        #expect(lines.maxLength == 64 * 1024)
        #expect(decodeStep(lines, bytes("abc\n")) == .success(.message(payload: 0..<3, consumed: 4)))
        // The longer delimiter ending at the same byte wins: `abc`, not `abc\r`.
        #expect(decodeStep(lines, bytes("abc\r\n")) == .success(.message(payload: 0..<3, consumed: 5)))
        // A lone carriage return is part of the line.
        #expect(decodeStep(lines, bytes("a\rb\n")) == .success(.message(payload: 0..<3, consumed: 4)))
        // Only the first line.
        #expect(decodeStep(lines, bytes("ab\r\ncd\n")) == .success(.message(payload: 0..<2, consumed: 4)))
        #expect(decodeStep(lines, bytes("ab\ncd\r\n")) == .success(.message(payload: 0..<2, consumed: 3)))
    }

    @Test func delimiterIsKeptWhenNotStripped() {
        let lines = DelimiterDecoder.lines(stripsDelimiter: false)
        #expect(!lines.stripsDelimiter)
        #expect(decodeStep(lines, bytes("abc\r\n")) == .success(.message(payload: 0..<5, consumed: 5)))
        #expect(decodeStep(lines, bytes("abc\nx")) == .success(.message(payload: 0..<4, consumed: 4)))
        #expect(decodeStep(lines, bytes("\r\n")) == .success(.message(payload: 0..<2, consumed: 2)))
    }

    @Test func emptyLines() {
        let lines = DelimiterDecoder.lines()
        #expect(decodeStep(lines, bytes("\n")) == .success(.message(payload: 0..<0, consumed: 1)))
        #expect(decodeStep(lines, bytes("\r\n")) == .success(.message(payload: 0..<0, consumed: 2)))
        #expect(decodeStep(lines, bytes("\n\n\n")) == .success(.message(payload: 0..<0, consumed: 1)))
        #expect(decodeStep(lines, bytes("\r\n\r\n")) == .success(.message(payload: 0..<0, consumed: 2)))
        // A line of one carriage return cannot be told from an empty CRLF line: the longest delimiter wins.
        #expect(decodeStep(lines, bytes("\r\r\n")) == .success(.message(payload: 0..<1, consumed: 3)))
        let empty = DelimiterDecoder.lines(maxLength: 0)
        #expect(decodeStep(empty, bytes("\r\n")) == .success(.message(payload: 0..<0, consumed: 2)))
        #expect(decodeStep(empty, bytes("\n")) == .success(.message(payload: 0..<0, consumed: 1)))
        #expect(decodeStep(empty, bytes("x\n")) == .failure(.lineTooLong(limit: 0)))
    }

    @Test func needMoreInputAsksForOneMoreByte() {
        let lines = DelimiterDecoder.lines()
        #expect(decodeStep(lines, []) == .success(.needMoreInput(atLeast: 1)))
        #expect(decodeStep(lines, bytes("a")) == .success(.needMoreInput(atLeast: 2)))
        #expect(decodeStep(lines, bytes("abc")) == .success(.needMoreInput(atLeast: 4)))
        #expect(decodeStep(lines, bytes("abc\r")) == .success(.needMoreInput(atLeast: 5)))
        let end = DelimiterDecoder(delimiters: [bytes("END")])
        #expect(decodeStep(end, bytes("helloEN")) == .success(.needMoreInput(atLeast: 8)))
        #expect(decodeStep(end, bytes("helloE")) == .success(.needMoreInput(atLeast: 7)))
    }

    @Test func multiByteDelimiter() {
        let end = DelimiterDecoder(delimiters: [bytes("END")])
        #expect(decodeStep(end, bytes("helloEND")) == .success(.message(payload: 0..<5, consumed: 8)))
        #expect(decodeStep(end, bytes("helloENDworldEND")) == .success(.message(payload: 0..<5, consumed: 8)))
        #expect(decodeStep(end, bytes("ENDEND")) == .success(.message(payload: 0..<0, consumed: 3)))
        #expect(decodeStep(end, bytes("EENDx")) == .success(.message(payload: 0..<1, consumed: 4)))
        #expect(decodeStep(end, bytes("ENENDD")) == .success(.message(payload: 0..<2, consumed: 5)))
        // Pieces of the delimiter are ordinary bytes.
        #expect(decodeStep(end, bytes("EN\nND E N D")) == .success(.needMoreInput(atLeast: 12)))
        let kept = DelimiterDecoder(delimiters: [bytes("END")], stripsDelimiter: false)
        #expect(decodeStep(kept, bytes("helloENDx")) == .success(.message(payload: 0..<8, consumed: 8)))
    }

    @Test func severalDelimitersWithDifferentLastBytes() {
        let decoder = DelimiterDecoder(delimiters: [bytes(";"), bytes("||"), [0]])
        #expect(decodeStep(decoder, bytes("a;b")) == .success(.message(payload: 0..<1, consumed: 2)))
        #expect(decodeStep(decoder, bytes("ab||c;")) == .success(.message(payload: 0..<2, consumed: 4)))
        #expect(decodeStep(decoder, [0x61, 0x62, 0x00, 0x3B]) == .success(.message(payload: 0..<2, consumed: 3)))
        #expect(decodeStep(decoder, bytes("a|b|c")) == .success(.needMoreInput(atLeast: 6)))
        #expect(decodeStep(decoder, bytes("a|")) == .success(.needMoreInput(atLeast: 3)))
        // The delimiter that ends first wins, whichever is listed first.
        let ends = DelimiterDecoder(delimiters: [bytes("ABC"), bytes("B")])
        #expect(decodeStep(ends, bytes("xABC")) == .success(.message(payload: 0..<2, consumed: 3)))
        // Of the delimiters ending at the same byte, the longest wins, whatever the order they are listed in.
        for order in [["C", "BC", "ABC"], ["ABC", "C", "BC"], ["BC", "ABC", "C"]] {
            let decoder = DelimiterDecoder(delimiters: order.map(bytes))
            #expect(decodeStep(decoder, bytes("xxABC")) == .success(.message(payload: 0..<2, consumed: 5)), "\(order)")
            #expect(decodeStep(decoder, bytes("xxBC")) == .success(.message(payload: 0..<2, consumed: 4)), "\(order)")
            #expect(decodeStep(decoder, bytes("xxC")) == .success(.message(payload: 0..<2, consumed: 3)), "\(order)")
        }
    }

    @Test func lineOfExactlyMaxLengthIsAcceptedAndOneMoreThrows() {
        let lines = DelimiterDecoder.lines(maxLength: 5)
        #expect(decodeStep(lines, bytes("12345\n")) == .success(.message(payload: 0..<5, consumed: 6)))
        #expect(decodeStep(lines, bytes("12345\r\n")) == .success(.message(payload: 0..<5, consumed: 7)))
        #expect(decodeStep(lines, bytes("123456\n")) == .failure(.lineTooLong(limit: 5)))
        #expect(decodeStep(lines, bytes("123456\r\n")) == .failure(.lineTooLong(limit: 5)))
        #expect(decodeStep(lines, bytes("1234567890\n")) == .failure(.lineTooLong(limit: 5)))
        // The limit excludes the delimiter also when it is kept.
        let kept = DelimiterDecoder.lines(maxLength: 5, stripsDelimiter: false)
        #expect(decodeStep(kept, bytes("12345\r\n")) == .success(.message(payload: 0..<7, consumed: 7)))
        #expect(decodeStep(kept, bytes("123456\n")) == .failure(.lineTooLong(limit: 5)))
        // Only the first record counts: a short line before a long one is handed out.
        #expect(
            decodeStep(lines, bytes("ab\n") + [UInt8](repeating: 0x7A, count: 100))
                == .success(.message(payload: 0..<2, consumed: 3)))
    }

    @Test func tooLongLineThrowsBeforeItsDelimiterArrives() {
        // maxLength 5, longest delimiter 2: 6 bytes could still be 5 + "\r", 7 bytes cannot be a valid line.
        let lines = DelimiterDecoder.lines(maxLength: 5)
        #expect(decodeStep(lines, bytes("12345")) == .success(.needMoreInput(atLeast: 6)))
        #expect(decodeStep(lines, bytes("123456")) == .success(.needMoreInput(atLeast: 7)))
        #expect(decodeStep(lines, bytes("12345\r")) == .success(.needMoreInput(atLeast: 7)))
        #expect(decodeStep(lines, bytes("1234567")) == .failure(.lineTooLong(limit: 5)))
        #expect(decodeStep(lines, bytes("123456\r")) == .failure(.lineTooLong(limit: 5)))
        #expect(decodeStep(lines, [UInt8](repeating: 0x61, count: 10_000)) == .failure(.lineTooLong(limit: 5)))
        // With a single 1-byte delimiter, the sixth byte without it is already too many.
        let newline = DelimiterDecoder(delimiters: [[0x0A]], maxLength: 5)
        #expect(decodeStep(newline, bytes("12345")) == .success(.needMoreInput(atLeast: 6)))
        #expect(decodeStep(newline, bytes("123456")) == .failure(.lineTooLong(limit: 5)))
        // A 3-byte delimiter: up to 5 + 2 bytes wait for it.
        let end = DelimiterDecoder(delimiters: [bytes("END")], maxLength: 5)
        #expect(decodeStep(end, bytes("12345EN")) == .success(.needMoreInput(atLeast: 8)))
        #expect(decodeStep(end, bytes("12345ENx")) == .failure(.lineTooLong(limit: 5)))
        #expect(decodeStep(end, bytes("12345END")) == .success(.message(payload: 0..<5, consumed: 8)))
        // The same through the resuming scan, one byte at a time.
        var input: [UInt8] = []
        var results: [Result<DecodeStep, MessageDecodingError>] = []
        for byte in bytes("1234567") {
            let shown = input.count
            input.append(byte)
            results.append(decodeStep(lines, input, newBytesAt: shown))
        }
        #expect(results.dropLast().allSatisfy { if case .success(.needMoreInput) = $0 { true } else { false } })
        #expect(results.last == .failure(.lineTooLong(limit: 5)))
    }

    @Test func delimiterSplitAcrossTheNewBytesBoundaryIsFound() {
        let lines = DelimiterDecoder.lines()
        // "\r" was the last old byte, "\n" is the first new one.
        #expect(decodeStep(lines, bytes("abc\r\n"), newBytesAt: 4) == .success(.message(payload: 0..<3, consumed: 5)))
        #expect(decodeStep(lines, bytes("abc\r\nxy"), newBytesAt: 4) == .success(.message(payload: 0..<3, consumed: 5)))
        let end = DelimiterDecoder(delimiters: [bytes("END")])
        #expect(decodeStep(end, bytes("xxEND"), newBytesAt: 4) == .success(.message(payload: 0..<2, consumed: 5)))
        #expect(decodeStep(end, bytes("xxEND"), newBytesAt: 3) == .success(.message(payload: 0..<2, consumed: 5)))
        #expect(decodeStep(end, bytes("xxENDyy"), newBytesAt: 4) == .success(.message(payload: 0..<2, consumed: 5)))
        let mixed = DelimiterDecoder(delimiters: [bytes("||"), bytes(";")])
        #expect(decodeStep(mixed, bytes("ab||"), newBytesAt: 3) == .success(.message(payload: 0..<2, consumed: 4)))
    }

    @Test func bytesBeforeTheNewOnesAreNotScannedAgain() {
        // The decoder trusts newBytesAt: old bytes were looked at by the call that asked for more. Shown a delimiter
        // it is told it saw already (a lie no loop tells), it does not look back for it.
        let lines = DelimiterDecoder.lines()
        #expect(decodeStep(lines, bytes("a\nbbbbbb"), newBytesAt: 8) == .success(.needMoreInput(atLeast: 9)))
        #expect(decodeStep(lines, bytes("a\nbbbbbb"), newBytesAt: 0) == .success(.message(payload: 0..<1, consumed: 2)))
    }

    @Test func growingPrefixesResumeWhereTheLastScanStopped() {
        let decoders: [DelimiterDecoder] = [
            .lines(maxLength: 400),
            .lines(maxLength: 400, stripsDelimiter: false),
            DelimiterDecoder(delimiters: [bytes("END"), bytes("\r\n")], maxLength: 400),
            DelimiterDecoder(delimiters: [bytes("<<>>"), bytes(";")], maxLength: 400),
        ]
        let long = (0..<300).map { UInt8(0x41 + $0 % 26) }
        let streams = [
            long + bytes("\r\n") + bytes("next\n"),
            long + bytes("\n"),
            long + bytes("END") + bytes("x"),
            long + bytes("<<>>"),
            long + bytes(";"),
            long + bytes("\r\r\n"),
        ]
        for decoder in decoders {
            for stream in streams {
                for stepSize in [1, 2, 3, 7, 64] {
                    var length = 0
                    var shown = 0
                    while length < stream.count {
                        length = min(stream.count, length + stepSize)
                        let prefix = Array(stream.prefix(length))
                        let resumed = decodeStep(decoder, prefix, newBytesAt: shown)
                        let full = decodeStep(decoder, prefix)
                        #expect(resumed == full, "\(decoder.delimiters) step \(stepSize) length \(length)")
                        guard case .success(.needMoreInput) = resumed else { break }
                        shown = length
                    }
                }
            }
        }
        // A delimiter split by the boundary: the first call sees "...\r", the next the "\n" too.
        let lines = DelimiterDecoder.lines(maxLength: 400)
        let line = long + bytes("\r")
        #expect(decodeStep(lines, line) == .success(.needMoreInput(atLeast: 302)))
        #expect(
            decodeStep(lines, line + bytes("\n"), newBytesAt: 301)
                == .success(.message(payload: 0..<300, consumed: 302)))
    }

    // MARK: Differential check against the reference model

    @Test func randomStreamsMatchTheReferenceModel() {
        var random = SeededGenerator(state: 0xDE11_0001)
        let alphabet: [UInt8] = [0x61, 0x62, 0x0D, 0x0A, 0x3B]  // a b \r \n ;
        var messagesSeen = 0
        var endsSeen: [String: Int] = [:]
        for index in 0..<2000 {
            var delimiters: [[UInt8]]
            if Int.random(in: 0..<4, using: &random) == 0 {
                delimiters = [[0x0A], [0x0D, 0x0A]]
            } else {
                delimiters = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                    (0..<Int.random(in: 1...3, using: &random)).map { _ in
                        alphabet[Int.random(in: 1..<alphabet.count, using: &random)]
                    }
                }
            }
            let model = ReferenceSplitter(
                delimiters: delimiters, stripsDelimiter: Bool.random(using: &random),
                maxLength: Int.random(in: 0...24, using: &random))
            // Mostly "a", some bytes delimiters are made of, and whole delimiters: records of every length.
            var stream: [UInt8] = []
            let length = Int.random(in: 0...80, using: &random)
            while stream.count < length {
                switch Int.random(in: 0..<8, using: &random) {
                case 0: stream += delimiters.randomElement(using: &random)!
                case 1, 2: stream.append(alphabet[Int.random(in: 1..<alphabet.count, using: &random)])
                default: stream.append(alphabet[0])
                }
            }
            let chunkSizes = (0..<stream.count).map { _ in
                Bool.random(using: &random) ? 1 : Int.random(in: 1...12, using: &random)
            }

            // The stream split as the model does, and one call on an arbitrary prefix, from scratch: the same
            // answer as the model.
            let prefix = Array(stream.prefix(Int.random(in: 0...stream.count, using: &random)))
            guard
                let actual = checkAgainstReferenceModel(
                    model, case: index, stream: stream, chunkSizes: chunkSizes, prefix: prefix)
            else { return }
            messagesSeen += actual.messages.count
            switch actual.end {
            case .clean: endsSeen["clean", default: 0] += 1
            case .pending: endsSeen["pending", default: 0] += 1
            case .failed(.lineTooLong): endsSeen["tooLong", default: 0] += 1
            case .failed: endsSeen["other", default: 0] += 1
            }
        }
        // The generator reached every outcome, with plenty of records.
        #expect(messagesSeen > 5000)
        #expect(Set(endsSeen.keys) == ["clean", "pending", "tooLong"])
        #expect(endsSeen.values.allSatisfy { $0 >= 100 }, "\(endsSeen)")
    }
}

// MARK: - Loopback

/// Answers each record with the record and a newline.
private struct LineEcho: MessageHandler {
    let log = MessageLog()

    func onMessage(_ message: RawSpan, state: inout Void, connection: inout ConnectionContext) {
        let line = message.withUnsafeBytes { Array($0) }
        log.messages.withLock { $0.append(line) }
        connection.write(message)
        connection.write("\n")
    }

    func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
        log.reasons.withLock { $0.append(reason) }
    }
}

/// Runs `body` with the log of a server whose handler is a ``LineEcho`` behind `decoder`, the server and a client
/// connected to it.
private func withLineEcho(
    _ decoder: DelimiterDecoder,
    _ body: (MessageLog, Server<Decoded<DelimiterDecoder, LineEcho>>, TestClient) throws -> Void
) throws {
    let echo = LineEcho()
    try withDecodingServer(decoder, echo) { server, client in try body(echo.log, server, client) }
}

/// True when nothing arrives on `client` (no byte, no FIN) for `milliseconds`.
private func staysQuiet(_ client: TestClient, milliseconds: Int32) -> Bool {
    var descriptor = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
    return poll(&descriptor, 1, milliseconds) == 0
}

extension LoopbackTests {
    @Suite struct DelimiterDecoderLoopback {
        @Test func eachLineIsAnswered() throws {
            try withLineEcho(.lines(maxLength: 100)) { log, server, client in
                try client.send(bytes("hello\nworld\r\n\n\r\na\rb\n"))
                let reply = bytes("hello\nworld\n\n\na\rb\n")
                #expect(try client.receive(exactly: reply.count) == reply)
                #expect(log.messages.withLock { $0 } == ["hello", "world", "", "", "a\rb"].map(bytes))
                #expect(server.statistics().framesIn == 5)
            }
        }

        @Test func delimiterArrivingAcrossReads() throws {
            try withLineEcho(.lines(maxLength: 100)) { log, _, client in
                try client.send(bytes("ab"))
                #expect(staysQuiet(client, milliseconds: 20))
                try client.send(bytes("c\r"))
                // Not a line yet: "\r" alone is no delimiter.
                #expect(staysQuiet(client, milliseconds: 20))
                try client.send(bytes("\n"))
                #expect(try client.receive(exactly: 4) == bytes("abc\n"))
                // A second line with its CRLF split the same way, and a third one in the same send as its "\n".
                try client.send(bytes("de\r"))
                #expect(staysQuiet(client, milliseconds: 20))
                try client.send(bytes("\nf\n"))
                #expect(try client.receive(exactly: 5) == bytes("de\nf\n"))
                #expect(log.messages.withLock { $0 } == ["abc", "de", "f"].map(bytes))
            }
        }

        @Test func lineSentOneBytePerWrite() throws {
            try withLineEcho(.lines(maxLength: 40)) { log, _, client in
                let line = bytes("the quick brown fox jumps over the dog")
                for byte in line + bytes("\r\n") {
                    try client.send([byte])
                    usleep(1000)
                }
                #expect(try client.receive(exactly: line.count + 1) == line + [0x0A])
                #expect(log.messages.withLock { $0 } == [line])
            }
        }

        @Test func manyPipelinedLinesInOneSend() throws {
            try withLineEcho(.lines(maxLength: 200)) { log, server, client in
                let lines: [[UInt8]] = (0..<2000).map { index in
                    pattern(index % 150, seed: index).map { $0 == 0x0A || $0 == 0x0D ? 0x2E : $0 }
                }
                let crlf: [UInt8] = [0x0D, 0x0A]
                let request = lines.enumerated().flatMap { index, line in line + (index % 3 == 0 ? crlf : [0x0A]) }
                let reply: [UInt8] = lines.flatMap { $0 + [0x0A] }
                try client.send(request)
                #expect(try client.receive(exactly: reply.count) == reply)
                #expect(log.messages.withLock { $0 } == lines)
                #expect(server.statistics().framesIn == lines.count)
            }
        }

        @Test func customDelimiterKeptInTheRecord() throws {
            let decoder = DelimiterDecoder(delimiters: [bytes("END"), [0]], stripsDelimiter: false, maxLength: 16)
            try withLineEcho(decoder) { log, _, client in
                try client.send(bytes("oneENDtwo") + [0] + bytes("EN"))
                #expect(try client.receive(exactly: 12) == bytes("oneEND\ntwo") + [0, 0x0A])
                try client.send(bytes("D"))
                #expect(try client.receive(exactly: 4) == bytes("END\n"))
                #expect(log.messages.withLock { $0 } == [bytes("oneEND"), bytes("two") + [0], bytes("END")])
            }
        }

        @Test func tooLongLineClosesAfterTheEarlierReplies() throws {
            try withLineEcho(.lines(maxLength: 8)) { log, server, client in
                // Exactly the limit (both delimiters), then one byte over it, then a line that is never read.
                try client.send(bytes("ok\n12345678\n12345678\r\n123456789\nlater\n"))
                let reply = bytes("ok\n12345678\n12345678\n")
                #expect(try client.receive(exactly: reply.count) == reply)
                #expect(client.isClosedByPeer(allowingReset: false), "a FIN after the replies")
                #expect(eventually { log.reasons.withLock { $0 } == [.decodingFailed(.lineTooLong(limit: 8))] })
                #expect(log.messages.withLock { $0 } == ["ok", "12345678", "12345678"].map(bytes))
                #expect(server.statistics().closed(.decodingFailed) == 1)
            }
        }

        @Test func tooLongLineWithoutADelimiterClosesWithoutWaitingForOne() throws {
            try withLineEcho(.lines(maxLength: 8)) { log, server, patient in
                // 8 + "\r" may still become a line: nothing happens until the "\n".
                try patient.send(bytes("12345678\r"))
                #expect(staysQuiet(patient, milliseconds: 50))
                try patient.send(bytes("\n"))
                #expect(try patient.receive(exactly: 9) == bytes("12345678\n"))
                // 10 bytes without a delimiter can never be a line of at most 8: closed at once.
                let client = try TestClient(port: try #require(server.localAddress).port, timeoutSeconds: 5)
                try client.send(bytes("good\n0123456789"))
                #expect(try client.receive(exactly: 5) == bytes("good\n"))
                #expect(client.isClosedByPeer(allowingReset: false))
                #expect(eventually { log.reasons.withLock { $0 } == [.decodingFailed(.lineTooLong(limit: 8))] })
                #expect(server.statistics().closed(.decodingFailed) == 1)
                // The other connection is unaffected.
                try patient.send(bytes("still\n"))
                #expect(try patient.receive(exactly: 6) == bytes("still\n"))
            }
        }
    }
}
