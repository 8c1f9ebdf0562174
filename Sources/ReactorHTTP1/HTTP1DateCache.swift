#if canImport(Glibc)
    import Glibc
#endif

/// The value of the `Date` header (RFC 9110 §6.6.1, IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`, 29 bytes),
/// formatted once per second per loop and reused for every response in that second.
///
/// A response reads the clock with `clock_gettime(CLOCK_REALTIME_COARSE)` (a vDSO read, no system call) and
/// re-formats only when the second changed. One per loop (inside the loop's ``HTTP1DecodedRequest``); not
/// thread-safe.
public final class HTTP1DateCache {
    /// The formatted value's length in bytes.
    public static let length = 29
    @usableFromInline let bytes: UnsafeMutableRawPointer
    private var second = Int.min

    /// A cache with nothing formatted yet.
    public init() {
        bytes = .allocate(byteCount: Self.length, alignment: 8)
        bytes.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: " "), count: Self.length)
    }

    deinit { bytes.deallocate() }

    /// The current second's value (29 bytes, valid until the next call).
    public func current() -> UnsafeRawBufferPointer {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        let seconds = Int(now.tv_sec)
        if seconds != second {
            second = seconds
            Self.format(seconds, into: bytes)
        }
        return UnsafeRawBufferPointer(start: bytes, count: Self.length)
    }

    /// Formats `seconds` since the epoch as IMF-fixdate into 29 bytes at `out`.
    static func format(_ seconds: Int, into out: UnsafeMutableRawPointer) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days: StaticString = "SunMonTueWedThuFriSat"
        let months: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
        var position = 0
        func put(_ byte: UInt8) {
            out.storeBytes(of: byte, toByteOffset: position, as: UInt8.self)
            position += 1
        }
        func putTwoDigits(_ value: Int) {
            put(UInt8(ascii: "0") + UInt8(value / 10 % 10))
            put(UInt8(ascii: "0") + UInt8(value % 10))
        }
        let day = Int(parts.tm_wday) * 3
        for index in 0..<3 { put(days.utf8Start[day + index]) }
        put(UInt8(ascii: ","))
        put(UInt8(ascii: " "))
        putTwoDigits(Int(parts.tm_mday))
        put(UInt8(ascii: " "))
        let month = Int(parts.tm_mon) * 3
        for index in 0..<3 { put(months.utf8Start[month + index]) }
        put(UInt8(ascii: " "))
        let year = Int(parts.tm_year) + 1900
        putTwoDigits(year / 100)
        putTwoDigits(year % 100)
        put(UInt8(ascii: " "))
        putTwoDigits(Int(parts.tm_hour))
        put(UInt8(ascii: ":"))
        putTwoDigits(Int(parts.tm_min))
        put(UInt8(ascii: ":"))
        putTwoDigits(Int(parts.tm_sec))
        for byte in " GMT".utf8 { put(byte) }
    }
}
