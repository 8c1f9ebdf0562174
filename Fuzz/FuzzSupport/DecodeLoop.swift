import ReactorCore

/// What a reference model says a stream decodes to: its messages from the start, then the error that ends it, if
/// any (otherwise the bytes after the last message are an unconsumed tail).
public struct ExpectedDecoding {
    /// One complete message.
    public struct Message: Equatable {
        /// Where its payload lies in the stream.
        public var payload: Range<Int>
        /// One past its last byte (headers and delimiters included): where the next message starts.
        public var end: Int

        public init(payload: Range<Int>, end: Int) {
            self.payload = payload
            self.end = end
        }
    }

    /// Every complete message before the end of the stream or the error.
    public var messages: [Message] = []
    /// The error the stream ends with (after every message), or nil.
    public var error: MessageDecodingError?
    /// The stream offset the decoder's input must reach before it can tell the error: it must throw in the first
    /// call whose input ends at or past it, and not before.
    public var errorAt = 0

    public init() {}

    /// Empties the model, keeping capacity.
    public mutating func reset() {
        messages.removeAll(keepingCapacity: true)
        error = nil
        errorAt = 0
    }

    /// Where the bytes after the last message start.
    public var tailStart: Int { messages.last?.end ?? 0 }
}

/// Feeds a stream to a ``MessageDecoder`` the way the loop's decode loop (`decodeMessages` under a
/// ``StreamHandler``) does, and checks every step against an ``ExpectedDecoding``.
///
/// The stream arrives in random pieces. The unconsumed bytes grow with each piece; the decoder is called only once
/// at least as many bytes are there as its last `needMoreInput(atLeast:)` asked for, then again and again while it
/// returns messages (each consumed from the front, the next call getting `newBytesAt: 0`, as `decodeMessages` does),
/// until it needs more input or throws. `newBytesAt` is what the contract says: the bytes of the input the decoder
/// was shown before. Each call sees an exactly sized copy of the unconsumed bytes, so AddressSanitizer catches a
/// read past them.
///
/// Checked at every call: a message's `consumed` is 1 ... the input's count and its payload lies within it; it is
/// the reference's next message (same payload and end); `needMoreInput(atLeast:)` asks for more than the input has,
/// and no more than the input at which the reference's next message or error becomes visible (or exactly
/// `exactNeed`, when given); an error is the reference's error, thrown by the first call whose input reaches
/// `errorAt`, after every message; and the decoder gives the same answer for a smaller `newBytesAt` (0, a full
/// rescan, and a random value in between): skipping bytes it already looked at must never change a result. At the
/// end of the stream: every message delivered, and no error unless the reference has one.
public struct DecodeLoop {
    /// Decode calls in the last run.
    public private(set) var calls = 0
    /// Messages delivered in the last run.
    public private(set) var delivered = 0
    /// Whether the last run ended with an error.
    public private(set) var failed = false

    public init() {}

    /// Runs `stream` through `decoder`; `exactNeed(start, count)` may return the exact `atLeast` expected when the
    /// unconsumed input starts at stream offset `start` and has `count` bytes.
    public mutating func run<Decoder: MessageDecoder>(
        _ decoder: Decoder, stream: UnsafeRawBufferPointer, expected: ExpectedDecoding, random: inout SplitMix64,
        largestPiece: Int, exactNeed: (_ start: Int, _ count: Int) -> Int? = { _, _ in nil }
    ) {
        calls = 0
        delivered = 0
        failed = false
        let messages = expected.messages
        var arrived = 0  // stream bytes that reached the connection
        var start = 0  // stream offset of the first unconsumed byte
        var shown = 0  // unconsumed bytes the decoder was shown by its last call
        var waitingFor = 0  // its last needMoreInput(atLeast:)

        feeding: while arrived < stream.count {
            let remaining = stream.count - arrived
            arrived += random.chance(1, in: 16) ? remaining : min(remaining, 1 + random.below(largestPiece))
            if arrived - start < waitingFor { continue }  // the loop keeps the bytes and does not call the handler
            var newBytesAt = shown
            while true {
                let count = arrived - start
                let input = UnsafeRawBufferPointer(rebasing: stream[start..<arrived])
                let result = Self.decode(decoder, input, newBytesAt: newBytesAt, random: &random)
                calls += 1
                switch result {
                case .failure(let error):
                    expect(
                        expected.error == error,
                        "threw \(error) at \(start)..<\(arrived), expected \(describe(expected))")
                    expect(
                        delivered == messages.count, "threw \(error) after \(delivered) of \(messages.count) messages")
                    expect(
                        expected.errorAt <= arrived,
                        "threw \(error) with input to \(arrived), before \(expected.errorAt)")
                    failed = true
                    break feeding
                case .success(.message(let payload, let consumed)):
                    expect(consumed > 0 && consumed <= count, "message consumed \(consumed) of \(count) bytes")
                    expect(
                        payload.lowerBound >= 0 && payload.upperBound <= consumed,
                        "payload \(payload) outside the \(consumed) consumed bytes")
                    expect(
                        delivered < messages.count, "message \(delivered) at \(start), the stream has \(messages.count)"
                    )
                    let next = messages[delivered]
                    let absolute = (start + payload.lowerBound)..<(start + payload.upperBound)
                    expect(
                        absolute == next.payload && start + consumed == next.end,
                        "message \(delivered): payload \(absolute) ending at \(start + consumed), expected \(next)")
                    delivered += 1
                    start += consumed
                    newBytesAt = 0
                case .success(.needMoreInput(let atLeast)):
                    expect(atLeast > count, "needMoreInput(atLeast: \(atLeast)) with \(count) bytes there")
                    // The next thing the reference sees must lie past the bytes asked for, else the loop would wait
                    // for bytes that may never come.
                    let visibleAt =
                        delivered < messages.count
                        ? messages[delivered].end : expected.error != nil ? expected.errorAt : nil
                    if let visibleAt {
                        expect(
                            start + atLeast <= visibleAt,
                            "needMoreInput(atLeast: \(atLeast)) at \(start), but the reference's next event is at \(visibleAt)"
                        )
                    }
                    if let exact = exactNeed(start, count) {
                        expect(atLeast == exact, "needMoreInput(atLeast: \(atLeast)) at \(start), expected \(exact)")
                    }
                    waitingFor = atLeast
                    shown = count
                    continue feeding
                }
            }
        }
        if !failed {
            expect(expected.error == nil, "no error by the end of the stream, expected \(describe(expected))")
            expect(delivered == messages.count, "\(delivered) of \(messages.count) messages delivered")
        }
    }

    private func describe(_ expected: ExpectedDecoding) -> String {
        expected.error.map { "\($0) at \(expected.errorAt)" } ?? "no error"
    }

    /// One decode call on an exact copy of `input`, repeated with smaller `newBytesAt`s (which must not change the
    /// answer).
    private static func decode<Decoder: MessageDecoder>(
        _ decoder: Decoder, _ input: UnsafeRawBufferPointer, newBytesAt: Int, random: inout SplitMix64
    ) -> Result<DecodeStep, MessageDecodingError> {
        // Exactly `input.count` bytes (malloc(0) for none), so any read past the input is a heap overflow.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count, alignment: 1)
        defer { copy.deallocate() }
        if input.count > 0 { copy.copyMemory(from: input) }
        let bytes = UnsafeRawBufferPointer(copy)
        let result = call(decoder, bytes, newBytesAt)
        if newBytesAt > 0 {
            let rescan = call(decoder, bytes, 0)
            expect(rescan == result, "newBytesAt \(newBytesAt): \(result), a full rescan: \(rescan)")
            if newBytesAt > 1 {
                let partial = random.below(newBytesAt)
                let other = call(decoder, bytes, partial)
                expect(other == result, "newBytesAt \(newBytesAt): \(result), newBytesAt \(partial): \(other)")
            }
        }
        return result
    }

    private static func call<Decoder: MessageDecoder>(
        _ decoder: Decoder, _ bytes: UnsafeRawBufferPointer, _ newBytesAt: Int
    ) -> Result<DecodeStep, MessageDecodingError> {
        do {
            return .success(try decoder.decode(RawSpan(_unsafeBytes: bytes), newBytesAt: newBytesAt))
        } catch {
            return .failure(error)
        }
    }
}
