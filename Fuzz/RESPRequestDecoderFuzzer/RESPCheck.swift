import FuzzSupport
import ReactorRESP

#if canImport(Glibc)
    import Glibc
#endif

/// One fuzz input for ``RESPRequestDecoder``: random limits, then a stream (raw, or built by ``RESPStreamBuilder``)
/// fed to the decoder in random pieces the way ``RESPStreamHandler`` and the loop do it, every answer checked
/// against ``ReferenceRESP`` on the same bytes.
///
/// The loop: the stream arrives in random pieces (1 byte up to 2^n, sometimes all at once; never less than a
/// sixteenth of the bytes held, and once ``doublingFrom`` bytes are held never less than what is held). The decoder
/// scans a line without its end again on every call, so a line of n bytes costs about 3n scanned bytes in all
/// rather than 17n (most of this target's time went there; a line can be 64 KiB). The decoder is not
/// called until as many unconsumed bytes are there as its last `needMoreInput(atLeast:)` asked for, then again and
/// again on the rest while it finds requests or skips, each consumed from the front, until it needs more input or
/// throws. The unconsumed bytes are an exactly sized heap copy each time a piece arrives, and the calls after that
/// see the rest of it, so AddressSanitizer catches a read past the input; one ``RESPArguments`` is reused for the
/// whole run, as a loop reuses its own, and one ``RESPRequestDecoder/Progress``, as ``RESPStreamHandler`` keeps one
/// per connection (a multibulk request arriving in pieces is resumed after its last checked argument). Checked at
/// every call:
///
/// - a request or skip consumes 1 ... input-count bytes; a request's `argumentCount` is the arguments' count, its
///   arguments are byte for byte the reference's (compared where they lie, with `memcmp`: nothing is copied out),
///   and a multibulk request's lie in place within the consumed bytes (an inline one's too, or outside the input:
///   the unescaped scratch bytes);
/// - an error is the reference's error for the same bytes (so it comes at the same point of the stream);
/// - `needMoreInput(atLeast:)` asks for more bytes than the input has and at most the reference's `need` (the
///   exact smallest length at which the answer can change), so never past the end of the request in progress; and
///   when the rest of the stream is shorter than it asks for, the reference finds nothing in the rest either (else
///   the connection would wait for bytes that never come);
/// - the progress is zero after any answer but `needMoreInput(atLeast:)`, and within the bytes shown after that;
/// - sometimes, the decoder on a shorter prefix than it asked for, without progress (it is a pure function of the
///   bytes: it must also need more there, and agree with the reference), and the same input again with a fresh
///   ``RESPArguments`` of capacity 1 and no progress (the same answer and the same argument bytes: resuming changes
///   nothing but the cost, and no state is carried in the arguments).
///
/// A failed check's message (where in the stream, the limits, both answers) is built only when the check fails.
///
/// Input layout (missing bytes read as zero):
///
/// - byte 0: bits 0–1 the range of `maxInlineLength`: 1–16, 1–256, 1–65,536, or redis's 65,536; bits 2–3 of
///   `maxBulkLength`: 0–16, 0–1,024, redis's 512 MiB, or one of ``largeBulkLimits``; bits 4–5 of `maxArguments`:
///   1–4, 1–64, redis's `INT_MAX`, or one of ``largeArgumentLimits``; bit 6 builds the stream with
///   ``RESPStreamBuilder`` from the rest (otherwise the rest is the stream);
/// - bytes 1–2: `maxInlineLength` within its range; bytes 3–4: `maxBulkLength`; byte 5: `maxArguments`;
/// - byte 6: the largest piece, 2^(n % 13) bytes;
/// - bytes 7–14: the seed of the piece sizes;
/// - the rest: the stream, or the program that builds it.
struct RESPCheck {
    /// Bulk limits up to `Int.max` (no limit): a length there must not overflow the decoder's arithmetic.
    static let largeBulkLimits = [Int.max, Int.max - 1, Int.max - 64, Int.max / 2, 1 << 62, Int(Int32.max), 1 << 32]
    /// Argument limits around `INT_MAX` (the count's own bound) and around the decoder's 1,024 preallocated slots.
    static let largeArgumentLimits = [Int.max, Int(Int32.max) + 1, Int(Int32.max) - 1, 1023, 1024, 1025]

    /// Held bytes from which every piece at least doubles them (see the type's documentation).
    static let doublingFrom = 1024

    let reference: ReferenceRESP
    let largestPiece: Int
    var random: SplitMix64
    let stream: [UInt8]
    let built: Bool

    init(input: inout FuzzInput) {
        let mode = Int(input.byte())
        let inlineRaw = Int(input.uint16())
        let bulkRaw = Int(input.uint16())
        let argumentsRaw = Int(input.byte())
        let maxInlineLength: Int
        switch mode & 3 {
        case 0: maxInlineLength = 1 + inlineRaw % 16
        case 1: maxInlineLength = 1 + inlineRaw % 256
        case 2: maxInlineLength = 1 + inlineRaw
        default: maxInlineLength = 64 << 10
        }
        var maxBulkLength: Int
        switch (mode >> 2) & 3 {
        case 0: maxBulkLength = bulkRaw % 17
        case 1: maxBulkLength = bulkRaw % 1025
        case 2: maxBulkLength = 512 << 20
        default: maxBulkLength = Self.largeBulkLimits[bulkRaw % Self.largeBulkLimits.count]
        }
        if knownBugs.contains("bulk-length-overflow") { maxBulkLength = min(maxBulkLength, 1 << 62) }
        let maxArguments: Int
        switch (mode >> 4) & 3 {
        case 0: maxArguments = 1 + argumentsRaw % 4
        case 1: maxArguments = 1 + argumentsRaw % 64
        case 2: maxArguments = Int(Int32.max)
        default: maxArguments = Self.largeArgumentLimits[argumentsRaw % Self.largeArgumentLimits.count]
        }
        reference = ReferenceRESP(
            maxBulkLength: maxBulkLength, maxArguments: maxArguments, maxInlineLength: maxInlineLength,
            nulAfterQuoteIsError: knownBugs.contains("nul-after-quote"))
        largestPiece = 1 << (Int(input.byte()) % 13)
        random = SplitMix64(seed: input.uint64())
        built = mode & 0x40 != 0
        let rest = input.rest()
        if built {
            var builder = RESPStreamBuilder(
                program: rest, maxBulkLength: maxBulkLength, maxArguments: maxArguments,
                maxInlineLength: maxInlineLength)
            stream = builder.build()
        } else {
            stream = Array(rest)
        }
    }

    /// Decoder calls, requests, skips in the last run, and its error.
    private(set) var calls = 0
    private(set) var requests = 0
    private(set) var skips = 0
    private(set) var error: RESPProtocolError?

    /// What one decode call answered. A request's arguments stay in the ``RESPArguments`` it filled (valid until
    /// the next call on it) and are compared there, not copied out.
    enum Answer: Equatable {
        case step(RESPRequestDecoder.Step)
        case error(RESPProtocolError)
    }

    mutating func run(arguments: RESPArguments) {
        let reference = reference
        let decoder = RESPRequestDecoder(
            maxBulkLength: reference.maxBulkLength, maxArguments: reference.maxArguments,
            maxInlineLength: reference.maxInlineLength)
        if verbose {
            print("stream: \(ReferenceRESP.show(Array(stream.prefix(200))))\(stream.count > 200 ? "…" : "")")
            fflush(nil)  // before a failed check ends the process
        }
        var arrived = 0  // stream bytes that reached the connection
        var start = 0  // stream offset of the first unconsumed byte
        var waitingFor = 0  // the decoder's last needMoreInput(atLeast:)
        var progress = RESPRequestDecoder.Progress()  // kept across calls, as RESPStreamHandler keeps it per connection
        feeding: while arrived < stream.count {
            let remaining = stream.count - arrived
            let held = arrived - start
            let piece =
                random.chance(1, in: 16)
                ? remaining : max(1 + random.below(largestPiece), held >= Self.doublingFrom ? held : held / 16)
            arrived += min(remaining, piece)
            if arrived - start < waitingFor { continue }  // the loop keeps the bytes and does not call the handler
            // The unconsumed bytes, exactly sized: a read past them is a heap overflow. Requests are consumed from
            // its front; each call sees the rest of it.
            let unconsumed = copy(start..<arrived)
            defer { unconsumed.deallocate() }
            let heldStart = start
            while true {
                let count = arrived - start
                let input = UnsafeRawBufferPointer(rebasing: unconsumed[(start - heldStart)...])
                let answer = decode(decoder, input, into: arguments, progress: &progress)
                let expected = reference.outcome(stream, start: start, count: count)
                calls += 1
                switch answer {
                case .step(.request(_, let consumed)), .step(.skip(let consumed)):
                    expect(
                        consumed > 0 && consumed <= count,
                        "consumed \(consumed) of \(count) bytes \(Self.context(start, count, reference))")
                    expect(
                        Self.agrees(answer, arguments, expected),
                        "decoded \(Self.show(answer, arguments)), expected \(expected) "
                            + Self.context(start, count, reference))
                    if case .step(.request) = answer { requests += 1 } else { skips += 1 }
                    start += consumed
                    waitingFor = 0
                    if start == arrived { continue feeding }
                case .error(let thrown):
                    expect(
                        Self.agrees(answer, arguments, expected),
                        "threw \(thrown), expected \(expected) \(Self.context(start, count, reference))")
                    error = thrown
                    break feeding
                case .step(.needMoreInput(let atLeast)):
                    guard case .incomplete(let need) = expected else {
                        fatalError(
                            "check failed: needMoreInput(atLeast: \(atLeast)), expected \(expected) "
                                + Self.context(start, count, reference))
                    }
                    expect(
                        atLeast > count,
                        "needMoreInput(atLeast: \(atLeast)) \(Self.context(start, count, reference))")
                    expect(
                        atLeast <= need,
                        "needMoreInput(atLeast: \(atLeast)), the reference needs \(need) "
                            + Self.context(start, count, reference))
                    let rest = stream.count - start
                    if atLeast > rest {
                        // The stream ends before the bytes asked for: there must be nothing to find in it.
                        let whole = reference.outcome(stream, start: start, count: rest)
                        expect(
                            whole.need != nil,
                            "needMoreInput(atLeast: \(atLeast)) but the \(rest) bytes left hold \(whole) "
                                + Self.context(start, count, reference))
                    }
                    if random.chance(1, in: 4) {
                        probe(decoder, start: start, below: min(atLeast, rest + 1), after: count)
                    }
                    waitingFor = atLeast
                    continue feeding
                }
            }
        }
        trace(
            "\(reference): \(built ? "built" : "raw") stream of \(stream.count) bytes, \(requests) requests and "
                + "\(skips) skips in \(calls) calls, \(error.map { "\($0)" } ?? "no error")")
    }

    /// Where in the stream a check failed, for its message (built only then).
    private static func context(_ start: Int, _ count: Int, _ reference: ReferenceRESP) -> String {
        "at \(start) with \(count) bytes (\(reference))"
    }

    /// The decoder on a prefix of `count` < `limit` bytes, `count` > `after` (a shorter input than it last asked
    /// for): like the reference, it must need more input there.
    private mutating func probe(_ decoder: RESPRequestDecoder, start: Int, below limit: Int, after: Int) {
        guard limit - after > 1 else { return }
        let count = after + 1 + random.below(limit - after - 1)
        let input = copy(start..<(start + count))
        defer { input.deallocate() }
        let fresh = RESPArguments(initialCapacity: 1)
        var none = RESPRequestDecoder.Progress()
        let answer = decode(decoder, UnsafeRawBufferPointer(input), into: fresh, progress: &none)
        let expected = reference.outcome(stream, start: start, count: count)
        guard case .step(.needMoreInput(let atLeast)) = answer, case .incomplete(let need) = expected else {
            fatalError(
                "check failed: decoded \(Self.show(answer, fresh)), expected \(expected) "
                    + "\(Self.context(start, count, reference)), below the needMoreInput(atLeast: \(limit))")
        }
        expect(
            atLeast > count && atLeast <= need,
            "needMoreInput(atLeast: \(atLeast)), need \(need) \(Self.context(start, count, reference)), below the "
                + "needMoreInput(atLeast: \(limit))")
    }

    /// `range` of the stream in an exactly sized heap allocation (malloc(0) for none).
    private func copy(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: range.count, alignment: 1)
        if !range.isEmpty { stream[range].withUnsafeBytes { copy.copyMemory(from: $0) } }
        return copy
    }

    /// One decode call resuming at `progress`; sometimes repeated with a fresh ``RESPArguments`` and no progress
    /// (the same answer, the same argument bytes).
    private mutating func decode(
        _ decoder: RESPRequestDecoder, _ input: UnsafeRawBufferPointer, into arguments: RESPArguments,
        progress: inout RESPRequestDecoder.Progress
    ) -> Answer {
        let resumedAt = progress
        let answer = Self.call(decoder, input, arguments, &progress)
        if case .step(.needMoreInput) = answer {
            expect(
                progress.checkedBytes <= input.count && progress.checkedArguments <= max(progress.checkedBytes, 0),
                "progress \(progress) past the \(input.count) bytes shown")
        } else {
            expect(progress == RESPRequestDecoder.Progress(), "progress \(progress) left after \(answer)")
        }
        if random.chance(1, in: 4) {
            let fresh = RESPArguments(initialCapacity: 1)
            var none = RESPRequestDecoder.Progress()
            let again = Self.call(decoder, input, fresh, &none)
            expect(
                again == answer && Self.sameArguments(answer, arguments, fresh),
                "with fresh arguments and no progress: \(Self.show(again, fresh)), with reused ones resumed at "
                    + "\(resumedAt): \(Self.show(answer, arguments))")
        }
        return answer
    }

    /// One decode call; a request's arguments are checked to lie in place (or, inline, in the scratch bytes).
    private static func call(
        _ decoder: RESPRequestDecoder, _ input: UnsafeRawBufferPointer, _ arguments: RESPArguments,
        _ progress: inout RESPRequestDecoder.Progress
    ) -> Answer {
        let step: RESPRequestDecoder.Step
        do throws(RESPProtocolError) {
            step = try decoder.decode(input, into: arguments, progress: &progress)
        } catch {
            return .error(error)
        }
        if case .request(let argumentCount, let consumed) = step {
            expect(argumentCount == arguments.count, "argumentCount \(argumentCount), \(arguments.count) arguments")
            let multibulk = input.first == UInt8(ascii: "*")
            for index in 0..<arguments.count {
                let argument = arguments[index]
                guard let base = input.baseAddress, let address = argument.baseAddress, argument.count > 0 else {
                    continue
                }
                let inPlace = address >= base && address + argument.count <= base + min(consumed, input.count)
                let outside = address + argument.count <= base || address >= base + input.count
                expect(
                    inPlace || (!multibulk && outside),
                    "argument \(index) (\(argument.count) bytes) at offset \(address - base) of \(consumed) consumed")
            }
        }
        return .step(step)
    }

    /// Whether the decoder's `answer` (a request's arguments in `arguments`) is the reference's `expected`, the
    /// arguments compared byte for byte (`memcmp`).
    static func agrees(_ answer: Answer, _ arguments: RESPArguments, _ expected: ReferenceRESP.Outcome) -> Bool {
        switch (answer, expected) {
        case (.step(.request(let count, let consumed)), .request(let expectedArguments, let expectedConsumed)):
            guard consumed == expectedConsumed && count == expectedArguments.count else { return false }
            return expectedArguments.indices.allSatisfy { index in
                expectedArguments[index].withUnsafeBytes { sameBytes(arguments[index], $0) }
            }
        case (.step(.skip(let consumed)), .skip(let expectedConsumed)): return consumed == expectedConsumed
        case (.step(.needMoreInput(let atLeast)), .incomplete(let need)): return atLeast == need
        case (.error(let error), .error(let expectedError)): return error == expectedError
        default: return false
        }
    }

    /// Whether two equal answers' requests have the same argument bytes.
    static func sameArguments(_ answer: Answer, _ first: RESPArguments, _ second: RESPArguments) -> Bool {
        guard case .step(.request(let count, _)) = answer else { return true }
        return (0..<count).allSatisfy { sameBytes(first[$0], second[$0]) }
    }

    /// `answer` as the reference describes its outcomes (a request's arguments read from `arguments`).
    static func show(_ answer: Answer, _ arguments: RESPArguments) -> String {
        switch answer {
        case .step(.request(let count, let consumed)):
            let shown = (0..<min(count, arguments.count)).map { ReferenceRESP.show(Array(arguments[$0])) }
            return "request [\(shown.joined(separator: ", "))] (\(consumed) bytes)"
        case .step(.skip(let consumed)): return "skip \(consumed) bytes"
        case .step(.needMoreInput(let atLeast)): return "needMoreInput(atLeast: \(atLeast))"
        case .error(let error): return "error \(error)"
        }
    }
}

extension ReferenceRESP.Outcome {
    /// What an incomplete outcome needs.
    var need: Int? {
        if case .incomplete(let need) = self { return need }
        return nil
    }
}
