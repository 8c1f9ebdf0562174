import FuzzSupport
import ReactorHTTP1

/// What the builder knows a request it wrote must come to, independently of the decoder.
struct RequestIntent {
    enum Kind {
        /// Well-formed and within the decoder's limits: answered with `response`.
        case valid(ExpectedResponse)
        /// Refused: with this status, or (nil) with some error status (a mutation that also passes a limit, where
        /// which check comes first is the decoder's business).
        case refused(Int?)
        /// A well-formed request within the limits, cut after `leftover` bytes at the end of the stream: never
        /// answered, left buffered.
        case truncated(leftover: Int)
        /// Raw bytes, or a request with a byte changed: anything may come of it.
        case unknown
    }

    var kind: Kind
    /// Where it ends in the stream.
    var end: Int
}

/// Turns the fuzz input's program into a stream of HTTP/1.1 requests (and what each must come to,
/// ``RequestIntent``): mostly well-formed `GET`, `HEAD`, `POST` and other methods on `/plaintext`, `/json`,
/// `/echo` and other targets, HTTP/1.0 and 1.1, with `Connection` variants, `Content-Length` and chunked bodies
/// (extensions, trailers, upper-case and zero-padded sizes), `Expect: 100-continue`, extra fields and empty lines
/// before the request line; sometimes a request with one defect the decoder must refuse (smuggling cases and the
/// rest of ``Mutation``), a request over the decoder's limits, raw bytes, a byte changed in the last request, or a
/// request cut short at the end.
///
/// Operation (byte % 8), then its operands (missing bytes read as zero):
///
/// - 0–3: a request (see ``request(_:)``: method, target, flags, body kind, body size, body offset, extra
///   fields, chunk layout);
/// - 4: a request with the mutation named by the next byte (% ``Mutation/allCases``), then a request's operands;
/// - 5: 1 + n % 32 raw bytes;
/// - 6: the byte at offset n (next byte) of the last request XORed with the byte after (made odd);
/// - 7: a request cut after n (next byte) % its length bytes; nothing follows it.
struct HTTPRequestBuilder {
    /// Streams stop growing past this many bytes.
    static let maxStreamLength = 16 << 10

    /// Body bytes (every value, CR, LF and NUL included), taken in slices: a body is a range of it, so the model
    /// knows it without copying.
    static let pattern: [UInt8] = {
        var random = SplitMix64(seed: 0x4854_5450_2F31_2E31)
        return (0..<4096).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }()

    static let methods: [StaticString] = ["GET", "HEAD", "POST", "GET", "POST", "PUT", "DELETE", "get"]
    static let targets: [StaticString] = [
        "/plaintext", "/json", "/echo", "/plaintext", "/json", "/echo", "/", "/nope", "/plaintext?x=1", "/JSON", "*",
        "http://h/json", "/echo/", "/%70laintext",
    ]
    /// `Connection` values: (value, has `close`, has `keep-alive`).
    static let connections: [(StaticString, Bool, Bool)] = [
        ("", false, false), ("close", true, false), ("keep-alive", false, true), ("Keep-Alive", false, true),
        ("upgrade, close", true, false), ("keep-alive, te", false, true), ("CLOSE", true, false), ("foo", false, false),
    ]
    static let extraFields: [StaticString] = [
        "Accept: */*", "User-Agent: reactor-fuzz/1.0", "X-Empty:", "X-Tab:\ta\tb\t", "Cookie: a=b; c=d",
        "Connection: upgrade", "Accept-Encoding: gzip, chunked", "X-Obs: \u{80}\u{FF}",
    ]
    static let chunkExtensions: [StaticString] = ["", ";ext", ";a=b;c=\"d e\"", " ; x=1"]

    /// A defect the decoder must refuse, with the status it answers (when no limit is passed first).
    enum Mutation: Int, CaseIterable {
        case contentLengthWithChunked, differingContentLengths, differingContentLengthList, invalidContentLength
        case badChunkSize, chunkSizeOverflow, chunkDataWithoutCRLF, contentLengthTrailer
        case obsFold, nulInValue, crInValue, bareLF, spaceBeforeColon, badRequestLine, lowercaseVersion
        case missingHost, duplicateHost, transferEncodingInHTTP10, chunkedNotLast, gzip, unknownExpectation
        case http12, http2Preface, http09
        /// Over a limit even with the server's defaults: 101 fields (431), a 8,200-byte target (414), a declared
        /// body of 2,000,000 bytes (413), a chunk of 0x200000 (413). The status follows from the limits.
        case manyFields, longTarget, hugeContentLength, hugeChunk

        var status: Int? {
            switch self {
            case .gzip: return 501
            case .unknownExpectation: return 417
            case .http12, .http2Preface, .http09: return 505
            case .manyFields, .longTarget, .hugeContentLength, .hugeChunk: return nil
            default: return 400
            }
        }
    }

    let decoder: HTTP1RequestDecoder
    private var program: FuzzInput
    private(set) var stream: [UInt8] = []
    private(set) var intents: [RequestIntent] = []
    private var ended = false

    init(program: UnsafeRawBufferPointer, decoder: HTTP1RequestDecoder) {
        self.program = FuzzInput(data: program.baseAddress?.assumingMemoryBound(to: UInt8.self), size: program.count)
        self.decoder = decoder
        stream.reserveCapacity(1024)
    }

    /// Runs the whole program.
    mutating func build() {
        while !program.isAtEnd && !ended && stream.count < Self.maxStreamLength {
            let operation = program.byte() % 8
            switch operation {
            case 0...3:
                request(nil)
            case 4:
                request(Mutation(rawValue: Int(program.byte()) % Mutation.allCases.count))
            case 5:
                for _ in 0...(Int(program.byte()) % 32) { stream.append(program.byte()) }
                intents.append(RequestIntent(kind: .unknown, end: stream.count))
            case 6:
                flip()
            default:
                truncated()
            }
        }
    }

    // MARK: Writing

    private mutating func append(_ text: StaticString) {
        stream.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private mutating func appendDecimal(_ value: Int) {
        if value >= 10 { appendDecimal(value / 10) }
        stream.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private mutating func appendHex(_ value: Int, upper: Bool) {
        if value >= 16 { appendHex(value / 16, upper: upper) }
        let digit = UInt8(value % 16)
        stream.append(
            digit < 10 ? UInt8(ascii: "0") + digit : (upper ? UInt8(ascii: "A") : UInt8(ascii: "a")) + digit - 10)
    }

    private mutating func appendPattern(_ range: Range<Int>) {
        Self.pattern.withUnsafeBytes { stream.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// A field line `name: value` with the name in lower case if `lower`.
    private mutating func field(_ name: StaticString, _ lowerName: StaticString, lower: Bool, _ value: StaticString) {
        append(lower ? lowerName : name)
        append(": ")
        append(value)
        append("\r\n")
    }

    // MARK: Requests

    /// What the decoder's limits say of a request, in the order it checks them: the request line (414), the head
    /// and its field count (431), the declared body (413), then each chunk's size line (400) and size (413) and the
    /// trailer section (431). Nil if within every limit.
    private struct Measure {
        var requestLine = 0
        var head = 0
        var fields = 0
        var contentLength = 0
        /// The first limit a chunk passes, in order.
        var chunkStatus: Int?
        var dechunked = 0
    }

    private func limitStatus(_ measure: Measure, chunked: Bool) -> Int? {
        // A header section limit not above the request line's is met first (the decoder's documented order).
        if measure.requestLine > decoder.maxRequestLineLength
            && decoder.maxHeaderSectionLength > decoder.maxRequestLineLength
        {
            return 414
        }
        if measure.head > decoder.maxHeaderSectionLength || measure.fields > decoder.maxFieldCount { return 431 }
        if !chunked && measure.contentLength > decoder.maxBodyLength { return 413 }
        return chunked ? measure.chunkStatus : nil
    }

    /// A chunk-size line of `lineLength` bytes (CRLF excluded) for `size` data bytes.
    private func noteChunk(_ measure: inout Measure, lineLength: Int, size: Int) {
        if measure.chunkStatus == nil {
            if lineLength > decoder.maxChunkLineLength {
                measure.chunkStatus = 400
            } else if size > decoder.maxBodyLength - measure.dechunked {
                measure.chunkStatus = 413
            }
        }
        measure.dechunked += size
    }

    /// One request, well-formed unless `mutation`. Operands: method (n % 8 of ``methods``), target (n % 14 of
    /// ``targets``), flags (bit 0 HTTP/1.0; bits 1–3 the ``connections`` value; bit 4 `Expect: 100-continue`; bit 5
    /// lower-case field names; bit 6 an empty line first; bit 7 no `Host` in HTTP/1.0), body kind (n % 4: none,
    /// `Content-Length`, chunked (a `Content-Length` in HTTP/1.0), `Content-Length: n, n`), body size (n % 48, or
    /// with bit 7 (n & 127) × 24), body offset in ``pattern`` (× 4), extra fields (n % 4 of ``extraFields``, from
    /// the bits above), and for a chunked body a layout byte (n % 4 chunks; bits 2–3 the extension; bits 4–5 0–2
    /// trailers; bit 6 upper-case sizes; bit 7 zero-padded) and a size byte per chunk (1 + n % 40, or with bit 7
    /// 1 + (n & 127) × 16).
    @discardableResult
    private mutating func request(_ mutation: Mutation?, allowEmptyLine: Bool = true) -> Range<Int> {
        let methodIndex = Int(program.byte()) % Self.methods.count
        let targetIndex = Int(program.byte()) % Self.targets.count
        let flags = program.byte()
        let bodyKindByte = Int(program.byte()) % 4
        let sizeByte = Int(program.byte())
        let bodyOffset = Int(program.byte()) * 4
        let extras = Int(program.byte())

        var http10 = flags & 1 != 0
        var chunked = bodyKindByte == 2 && !http10
        switch mutation {
        case .contentLengthWithChunked, .badChunkSize, .chunkSizeOverflow, .chunkDataWithoutCRLF,
            .contentLengthTrailer, .chunkedNotLast, .gzip, .hugeChunk:
            // HTTP/1.1: in HTTP/1.0 any Transfer-Encoding is refused first.
            chunked = true
            http10 = false
        case .transferEncodingInHTTP10:
            chunked = true
            http10 = true
        case .unknownExpectation, .missingHost, .duplicateHost:
            http10 = false
        case .hugeContentLength:
            chunked = false
        default: break
        }
        let (connectionValue, close, keepAliveToken) = Self.connections[Int(flags >> 1) & 7]
        let expect = flags & 0x10 != 0
        let lower = flags & 0x20 != 0
        let start = stream.count
        if flags & 0x40 != 0 && allowEmptyLine { append("\r\n") }
        let requestStart = stream.count
        var measure = Measure()

        // The request line.
        let method = Self.methods[methodIndex]
        let target = Self.targets[targetIndex]
        switch mutation {
        case .http2Preface:
            append("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            return finish(start: start, kind: .refused(505))
        case .http09:
            append(method)
            append(" ")
            append(target)
            measure.requestLine = stream.count - requestStart
            append("\r\n")
            measure.head = measure.requestLine + 1  // the scan meets the line's LF at this offset
            return finish(start: start, kind: .refused(limitStatus(measure, chunked: false) == nil ? 505 : nil))
        case .badRequestLine:
            let lines: [StaticString] = [
                "GET  /plaintext HTTP/1.1", "GET /plaintext  HTTP/1.1", "GET /plaintext HTTP/1.1 ",
                "GET\t/plaintext HTTP/1.1", "/plaintext HTTP/1.1", "GET /plaintext HTTP/1.1x",
                "GET /plain\u{7F}text HTTP/1.1",
            ]
            append(lines[extras % lines.count])
        case .lowercaseVersion:
            append(method)
            append(" ")
            append(target)
            append(" http/1.1")
        case .http12:
            append(method)
            append(" ")
            append(target)
            let versions: [StaticString] = [" HTTP/1.2", " HTTP/2.0", " HTTP/3.0", " HTTP/0.9"]
            append(versions[extras % versions.count])
        case .longTarget:
            append(method)
            append(" /")
            for _ in 0..<(8200 / 64) {
                append("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
            }
            append(http10 ? " HTTP/1.0" : " HTTP/1.1")
        default:
            append(method)
            append(" ")
            append(target)
            append(http10 ? " HTTP/1.0" : " HTTP/1.1")
        }
        measure.requestLine = stream.count - requestStart
        append("\r\n")

        // The fields.
        var fields = 0
        if mutation != .missingHost && !(http10 && flags & 0x80 != 0) {
            field("Host", "host", lower: lower, "example.com")
            fields += 1
        }
        if mutation == .duplicateHost {
            field("Host", "host", lower: lower, "other.example")
            fields += 1
        }
        for index in 0..<(extras % 4) {
            append(Self.extraFields[(extras >> (2 + index * 2)) % Self.extraFields.count])
            append("\r\n")
            fields += 1
        }
        if connectionValue.utf8CodeUnitCount > 0 {
            field("Connection", "connection", lower: lower, connectionValue)
            fields += 1
        }
        if expect {
            field("Expect", "expect", lower: lower, flags & 0x80 != 0 ? "100-Continue" : "100-continue")
            fields += 1
        }
        var contentLength = bodyKindByte == 0 ? 0 : sizeByte & 0x80 == 0 ? sizeByte % 48 : (sizeByte & 0x7F) * 24
        if chunked {
            switch mutation {
            case .contentLengthWithChunked:
                field("Content-Length", "content-length", lower: lower, "5")
                fields += 1
            case .chunkedNotLast: field("Transfer-Encoding", "transfer-encoding", lower: lower, "chunked, gzip")
            case .gzip: field("Transfer-Encoding", "transfer-encoding", lower: lower, "gzip, chunked")
            default: break
            }
            if mutation != .chunkedNotLast && mutation != .gzip {
                field("Transfer-Encoding", "transfer-encoding", lower: lower, "chunked")
            }
            fields += 1
        } else if mutation == .hugeContentLength {
            field("Content-Length", "content-length", lower: lower, "2000000")
            fields += 1
            contentLength = 2_000_000
        } else if contentLength > 0 || bodyKindByte == 3 {
            append(lower ? "content-length: " : "Content-Length: ")
            appendDecimal(contentLength)
            if bodyKindByte == 3 {
                append(", ")
                appendDecimal(contentLength)
            }
            append("\r\n")
            fields += 1
        }
        switch mutation {
        case .differingContentLengths:
            append("Content-Length: 3\r\nContent-Length: 4\r\n")
            fields += 2
        case .differingContentLengthList:
            append("Content-Length: 3, 4\r\n")
            fields += 1
        case .invalidContentLength:
            let values: [StaticString] = ["+5", "5a", "", "-1", "1234567890123456789", "0x5", "5,"]
            append("Content-Length: ")
            append(values[extras % values.count])
            append("\r\n")
            fields += 1
        case .obsFold:
            append("X-Fold: a\r\n b\r\n")
            fields += 2
        case .nulInValue:
            append("X-Nul: a\0b\r\n")
            fields += 1
        case .crInValue:
            append("X-CR: a\rb\r\n")
            fields += 1
        case .bareLF:
            append("X-Bare: v\n")
            fields += 1
        case .spaceBeforeColon:
            append("X-Space : v\r\n")
            fields += 1
        case .unknownExpectation:
            append("Expect: 200-ok\r\n")
            fields += 1
        case .manyFields:
            for _ in 0..<101 { append("X:1\r\n") }
            fields += 101
        default:
            break
        }
        append("\r\n")
        measure.head = stream.count - requestStart
        measure.fields = fields
        measure.contentLength = contentLength

        // The body.
        var bodyLength = 0
        if chunked {
            bodyLength = chunks(mutation, offset: bodyOffset, measure: &measure)
        } else if mutation != .hugeContentLength {
            bodyLength = contentLength
            appendPattern(bodyOffset..<(bodyOffset + bodyLength))
        }

        if let limit = limitStatus(measure, chunked: chunked) {
            return finish(start: start, kind: .refused(mutation == nil || mutation?.status == nil ? limit : nil))
        }
        if let mutation {
            return finish(start: start, kind: .refused(mutation.status))
        }
        let methodName = Self.methods[methodIndex]
        let targetKind: ExpectedResponse.Target =
            switch targetIndex {
            case 0, 3: .plaintext
            case 1, 4: .json
            case 2, 5: .echo
            default: .other
            }
        let isGET = methodName.utf8Start[0] == UInt8(ascii: "G")
        let response = ExpectedResponse(
            get: isGET, head: methodIndex == 1, post: methodIndex == 2 || methodIndex == 4, target: targetKind,
            echo: bodyOffset..<(bodyOffset + bodyLength),
            connection: close || (http10 && !keepAliveToken) ? .close : http10 ? .keepAlive : .none,
            continueAllowed: expect && !http10 && (chunked || contentLength > 0))
        return finish(start: start, kind: .valid(response))
    }

    /// A chunked body from `pattern[offset...]` (with the chunk mutations); returns its de-chunked length.
    private mutating func chunks(_ mutation: Mutation?, offset: Int, measure: inout Measure) -> Int {
        let layout = Int(program.byte())
        let upper = layout & 0x40 != 0
        let padded = layout & 0x80 != 0
        let extensionText = Self.chunkExtensions[(layout >> 2) & 3]
        var total = 0
        for index in 0..<(layout % 4) {
            let sizeByte = Int(program.byte())
            var size = sizeByte & 0x80 == 0 ? 1 + sizeByte % 40 : 1 + (sizeByte & 0x7F) * 16
            size = min(size, 3072 - total)
            if size <= 0 { break }
            let lineStart = stream.count
            if padded { append("00") }
            appendHex(size, upper: upper)
            if index == 0 && mutation == .badChunkSize {
                stream.removeSubrange(lineStart...)
                let bad: [StaticString] = ["zz", "-1", "1x", "", " 1", "0x1"]
                append(bad[sizeByte % bad.count])
            }
            if index == 0 && mutation == .chunkSizeOverflow {
                stream.removeSubrange(lineStart...)
                append("10000000000000000")
            }
            append(extensionText)
            noteChunk(&measure, lineLength: stream.count - lineStart, size: size)
            append("\r\n")
            appendPattern((offset + total)..<(offset + total + size))
            append(index == 0 && mutation == .chunkDataWithoutCRLF ? "XY" : "\r\n")
            total += size
        }
        if mutation == .hugeChunk {
            append("200000\r\n")
            noteChunk(&measure, lineLength: 6, size: 0x200000)
            return total
        }
        if mutation == .badChunkSize || mutation == .chunkSizeOverflow || mutation == .chunkDataWithoutCRLF,
            total == 0
        {
            // No data chunk carried the defect: put it on the last chunk's line.
            append(
                mutation == .chunkDataWithoutCRLF
                    ? "1\r\naXY" : mutation == .badChunkSize ? "zz\r\n" : "10000000000000000\r\n")
        }
        let lastStart = stream.count
        append(padded ? "000" : "0")
        append(extensionText)
        noteChunk(&measure, lineLength: stream.count - lastStart, size: 0)
        append("\r\n")
        let trailerStart = stream.count
        var trailers = 0
        for index in 0..<((layout >> 4) & 3) where index < 2 {
            append(index == 0 ? "X-Trailer: t\r\n" : "Expires: never\r\n")
            trailers += 1
        }
        if mutation == .contentLengthTrailer {
            append("Content-Length: 5\r\n")
            trailers += 1
        }
        append("\r\n")
        if measure.chunkStatus == nil
            && (stream.count - trailerStart > decoder.maxHeaderSectionLength || trailers > decoder.maxFieldCount)
        {
            measure.chunkStatus = 431
        }
        return total
    }

    @discardableResult
    private mutating func finish(start: Int, kind: RequestIntent.Kind) -> Range<Int> {
        intents.append(RequestIntent(kind: kind, end: stream.count))
        return start..<stream.count
    }

    /// Changes one byte of the last request (or raw bytes): it and what follows are unknown.
    private mutating func flip() {
        let position = Int(program.byte())
        let mask = program.byte() | 1
        guard let last = intents.indices.last else { return }
        let start = last > 0 ? intents[last - 1].end : 0
        let end = intents[last].end
        guard end > start else { return }
        stream[start + position % (end - start)] ^= mask
        intents[last].kind = .unknown
    }

    /// A well-formed request cut short: the stream ends inside it.
    private mutating func truncated() {
        let cut = Int(program.byte())
        let range = request(nil, allowEmptyLine: false)
        guard let last = intents.indices.last else { return }
        ended = true
        let keep = 1 + cut % max(1, range.count - 1)
        guard keep < range.count else {
            intents[last].kind = .unknown
            return
        }
        stream.removeSubrange((range.lowerBound + keep)...)
        intents[last].end = stream.count
        if case .valid = intents[last].kind {
            intents[last].kind = .truncated(leftover: keep)
        } else {
            intents[last].kind = .unknown
        }
    }
}
