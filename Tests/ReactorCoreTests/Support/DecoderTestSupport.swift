import ReactorCore
import Testing

/// What the decoder tests share: one decoding call as a value, the way the loop feeds a decoder, the differential
/// check against a reference model, a seeded generator, and a loopback server that decodes. The reference models
/// themselves stay with their tests (`DelimiterDecoderTests`, `LengthFieldDecoderTests`): each is an independent
/// model of its own decoder.

// MARK: - Decoding calls

/// One call of `decoder` over `bytes`, its result or its error.
func decodeStep<Decoder: MessageDecoder>(
    _ decoder: Decoder, _ bytes: [UInt8], newBytesAt: Int = 0
) -> Result<DecodeStep, MessageDecodingError> {
    do {
        return .success(try decoder.decode(bytes.span.bytes, newBytesAt: newBytesAt))
    } catch {
        return .failure(error)
    }
}

/// The messages a stream was split into and how it ended.
struct StreamOutcome: Equatable {
    enum End: Equatable {
        case clean
        case pending(buffered: Int, atLeast: Int)
        case failed(MessageDecodingError)
    }
    var messages: [[UInt8]] = []
    var end = End.clean
}

/// A reference model of a decoder, written independently of it: what the decoder must answer for input that starts
/// at a message boundary.
protocol DecoderReferenceModel: CustomStringConvertible {
    associatedtype Decoder: MessageDecoder

    /// The decoder the model describes.
    var decoder: Decoder { get }

    /// What the decoder must answer for `input` (the start of a message first).
    func parse(_ input: ArraySlice<UInt8>) -> Result<DecodeStep, MessageDecodingError>
}

extension DecoderReferenceModel {
    /// Splits a whole stream the way repeated decoding must.
    func split(_ stream: [UInt8]) -> StreamOutcome {
        var outcome = StreamOutcome()
        var position = 0
        while position < stream.count {
            switch parse(stream[position...]) {
            case .failure(let error):
                outcome.end = .failed(error)
                return outcome
            case .success(.needMoreInput(let total)):
                outcome.end = .pending(buffered: stream.count - position, atLeast: total)
                return outcome
            case .success(.message(let payload, let consumed)):
                outcome.messages.append(
                    Array(stream[(position + payload.lowerBound)..<(position + payload.upperBound)]))
                position += consumed
            }
        }
        return outcome
    }
}

/// Feeds `stream` to `decoder` in chunks of `chunkSizes` the way the loop does: the decoder is called only once as
/// many bytes as it asked for are there, with `newBytesAt` the length of the input it asked more for, and after a
/// message with the rest. Every answer is checked against the protocol's invariants (`problems`).
func feed<Decoder: MessageDecoder>(
    _ decoder: Decoder, _ stream: [UInt8], chunkSizes: [Int]
) -> (outcome: StreamOutcome, problems: [String]) {
    var outcome = StreamOutcome()
    var problems: [String] = []
    var buffer: [UInt8] = []
    var position = 0
    var chunk = 0
    var expected = 0
    var shown = 0
    while position < stream.count {
        let size = chunk < chunkSizes.count ? max(1, chunkSizes[chunk]) : stream.count - position
        chunk += 1
        let end = min(stream.count, position + size)
        buffer += stream[position..<end]
        position = end
        if buffer.count < expected { continue }
        decoding: while true {
            switch decodeStep(decoder, buffer, newBytesAt: shown) {
            case .failure(let error):
                outcome.end = .failed(error)
                return (outcome, problems)
            case .success(.needMoreInput(let total)):
                if total <= buffer.count { problems.append("needMoreInput(atLeast: \(total)) with \(buffer.count)") }
                expected = total
                shown = buffer.count
                break decoding
            case .success(.message(let payload, let consumed)):
                guard consumed > 0, consumed <= buffer.count, payload.lowerBound >= 0, payload.upperBound <= consumed
                else {
                    problems.append("message(payload: \(payload), consumed: \(consumed)) with \(buffer.count)")
                    return (outcome, problems)
                }
                outcome.messages.append(Array(buffer[payload]))
                buffer.removeFirst(consumed)
                shown = 0
                expected = 0
            }
        }
    }
    outcome.end = buffer.isEmpty ? .clean : .pending(buffered: buffer.count, atLeast: expected)
    return (outcome, problems)
}

// MARK: - Differential check

/// Checks `model.decoder` against `model` on one generated case: fed `stream` in pieces of `chunkSizes` it must
/// split it as ``DecoderReferenceModel/split(_:)`` does without breaking the protocol's invariants, and one call on
/// `prefix` from scratch (with `newBytesAt`) must answer what the model parses. Returns the decoder's outcome, or
/// records an issue describing case `index` and returns nil.
func checkAgainstReferenceModel<Model: DecoderReferenceModel>(
    _ model: Model, case index: Int, stream: [UInt8], chunkSizes: [Int], prefix: [UInt8], newBytesAt: Int = 0,
    sourceLocation: SourceLocation = #_sourceLocation
) -> StreamOutcome? {
    let expected = model.split(stream)
    let (actual, problems) = feed(model.decoder, stream, chunkSizes: chunkSizes)
    let single = decodeStep(model.decoder, prefix, newBytesAt: newBytesAt)
    guard problems.isEmpty, actual == expected, single == model.parse(prefix[...]) else {
        Issue.record(
            """
            case \(index): \(model)
            stream \(stream)
            chunks \(chunkSizes.prefix(stream.count))
            expected \(expected)
            actual \(actual) \(problems)
            prefix \(prefix) newBytesAt \(newBytesAt): expected \(model.parse(prefix[...])), got \(single)
            """, sourceLocation: sourceLocation)
        return nil
    }
    return actual
}

/// SplitMix64: a small, fixed-seed generator so every run checks the same cases.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

// MARK: - Loopback

/// What a message handler on a loopback server saw: each message's payload, and why connections closed.
final class MessageLog: Sendable {
    let messages = Locked<[[UInt8]]>([])
    let reasons = Locked<[CloseReason]>([])
}

/// Runs `body` with a client (5 s timeouts) connected to a server that splits its input with `decoder` and hands the
/// messages to `handler`; always stops the server.
func withDecodingServer<Decoder: MessageDecoder, Handler: MessageHandler>(
    _ decoder: Decoder, _ handler: Handler, _ body: (Server<Decoded<Decoder, Handler>>, TestClient) throws -> Void
) throws {
    try withServerAndClient(handler: Decoded(decoder, handler), clientTimeoutSeconds: 5, body)
}
