import CHTTPParser
import FuzzSupport
import ReactorHTTP1

/// Our `HTTP1RequestDecoder` against nodejs/http-parser 2.9.4 (Debian's libhttp-parser-dev, strict mode) on one
/// request stream, decoded whole by both.
///
/// Where both accept a request they must agree on everything: method, target, version, keep-alive, every header
/// and trailer field (http-parser's values with trailing blanks removed, as RFC 9112 §5 says), the body bytes, and so
/// on the message boundaries (the next request starts at the same byte). Where they disagree on acceptance:
/// - we refuse, http-parser accepts: allowed (we are stricter on purpose: bare LF, obs-fold, control bytes, Host,
///   Content-Length with Transfer-Encoding, `chunked` in HTTP/1.0, other versions, smaller limits); counted only;
/// - we accept a request that http-parser refuses: allowed only for the known differences that do not touch
///   framing (``allowedRefusal(_:of:)``), or one it accepts once HTAB is SP (it skips only SP as OWS); any other is
///   a failure;
/// - one finds a complete request where the other is still waiting for bytes: a framing disagreement, a failure,
///   unless we wait on a head that we refuse once it is closed with an empty line (http-parser, built without
///   `HTTP_PARSER_STRICT`, takes a bare CR for a line end).
/// An Upgrade request ends the comparison (http-parser stops there; we have no upgrade).
struct HTTP1Differential {
    let stream: [UInt8]

    struct Message: Equatable, CustomStringConvertible {
        var method: [UInt8]
        var target: [UInt8]
        var version: Int  // 10 or 11
        var keepAlive: Bool
        var fields: [[UInt8]]  // name, value, name, value… headers then trailers
        var body: [UInt8]
        var isChunked = false

        /// The values of the header and trailer fields named `lowercaseName` (ASCII case ignored).
        func values(of lowercaseName: String) -> [[UInt8]] {
            stride(from: 0, to: fields.count, by: 2).filter {
                fields[$0].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 } == Array(lowercaseName.utf8)
            }.map { fields[$0 + 1] }
        }

        /// A field whose name starts with `Transfer-Encoding` and goes on (`Transfer-Encodingng`): http-parser 2.9.4
        /// takes it for Transfer-Encoding.
        var hasTransferEncodingLookalike: Bool {
            let prefix = Array("transfer-encoding".utf8)
            return stride(from: 0, to: fields.count, by: 2).contains {
                let name = fields[$0].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
                return name.count > prefix.count && Array(name.prefix(prefix.count)) == prefix
            }
        }

        var description: String {
            "\(String(decoding: method, as: UTF8.self)) \(String(decoding: target, as: UTF8.self)) \(version) "
                + "keepAlive \(keepAlive) fields \(fields.map { String(decoding: $0, as: UTF8.self) }) body \(body.count)"
        }
    }

    func run(request: HTTP1DecodedRequest) {
        let (ours, refusal) = decodeOurs(request)
        var result = hp_result()
        stream.withUnsafeBufferPointer { hp_parse($0.baseAddress, $0.count, &result) }
        defer { hp_free(&result) }
        if result.overflow != 0 { return }
        let theirs = messages(of: &result)
        let upgradeAt = theirs.firstIndex { $0.upgrade }
        let compared = min(ours.count, theirs.count, upgradeAt.map { $0 + 1 } ?? Int.max)
        for index in 0..<compared {
            var theirsMessage = theirs[index].message
            theirsMessage.isChunked = ours[index].isChunked  // not reported by http-parser; the body is compared
            // http-parser reads `Connection` as one token: in a list (`close, x`, `,,keep-alive`) it misses the
            // option we find (RFC 9110 §7.6.1: a list of options). Persistence only; framing is compared below.
            // Nor does it take HTAB for OWS there (`keep-alive<TAB>`; our values are trimmed, so any HTAB in the
            // stream lets this difference pass).
            // And it applies a `Connection` trailer field; we take persistence from the header section only
            // (RFC 9110 §6.5.1: trailers are not for connection control).
            let connections = ours[index].values(of: "connection")
            if connections.contains(where: {
                $0.contains(UInt8(ascii: ",")) || $0.contains(0x09) || stream.contains(0x09)
            }) || (ours[index].isChunked && !connections.isEmpty) {
                theirsMessage.keepAlive = ours[index].keepAlive
            }
            expect(
                ours[index] == theirsMessage,
                "request \(index): ours \(ours[index]) != http-parser's \(theirsMessage)")
        }
        if upgradeAt != nil && upgradeAt! < max(ours.count, theirs.count) { return }
        if theirs.count > ours.count {
            // They completed a request we did not: fine if we refused it, a framing disagreement if we wait.
            // http-parser (built without HTTP_PARSER_STRICT) ends lines at a bare CR where we look for CRLF, so it
            // can see a request end where we still wait; closing the head must then make us refuse it.
            expect(
                refusal != nil || HTTP1Differential(stream: stream + Array("\r\n\r\n".utf8)).refuses(at: ours.count),
                "http-parser completed request \(ours.count) (\(theirs[ours.count].message)); we wait")
        } else if ours.count > theirs.count {
            let error = String(cString: result.error_name)
            expect(
                result.error != 0,
                "we completed request \(theirs.count) (\(ours[theirs.count])); http-parser waits")
            expect(
                Self.allowedRefusal(error, of: ours[theirs.count])
                    || Self.acceptedWithSpacesForTabs(stream, beyond: theirs.count),
                "we completed request \(theirs.count) (\(ours[theirs.count])); http-parser refused it: \(error)")
        }
    }

    /// Whether http-parser's refusal `error` of a request we accept is a known difference that does not touch
    /// framing: an unknown method (it knows a fixed list; RFC 9110 §9.1 allows any token), a target its URL parser
    /// rejects (we check the bytes only), a repeated `Content-Length` with the same value (RFC 9110 §8.6 lets a
    /// recipient accept it as one length, which we do; http-parser refuses any repeat), or a Transfer-Encoding it
    /// sees where there is none.
    static func allowedRefusal(_ error: String, of message: Message) -> Bool {
        switch error {
        case "HPE_INVALID_METHOD", "HPE_INVALID_URL": return true
        case "HPE_UNEXPECTED_CONTENT_LENGTH", "HPE_INVALID_CONTENT_LENGTH":
            var lengths = 0
            for value in message.values(of: "content-length") {
                lengths += value.contains(UInt8(ascii: ",")) ? 2 : 1
            }
            // Or http-parser's Transfer-Encoding mistake (below) met a Content-Length.
            return lengths > 1
                || (message.values(of: "transfer-encoding").isEmpty && message.hasTransferEncodingLookalike)
        case "HPE_INVALID_TRANSFER_ENCODING":
            // http-parser 2.9.4 takes a field whose name starts with `Transfer-Encoding` (`Transfer-Encodingh`) for
            // it; a request we accept without a Transfer-Encoding field is not chunked for anyone.
            return message.values(of: "transfer-encoding").isEmpty
        default: return false
        }
    }

    /// Whether http-parser accepts more than `count` requests once every HTAB is a space: it skips only SP where
    /// RFC 9110 §5.6.3 allows OWS (SP or HTAB), around a `Content-Length` value for one.
    static func acceptedWithSpacesForTabs(_ stream: [UInt8], beyond count: Int) -> Bool {
        let spaced = stream.map { $0 == 0x09 ? 0x20 : $0 }
        var result = hp_result()
        spaced.withUnsafeBufferPointer { hp_parse($0.baseAddress, $0.count, &result) }
        defer { hp_free(&result) }
        return result.message_count > count
    }

    /// Whether we refuse request `index` of the stream (after accepting the ones before it).
    func refuses(at index: Int) -> Bool {
        let (messages, refusal) = decodeOurs(HTTP1DecodedRequest())
        return messages.count == index && refusal != nil
    }

    /// Our requests, decoded from the whole stream, and the refusal that ended them (nil: the rest is incomplete).
    private func decodeOurs(_ request: HTTP1DecodedRequest) -> ([Message], HTTP1RequestError?) {
        let decoder = HTTP1RequestDecoder()
        var messages: [Message] = []
        var offset = 0
        return stream.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let step: HTTP1RequestDecoder.Step
                do throws(HTTP1RequestError) {
                    step = try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...]), into: request)
                } catch {
                    return (messages, error)
                }
                switch step {
                case .needMoreInput: return (messages, nil)
                case .skip(let consumed): offset += consumed
                case .request(let consumed):
                    messages.append(Self.message(request))
                    offset += consumed
                }
            }
            return (messages, nil)
        }
    }

    private static func message(_ request: HTTP1DecodedRequest) -> Message {
        request.withHead { head in
            var fields: [[UInt8]] = []
            for index in 0..<head.fieldCount { head.withField(at: index) { fields += [Array($0), Array($1)] } }
            for index in 0..<head.trailerCount { head.withTrailer(at: index) { fields += [Array($0), Array($1)] } }
            return Message(
                method: head.method.withUnsafeBytes { Array($0) }, target: head.withTarget { Array($0) },
                version: head.version == .http11 ? 11 : 10, keepAlive: head.keepAlive, fields: fields,
                body: Array(request.bodyBytes), isChunked: head.isChunked)
        }
    }

    /// http-parser's messages.
    private func messages(of result: inout hp_result) -> [(message: Message, upgrade: Bool)] {
        var messages: [(Message, Bool)] = []
        let count = result.message_count
        let body = result.body
        withUnsafeBytes(of: &result.messages) { raw in
            let all = raw.bindMemory(to: hp_message.self)
            for index in 0..<count {
                let message = all[index]
                func bytes(_ span: hp_span) -> [UInt8] { Array(stream[span.start..<span.start + span.length]) }
                var fields: [[UInt8]] = []
                withUnsafeBytes(of: message.names) { namesRaw in
                    withUnsafeBytes(of: message.values) { valuesRaw in
                        let names = namesRaw.bindMemory(to: hp_span.self)
                        let values = valuesRaw.bindMemory(to: hp_span.self)
                        for field in 0..<message.field_count {
                            var value = bytes(values[field])
                            while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
                            fields += [bytes(names[field]), value]
                        }
                    }
                }
                let bodyBytes =
                    message.body_length == 0
                    ? [] : Array(UnsafeBufferPointer(start: body! + message.body_start, count: message.body_length))
                messages.append(
                    (
                        Message(
                            method: Array(String(cString: message.method).utf8), target: bytes(message.url),
                            version: Int(message.major) * 10 + Int(message.minor), keepAlive: message.keep_alive != 0,
                            fields: fields, body: bodyBytes),
                        message.upgrade != 0
                    ))
            }
        }
        return messages
    }
}
