import FuzzSupport
import ReactorRESP

#if canImport(Glibc)
    import Glibc
#endif

/// One fuzz input for ``RESPRequestDecoder``: random limits, then a stream (raw, or built by ``RESPStreamBuilder``)
/// fed to the decoder in random pieces the way ``RESPStreamHandler`` and the loop do it, every answer checked
/// against ``ReferenceRESP`` on the same bytes.
///
/// The loop: the stream arrives in random pieces (1 byte up to 2^n, sometimes all at once, and never less than a
/// sixteenth of the bytes held, so a long line costs a bounded number of rescans); the decoder is not called until
/// as many unconsumed bytes are there as its last `needMoreInput(atLeast:)` asked for, then again and again on the
/// rest while it finds requests or skips, each consumed from the front, until it needs more input or throws. The
/// unconsumed bytes are an exactly sized heap copy each time a piece arrives, and the calls after that see the rest
/// of it, so AddressSanitizer catches a read past the input; one ``RESPArguments`` is reused for the whole run, as a
/// loop reuses its own. Checked at every call:
///
/// - a request or skip consumes 1 ... input-count bytes; a request's `argumentCount` is the arguments' count, its
///   arguments are byte for byte the reference's, and a multibulk request's lie in place within the consumed bytes
///   (an inline one's too, or outside the input: the unescaped scratch bytes);
/// - an error is the reference's error for the same bytes (so it comes at the same point of the stream);
/// - `needMoreInput(atLeast:)` asks for more bytes than the input has and at most the reference's `need` (the
///   exact smallest length at which the answer can change), so never past the end of the request in progress; and
///   when the rest of the stream is shorter than it asks for, the reference finds nothing in the rest either (else
///   the connection would wait for bytes that never come);
/// - sometimes, the decoder on a shorter prefix than it asked for (it is a pure function: it must also need more
///   there, and agree with the reference), and the same input again with a fresh ``RESPArguments`` of capacity 1
///   (the same answer: no state carried between calls).
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
        feeding: while arrived < stream.count {
            let remaining = stream.count - arrived
            let piece =
                random.chance(1, in: 16) ? remaining : max(1 + random.below(largestPiece), (arrived - start) / 16)
            arrived += min(remaining, piece)
            if arrived - start < waitingFor { continue }  // the loop keeps the bytes and does not call the handler
            // The unconsumed bytes, exactly sized: a read past them is a heap overflow. Requests are consumed from
            // its front; each call sees the rest of it.
            let held = copy(start..<arrived)
            defer { held.deallocate() }
            let heldStart = start
            while true {
                let count = arrived - start
                let input = UnsafeRawBufferPointer(rebasing: held[(start - heldStart)...])
                let answer = decode(decoder, input, into: arguments)
                let expected = reference.outcome(stream, start: start, count: count)
                calls += 1
                let context = "at \(start) with \(count) bytes (\(reference))"
                switch answer {
                case .request(_, let consumed), .skip(let consumed):
                    expect(consumed > 0 && consumed <= count, "consumed \(consumed) of \(count) bytes \(context)")
                    expect(answer == expected, "decoded \(answer), expected \(expected) \(context)")
                    if case .request = answer { requests += 1 } else { skips += 1 }
                    start += consumed
                    waitingFor = 0
                    if start == arrived { continue feeding }
                case .error(let thrown):
                    expect(answer == expected, "threw \(thrown), expected \(expected) \(context)")
                    error = thrown
                    break feeding
                case .incomplete(let atLeast):
                    guard case .incomplete(let need) = expected else {
                        fatalError("check failed: needMoreInput(atLeast: \(atLeast)), expected \(expected) \(context)")
                    }
                    expect(atLeast > count, "needMoreInput(atLeast: \(atLeast)) \(context)")
                    expect(
                        atLeast <= need, "needMoreInput(atLeast: \(atLeast)), the reference needs \(need) \(context)")
                    let rest = stream.count - start
                    if atLeast > rest {
                        // The stream ends before the bytes asked for: there must be nothing to find in it.
                        let whole = reference.outcome(stream, start: start, count: rest)
                        expect(
                            whole.need != nil,
                            "needMoreInput(atLeast: \(atLeast)) but the \(rest) bytes left hold \(whole) \(context)")
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

    /// The decoder on a prefix of `count` < `limit` bytes, `count` > `after` (a shorter input than it last asked
    /// for): like the reference, it must need more input there.
    private mutating func probe(_ decoder: RESPRequestDecoder, start: Int, below limit: Int, after: Int) {
        guard limit - after > 1 else { return }
        let count = after + 1 + random.below(limit - after - 1)
        let input = copy(start..<(start + count))
        defer { input.deallocate() }
        let answer = decode(decoder, UnsafeRawBufferPointer(input), into: RESPArguments(initialCapacity: 1))
        let expected = reference.outcome(stream, start: start, count: count)
        let context = "at \(start) with \(count) bytes (\(reference)), below the needMoreInput(atLeast: \(limit))"
        guard case .incomplete(let atLeast) = answer, case .incomplete(let need) = expected else {
            fatalError("check failed: decoded \(answer), expected \(expected) \(context)")
        }
        expect(atLeast > count && atLeast <= need, "needMoreInput(atLeast: \(atLeast)), need \(need) \(context)")
    }

    /// `range` of the stream in an exactly sized heap allocation (malloc(0) for none).
    private func copy(_ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: range.count, alignment: 1)
        if !range.isEmpty { stream[range].withUnsafeBytes { copy.copyMemory(from: $0) } }
        return copy
    }

    /// One decode call, as an outcome with the arguments copied out; sometimes repeated with a fresh
    /// ``RESPArguments`` (the same answer).
    private mutating func decode(
        _ decoder: RESPRequestDecoder, _ input: UnsafeRawBufferPointer, into arguments: RESPArguments
    ) -> ReferenceRESP.Outcome {
        let answer = Self.call(decoder, input, arguments)
        if random.chance(1, in: 4) {
            let again = Self.call(decoder, input, RESPArguments(initialCapacity: 1))
            expect(again == answer, "with fresh arguments: \(again), with reused ones: \(answer)")
        }
        return answer
    }

    private static func call(
        _ decoder: RESPRequestDecoder, _ input: UnsafeRawBufferPointer, _ arguments: RESPArguments
    ) -> ReferenceRESP.Outcome {
        let step: RESPRequestDecoder.Step
        do throws(RESPProtocolError) {
            step = try decoder.decode(input, into: arguments)
        } catch {
            return .error(error)
        }
        switch step {
        case .skip(let consumed):
            return .skip(consumed: consumed)
        case .needMoreInput(let atLeast):
            return .incomplete(need: atLeast)
        case .request(let argumentCount, let consumed):
            expect(argumentCount == arguments.count, "argumentCount \(argumentCount), \(arguments.count) arguments")
            let multibulk = input.first == UInt8(ascii: "*")
            var copied: [[UInt8]] = []
            for index in 0..<arguments.count {
                let argument = arguments[index]
                copied.append(Array(argument))
                guard let base = input.baseAddress, let address = argument.baseAddress, argument.count > 0 else {
                    continue
                }
                let inPlace = address >= base && address + argument.count <= base + min(consumed, input.count)
                let outside = address + argument.count <= base || address >= base + input.count
                expect(
                    inPlace || (!multibulk && outside),
                    "argument \(index) (\(argument.count) bytes) at offset \(address - base) of \(consumed) consumed")
            }
            return .request(arguments: copied, consumed: consumed)
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
