import FuzzSupport
import ReactorCore

/// One fuzz input for ``DelimiterDecoder``: 1–3 delimiters of 1–4 bytes from a four-letter alphabet, the strip flag
/// and `maxLength`, then a stream fed to the decoder in random pieces the way the loop's decode loop does
/// (``DecodeLoop``, which also checks that resuming the scan at `newBytesAt` gives what a full rescan gives), every
/// step checked against ``ReferenceDelimiters``, a naive splitter.
///
/// Input layout (missing bytes read as zero):
///
/// - byte 0: bits 0–1 the number of delimiters, n % 3 + 1; bit 2 strips the delimiter; bit 3 maps the stream onto
///   ``streamAlphabet`` (each byte b becomes `streamAlphabet[b % 5]`, so delimiters and near misses are everywhere);
///   bits 4–5 the range of `maxLength`: 0–8, 0–64, 0–1,024, 0–65,535; bits 6–7 both set: `Int.max` − (n % 4)
///   instead (no limit: `maxLength` + the longest delimiter saturates);
/// - bytes 1–2: `maxLength` within that range;
/// - bytes 3–8: three delimiters, two bytes each: the first byte's bits 0–1 are its length − 1, the second byte holds
///   its letters, two bits each (letter i is `(b >> 2i) & 3`, an index into ``alphabet``);
/// - byte 9: the largest piece, 2^(n % 13) bytes;
/// - bytes 10–17: the seed of the piece sizes;
/// - the rest: the stream.
struct DelimiterCheck {
    /// The letters delimiters are made of: line feed, carriage return, 'a' and NUL.
    static let alphabet: [UInt8] = [0x0A, 0x0D, 0x61, 0x00]
    /// The letters of a mapped stream: the alphabet and 'x', which is in no delimiter.
    static let streamAlphabet: [UInt8] = alphabet + [0x78]

    let reference: ReferenceDelimiters
    let mapsStream: Bool
    let largestPiece: Int
    var random: SplitMix64
    let stream: UnsafeRawBufferPointer

    init(input: inout FuzzInput) {
        let mode = Int(input.byte())
        let raw = Int(input.uint16())
        let maxLength: Int
        switch (mode >> 4) & 3 {
        case _ where mode >> 6 == 3: maxLength = Int.max - raw % 4
        case 0: maxLength = raw % 9
        case 1: maxLength = raw % 65
        case 2: maxLength = raw % 1025
        default: maxLength = raw
        }
        var delimiters: [[UInt8]] = []
        for index in 0..<3 {
            let length = (Int(input.byte()) & 3) + 1
            let letters = Int(input.byte())
            if index <= (mode & 3) % 3 {
                delimiters.append((0..<length).map { Self.alphabet[(letters >> (2 * $0)) & 3] })
            }
        }
        reference = ReferenceDelimiters(delimiters: delimiters, strips: mode & 4 != 0, maxLength: maxLength)
        mapsStream = mode & 8 != 0
        largestPiece = 1 << (Int(input.byte()) % 13)
        random = SplitMix64(seed: input.uint64())
        stream = input.rest()
    }

    mutating func run(expected: inout ExpectedDecoding, loop: inout DecodeLoop, mapped: inout [UInt8]) {
        let reference = reference
        let decoder = DelimiterDecoder(
            delimiters: reference.delimiters, stripsDelimiter: reference.strips, maxLength: reference.maxLength)
        if mapsStream {
            mapped.removeAll(keepingCapacity: true)
            mapped.append(contentsOf: stream.lazy.map { Self.streamAlphabet[Int($0) % 5] })
        }
        func check(_ stream: UnsafeRawBufferPointer) {
            reference.parse(stream, into: &expected)
            // Every new byte may complete a delimiter: the decoder must ask for exactly one more.
            loop.run(decoder, stream: stream, expected: expected, random: &random, largestPiece: largestPiece) {
                _, count in count + 1
            }
            trace(
                "\(reference): \(stream.count) bytes, \(loop.delivered) of \(expected.messages.count) records in "
                    + "\(loop.calls) calls, \(expected.error.map { "\($0) at \(expected.errorAt)" } ?? "no error")")
        }
        if mapsStream {
            mapped.withUnsafeBytes { check($0) }
        } else {
            check(stream)
        }
    }
}
