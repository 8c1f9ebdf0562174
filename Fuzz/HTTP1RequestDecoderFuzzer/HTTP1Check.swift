import FuzzSupport
import ReactorHTTP1

/// One fuzz input for `HTTP1RequestDecoder`: the stream is decoded twice, as a connection sees it, and both runs
/// must find the same requests (method, target, version, fields, trailers, body, keep-alive, message boundaries) and
/// end the same way (the same refusal, or waiting for more):
///
/// 1. whole: all the bytes at once, a fresh progress for each request;
/// 2. in pieces: the bytes arrive in random pieces (sizes from the seed), each call sees the unconsumed bytes so far
///    (each time in a new exact-size buffer, so ASan catches a read past them) and keeps the progress between
///    calls, as `HTTP1StreamHandler` does.
///
/// Every step's own invariants are checked too: `consumed` within the input, `needMoreInput(atLeast:)` beyond it.
///
/// Layout: mode (bit 0: small limits: request line 32, header section 128, 4 fields, body 64, chunk line 8;
/// bits 1-2: piece size range 1 / 1-4 / 1-64 / 1-1024), seed (8 bytes), stream.
struct HTTP1Check {
    let decoder: HTTP1RequestDecoder
    let maxPiece: Int
    var random: SplitMix64
    let stream: [UInt8]

    init(input: inout FuzzInput) {
        let mode = input.byte()
        decoder =
            mode & 1 == 0
            ? HTTP1RequestDecoder()
            : HTTP1RequestDecoder(
                maxRequestLineLength: 32, maxHeaderSectionLength: 128, maxFieldCount: 4, maxBodyLength: 64,
                maxChunkLineLength: 8)
        maxPiece = [1, 4, 64, 1024][Int(mode >> 1 & 3)]
        random = SplitMix64(seed: input.uint64())
        stream = Array(input.rest())
    }

    /// What decoding found: the requests, then how it ended.
    struct Outcome: Equatable {
        var requests: [[UInt8]] = []
        var refusal: HTTP1RequestError?
    }

    mutating func run(request: HTTP1DecodedRequest) {
        let whole = decodeWhole(request)
        let pieces = decodeInPieces(request)
        expect(whole == pieces, "whole \(whole) != in pieces \(pieces) for \(stream.count) bytes")
    }

    private func decodeWhole(_ request: HTTP1DecodedRequest) -> Outcome {
        var outcome = Outcome()
        var offset = 0
        while offset < stream.count {
            var progress = HTTP1RequestDecoder.Progress()
            let rest = Array(stream[offset...])
            guard let consumed = step(rest, request, &progress, &outcome) else { return outcome }
            offset += consumed
        }
        return outcome
    }

    private mutating func decodeInPieces(_ request: HTTP1DecodedRequest) -> Outcome {
        var outcome = Outcome()
        var progress = HTTP1RequestDecoder.Progress()
        var buffered: [UInt8] = []
        var arrived = 0
        while arrived < stream.count {
            let piece = 1 + random.below(maxPiece)
            buffered += stream[arrived..<min(stream.count, arrived + piece)]
            arrived = min(stream.count, arrived + piece)
            while !buffered.isEmpty {
                guard let consumed = step(buffered, request, &progress, &outcome) else {
                    if outcome.refusal != nil { return outcome }
                    break  // more input needed
                }
                buffered.removeFirst(consumed)
            }
        }
        return outcome
    }

    /// One decode call on a new exact-size copy of `bytes`: the bytes consumed, or nil when the decoder refused
    /// (recorded in `outcome`) or needs more.
    private func step(
        _ bytes: [UInt8], _ request: HTTP1DecodedRequest, _ progress: inout HTTP1RequestDecoder.Progress,
        _ outcome: inout Outcome
    ) -> Int? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        let result = Result { () throws(HTTP1RequestError) in
            try decoder.decode(UnsafeRawBufferPointer(buffer), into: request, progress: &progress)
        }
        switch result {
        case .failure(let error):
            expect(progress == HTTP1RequestDecoder.Progress(), "progress kept after a refusal")
            expect(error.status.code >= 400, "refusal status \(error.status.code)")
            outcome.refusal = error
            return nil
        case .success(.needMoreInput(let atLeast)):
            expect(atLeast > bytes.count, "asks for \(atLeast) with \(bytes.count) there")
            return nil
        case .success(.skip(let consumed)):
            expect(consumed > 0 && consumed <= bytes.count, "skip \(consumed) of \(bytes.count)")
            outcome.requests.append([0xFF, UInt8(truncatingIfNeeded: consumed)])
            return consumed
        case .success(.request(let consumed)):
            expect(consumed > 0 && consumed <= bytes.count, "consumed \(consumed) of \(bytes.count)")
            expect(progress == HTTP1RequestDecoder.Progress(), "progress kept after a request")
            outcome.requests.append(Self.summary(request, consumed: consumed))
            return consumed
        }
    }

    /// Every observable part of a decoded request, serialised.
    static func summary(_ request: HTTP1DecodedRequest, consumed: Int) -> [UInt8] {
        var bytes: [UInt8] = withUnsafeBytes(of: consumed) { Array($0) }
        func add(_ part: UnsafeRawBufferPointer) {
            bytes += withUnsafeBytes(of: part.count) { Array($0) }
            bytes += part
        }
        request.withHead { head in
            head.method.withUnsafeBytes { add($0) }
            head.withTarget { add($0) }
            bytes += [head.version.rawValue, head.keepAlive ? 1 : 0, head.isChunked ? 1 : 0, head.isHEAD ? 1 : 0]
            bytes += withUnsafeBytes(of: head.contentLength ?? -1) { Array($0) }
            for index in 0..<head.fieldCount {
                head.withField(at: index) { name, value in
                    add(name)
                    add(value)
                }
            }
            bytes.append(0xFE)
            for index in 0..<head.trailerCount {
                head.withTrailer(at: index) { name, value in
                    add(name)
                    add(value)
                }
            }
        }
        add(request.bodyBytes)
        return bytes
    }
}
