#if canImport(Glibc)
    import Glibc
#endif

extension HTTP1RequestDecoder {
    /// Where the walk over a chunked body stopped.
    enum ChunkWalk {
        /// The chunk-size line at `chunkStart` (after `decoded` data bytes) needs `needed` bytes of input.
        case incomplete(chunkStart: Int, decoded: Int, needed: Int)
        /// The body ends at `end` (after its trailer section) with `decoded` data bytes and `trailers` fields.
        case complete(end: Int, decoded: Int, trailers: Int)
    }

    /// Walks the chunks of a chunked body (RFC 9112 §7.1) from the chunk-size line at `position`:
    /// `chunk-size [ chunk-ext ] CRLF chunk-data CRLF`, then `last-chunk trailer-section CRLF`. With `copyingInto`
    /// it copies each chunk's data there and records the trailer fields in `request` (the second pass, over a
    /// complete body); without, it only checks.
    func walkChunks(
        _ base: UnsafeRawPointer, count total: Int, from position: Int, decoded: Int,
        copyingInto output: UnsafeMutableRawPointer? = nil, request: HTTP1DecodedRequest? = nil
    ) throws(HTTP1RequestError) -> ChunkWalk {
        var position = position
        var decoded = decoded
        while true {
            let chunkStart = position
            let searched = min(total - position, maxChunkLineLength + 2)
            guard searched > 0, let found = memchr(base + position, Int32(HTTP1Bytes.lf), searched) else {
                if total - position > maxChunkLineLength + 1 { throw .malformedChunk }
                return .incomplete(chunkStart: chunkStart, decoded: decoded, needed: total + 1)
            }
            let lf = UnsafeRawPointer(found) - base
            guard lf > position, base.load(fromByteOffset: lf - 1, as: UInt8.self) == HTTP1Bytes.cr else {
                throw .malformedChunk
            }
            let size = try parseChunkSize(base, from: position, to: lf - 1)
            if size > maxBodyLength - decoded { throw .bodyTooLarge }
            let dataStart = lf + 1
            if size == 0 {
                guard let (end, trailers) = try walkTrailers(base, count: total, from: dataStart, into: request) else {
                    return .incomplete(chunkStart: chunkStart, decoded: decoded, needed: total + 1)
                }
                return .complete(end: end, decoded: decoded, trailers: trailers)
            }
            let dataEnd = dataStart + size
            guard dataEnd + 2 <= total else {
                return .incomplete(chunkStart: chunkStart, decoded: decoded, needed: dataEnd + 2)
            }
            guard base.load(fromByteOffset: dataEnd, as: UInt8.self) == HTTP1Bytes.cr,
                base.load(fromByteOffset: dataEnd + 1, as: UInt8.self) == HTTP1Bytes.lf
            else { throw .malformedChunk }
            if let output { (output + decoded).copyMemory(from: base + dataStart, byteCount: size) }
            decoded += size
            position = dataEnd + 2
        }
    }

    /// `chunk-size [ chunk-ext ]` in `base[start..<end]`: hex digits without overflow, then nothing or
    /// `BWS ";" …` extensions, which are checked for control bytes and otherwise ignored (RFC 9112 §7.1.1).
    private func parseChunkSize(
        _ base: UnsafeRawPointer, from start: Int, to end: Int
    ) throws(HTTP1RequestError) -> Int {
        var position = start
        var size = 0
        while position < end, let digit = HTTP1Bytes.hexValue(base.load(fromByteOffset: position, as: UInt8.self)) {
            guard size <= (Int.max >> 4) else { throw .malformedChunk }
            size = size << 4 | digit
            position += 1
        }
        guard position > start else { throw .malformedChunk }
        while position < end && HTTP1Bytes.isBlank(base.load(fromByteOffset: position, as: UInt8.self)) {
            position += 1
        }
        guard position < end else { return size }
        guard base.load(fromByteOffset: position, as: UInt8.self) == UInt8(ascii: ";") else { throw .malformedChunk }
        while position < end {
            if HTTP1Bytes.isForbiddenInValue(base.load(fromByteOffset: position, as: UInt8.self)) {
                throw .malformedChunk
            }
            position += 1
        }
        return size
    }

    /// The trailer section from `position` to its empty line (RFC 9112 §7.1.2): its end and its field count, or
    /// nil if it has not completely arrived. Its fields are checked like header fields and, with `request`,
    /// recorded as trailers.
    private func walkTrailers(
        _ base: UnsafeRawPointer, count total: Int, from start: Int, into request: HTTP1DecodedRequest?
    ) throws(HTTP1RequestError) -> (end: Int, trailers: Int)? {
        var position = start
        var trailers = 0
        while true {
            guard position < total,
                let found = memchr(base + position, Int32(HTTP1Bytes.lf), total - position)
            else {
                if total - start > maxHeaderSectionLength { throw .headerSectionTooLarge }
                return nil
            }
            let lf = UnsafeRawPointer(found) - base
            if lf + 1 - start > maxHeaderSectionLength { throw .headerSectionTooLarge }
            guard lf > position, base.load(fromByteOffset: lf - 1, as: UInt8.self) == HTTP1Bytes.cr else {
                throw .bareLineFeedOrCarriageReturn
            }
            if lf - 1 == position { return (lf + 1, trailers) }
            let field = try Self.parseFieldLine(base, from: position, to: lf - 1)
            // Framing fields have no place in a trailer section (RFC 9110 §6.5.1): refused, not ignored, so that
            // no parser before us can read them differently.
            let name = base + field.nameStart
            if HTTP1Bytes.equalsIgnoringCase(name, count: field.nameCount, "content-length")
                || HTTP1Bytes.equalsIgnoringCase(name, count: field.nameCount, "transfer-encoding")
            {
                throw .malformedField
            }
            trailers += 1
            if trailers > maxFieldCount { throw .headerSectionTooLarge }
            if let request {
                // Field offsets are 32-bit: a trailer more than 2 GiB into a request is refused.
                if lf > Int(Int32.max) { throw .headerSectionTooLarge }
                request.appendField(
                    nameStart: field.nameStart, nameCount: field.nameCount, valueStart: field.valueStart,
                    valueCount: field.valueCount)
                request.trailerCount += 1
            }
            position = lf + 1
        }
    }
}
