#if canImport(Glibc)
    import Glibc
#endif

/// Reads one response off the bytes a client received, strictly as the server formats them: a status line
/// `HTTP/1.1 DDD Reason\r\n` with the standard reason phrase of a status the server uses, field lines
/// `Name: value\r\n` (tokens for names; values without control bytes but HTAB) of the fields it writes, each at most
/// once (`Date`, 29 bytes of IMF-fixdate; `Content-Length`, digits; `Content-Type`; `Connection`, `close` or
/// `keep-alive`; `Server`), an empty line, then the body: `Content-Length` bytes, which must be there for a status
/// of 200 and above but 204 and absent below; no body for 1xx and 204, nor for a response to `HEAD` (`bodyless`).
struct HTTPResponseParser {
    struct Response {
        var status = 0
        var contentLength: Int?
        var connection = ConnectionField.none
        var contentType: Range<Int>?
        var server: Range<Int>?
        var hasDate = false
        var fieldCount = 0
        var body: Range<Int> = 0..<0
        /// One past its last byte.
        var end = 0
    }

    enum Outcome {
        case response(Response)
        /// The bytes end before the response does.
        case incomplete
        /// What is wrong, and where (from the start of the response).
        case malformed(String, at: Int)
    }

    private struct Malformed: Error {
        let reason: String
        let offset: Int
    }

    private struct Incomplete: Error {}

    static let reasons: [Int: [UInt8]] = [
        100: "Continue", 200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
        413: "Content Too Large", 414: "URI Too Long", 417: "Expectation Failed",
        431: "Request Header Fields Too Large", 501: "Not Implemented", 505: "HTTP Version Not Supported",
    ].mapValues { Array($0.utf8) }

    private let bytes: UnsafeRawBufferPointer

    /// Reads the response that starts at `start`.
    static func read(_ bytes: UnsafeRawBufferPointer, from start: Int, bodyless: Bool) -> Outcome {
        let parser = HTTPResponseParser(bytes: bytes)
        do {
            return .response(try parser.response(from: start, bodyless: bodyless))
        } catch let error as Malformed {
            return .malformed(error.reason, at: error.offset - start)
        } catch {
            return .incomplete
        }
    }

    /// The line from `start` to its CRLF (excluded); throws if a CR or LF is anywhere else in it.
    private func line(from start: Int) throws -> Range<Int> {
        guard start < bytes.count,
            let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start)
        else { throw Incomplete() }
        let lf = UnsafeRawPointer(found) - bytes.baseAddress!
        guard lf > start, bytes[lf - 1] == 0x0D else { throw Malformed(reason: "a bare LF", offset: lf) }
        return start..<(lf - 1)
    }

    private func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        range.count == text.utf8CodeUnitCount
            && memcmp(bytes.baseAddress! + range.lowerBound, text.utf8Start, range.count) == 0
    }

    private func response(from start: Int, bodyless: Bool) throws -> Response {
        var response = Response()
        let statusLine = try line(from: start)
        let text = statusLine.lowerBound
        guard statusLine.count >= 14, equals(text..<(text + 9), "HTTP/1.1 "), bytes[text + 12] == 0x20 else {
            throw Malformed(reason: "status line", offset: text)
        }
        for index in (text + 9)..<(text + 12) {
            guard bytes[index] >= 0x30 && bytes[index] <= 0x39 else { throw Malformed(reason: "status", offset: index) }
            response.status = response.status * 10 + Int(bytes[index] - 0x30)
        }
        guard let reason = Self.reasons[response.status] else {
            throw Malformed(reason: "status \(response.status)", offset: text)
        }
        let phrase = (text + 13)..<statusLine.upperBound
        guard reason.withUnsafeBytes({ sameBytesAt(phrase, $0) }) else {
            throw Malformed(reason: "reason phrase of \(response.status)", offset: text + 13)
        }
        var position = statusLine.upperBound + 2
        while true {
            let field = try line(from: position)
            position = field.upperBound + 2
            if field.isEmpty { break }
            try note(field, in: &response)
            response.fieldCount += 1
        }
        let hasContent = response.status >= 200 && response.status != 204
        if hasContent {
            guard let length = response.contentLength else {
                throw Malformed(reason: "no Content-Length for \(response.status)", offset: start)
            }
            guard response.hasDate else { throw Malformed(reason: "no Date", offset: start) }
            if !bodyless {
                guard bytes.count - position >= length else { throw Incomplete() }
                response.body = position..<(position + length)
                position += length
            }
        } else if response.contentLength != nil {
            throw Malformed(reason: "Content-Length in a \(response.status)", offset: start)
        }
        response.end = position
        return response
    }

    private func sameBytesAt(_ range: Range<Int>, _ other: UnsafeRawBufferPointer) -> Bool {
        range.count == other.count
            && (range.isEmpty || memcmp(bytes.baseAddress! + range.lowerBound, other.baseAddress!, range.count) == 0)
    }

    /// One field line: `Name: value`, a field the server writes, not seen before in this response.
    private func note(_ field: Range<Int>, in response: inout Response) throws {
        guard let colonPointer = memchr(bytes.baseAddress! + field.lowerBound, 0x3A, field.count) else {
            throw Malformed(reason: "a field without a colon", offset: field.lowerBound)
        }
        let colon = UnsafeRawPointer(colonPointer) - bytes.baseAddress!
        guard colon + 1 < field.upperBound, bytes[colon + 1] == 0x20 else {
            throw Malformed(reason: "no space after a colon", offset: colon)
        }
        let name = field.lowerBound..<colon
        let value = (colon + 2)..<field.upperBound
        for index in value where (bytes[index] < 0x20 && bytes[index] != 0x09) || bytes[index] == 0x7F {
            throw Malformed(reason: "control byte in a value", offset: index)
        }
        if equals(name, "Date") {
            guard !response.hasDate, value.count == 29, equals((value.upperBound - 4)..<value.upperBound, " GMT"),
                bytes[value.lowerBound + 3] == 0x2C
            else { throw Malformed(reason: "Date", offset: field.lowerBound) }
            response.hasDate = true
        } else if equals(name, "Content-Length") {
            guard response.contentLength == nil, !value.isEmpty, value.count <= 18 else {
                throw Malformed(reason: "Content-Length", offset: field.lowerBound)
            }
            var length = 0
            for index in value {
                guard bytes[index] >= 0x30 && bytes[index] <= 0x39 else {
                    throw Malformed(reason: "Content-Length digit", offset: index)
                }
                length = length * 10 + Int(bytes[index] - 0x30)
            }
            response.contentLength = length
        } else if equals(name, "Content-Type") {
            guard response.contentType == nil else { throw Malformed(reason: "Content-Type twice", offset: colon) }
            response.contentType = value
        } else if equals(name, "Server") {
            guard response.server == nil else { throw Malformed(reason: "Server twice", offset: colon) }
            response.server = value
        } else if equals(name, "Connection") {
            guard response.connection == .none else { throw Malformed(reason: "Connection twice", offset: colon) }
            if equals(value, "close") {
                response.connection = .close
            } else if equals(value, "keep-alive") {
                response.connection = .keepAlive
            } else {
                throw Malformed(reason: "Connection value", offset: colon)
            }
        } else {
            throw Malformed(reason: "a field the server does not write", offset: field.lowerBound)
        }
    }
}
