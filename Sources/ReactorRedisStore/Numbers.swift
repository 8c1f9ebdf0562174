import ReactorRESP

#if canImport(Glibc)
    import Glibc
#endif

/// Numbers in arguments and values, parsed and printed exactly as redis 7.0 does.
enum Numbers {
    /// `bytes` as a 64-bit integer under `string2ll`'s rules (no `+`, no leading zeros or blanks, at most 20
    /// characters), or nil.
    @inline(__always)
    static func integer(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let start = bytes.baseAddress else { return nil }
        return RESPRequestDecoder.parseInteger(start, count: bytes.count)
    }

    /// `bytes` as a double under redis's `getDoubleFromObject`: `strtod` must take the whole string (so `inf`,
    /// `1e3`, `0x10` and `.5` are numbers), with no leading blank, no overflow or underflow to 0, and not NaN.
    static func double(_ bytes: UnsafeRawBufferPointer) -> Double? {
        // Most scores are plain integers ("0", "42"): exact as a Double up to 2^53, and no strtod (which copies
        // the bytes and reads the locale). Anything else (a sign of +, -0, a fraction, an exponent…) takes strtod.
        if let whole = integer(bytes), whole.magnitude <= 1 << 53 { return Double(whole) }
        guard let first = bytes.first, isspace(Int32(first)) == 0 else { return nil }
        let (value, end, outOfRange) = parseDouble(bytes)
        guard end == bytes.count, !value.isNaN, !(outOfRange && (value.isInfinite || value == 0)) else { return nil }
        return value
    }

    /// `bytes` as a bound of a score range (`zslParseRange`): `strtod` up to the end or a NUL, not NaN; blanks
    /// before it and an empty string (0) are accepted, as redis accepts them.
    static func rangeBound(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let (value, end, _) = parseDouble(bytes)
        guard end == bytes.count || bytes[end] == 0, !value.isNaN else { return nil }
        return value
    }

    /// `strtod` over a NUL-terminated copy of `bytes`: the value, where it stopped, and whether it set ERANGE.
    private static func parseDouble(_ bytes: UnsafeRawBufferPointer) -> (Double, Int, Bool) {
        withUnsafeTemporaryAllocation(byteCount: bytes.count + 1, alignment: 1) { buffer in
            if bytes.count > 0 { buffer.copyMemory(from: bytes) }
            buffer[bytes.count] = 0
            let text = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            let value = strtod(text, &end)
            return (value, end.map { $0 - text } ?? 0, errno == ERANGE)
        }
    }

    /// `bytes` as SCAN's cursor: `strtoul` over the whole string with no leading blank and no overflow, so `-1` is
    /// 2^64-1 and an empty string is 0 (as in redis's `parseScanCursorOrReply`).
    static func cursor(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        var index = 0
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            index = 1
        }
        if index == bytes.count { return bytes.isEmpty ? 0 : nil }
        var value: UInt64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times.addingReportingOverflow(UInt64(digit))
            if overflowA || overflowB { return nil }
            value = sum
            index += 1
        }
        return negative ? 0 &- value : value
    }

    /// Calls `body` with `value` in decimal.
    @inline(__always)
    static func withDecimal<Result>(_ value: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withUnsafeTemporaryAllocation(byteCount: 24, alignment: 8) { buffer in
            let length = RESPFormat.storeDecimal(value, at: buffer.baseAddress!)
            return body(UnsafeRawBufferPointer(rebasing: buffer[..<length]))
        }
    }

    /// Calls `body` with `value` as redis 7.0 prints a score (`addReplyDouble`): `%.17g`, and `inf` / `-inf`.
    static func withScore<Result>(_ value: Double, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if value.isInfinite {
            let text: StaticString = value > 0 ? "inf" : "-inf"
            return body(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        // An integral score below 1e17 prints as its digits under %.17g; most scores are, so skip the formatter.
        if value == value.rounded(.towardZero) && value.magnitude < 1e17 && !(value == 0 && value.sign == .minus) {
            return withDecimal(Int(value), body)
        }
        return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buffer in
            let length = withVaList([value]) { arguments in
                vsnprintf(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), 64, "%.17g", arguments)
            }
            return body(UnsafeRawBufferPointer(rebasing: buffer[..<Int(length)]))
        }
    }

    /// The indexes `start...end` of a sequence of `count` elements, negative ones counting from the end, clamped
    /// as redis does (`addListRangeReply`, and ZRANGE's ranks); nil if empty.
    static func clampedRange(_ start: Int, _ end: Int, count: Int) -> ClosedRange<Int>? {
        var start = start < 0 ? count + start : start
        var end = end < 0 ? count + end : end
        if start < 0 { start = 0 }
        guard start <= end && start < count else { return nil }
        if end >= count { end = count - 1 }
        return start...end
    }
}
