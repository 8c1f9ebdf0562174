#if canImport(Glibc)
    import Glibc
#endif

/// This process's resident memory, from `/proc/self/statm`.
enum ProcessMemory {
    /// Resident set size in bytes right now (0 if `/proc` cannot be read).
    ///
    /// Allocates nothing, even in a debug build (a `String` path or iterating a buffer slice would), so sampling it
    /// in a loop cannot itself grow the figure; under AddressSanitizer every freed allocation stays resident for a
    /// while in its quarantine.
    static func residentBytes() -> Int {
        let path: StaticString = "/proc/self/statm"
        let fd = path.withUTF8Buffer { name in
            name.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_RDONLY | O_CLOEXEC) }
        }
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        let pages = withUnsafeMutableBytes(of: &text) { raw -> Int in
            let count = read(fd, raw.baseAddress, raw.count)
            // "size resident shared text lib data dt", in pages: the second field.
            var index = 0
            while index < count && raw[index] != UInt8(ascii: " ") { index += 1 }
            index += 1
            var pages = 0
            while index < count && raw[index] >= UInt8(ascii: "0") && raw[index] <= UInt8(ascii: "9") {
                pages = pages * 10 + Int(raw[index] &- UInt8(ascii: "0"))
                index += 1
            }
            return pages
        }
        return pages * Int(sysconf(CInt(_SC_PAGESIZE)))
    }

    /// The sanitizer this process runs under ("AddressSanitizer", "ThreadSanitizer"), if any: resident memory
    /// includes their bookkeeping (shadow memory, AddressSanitizer's quarantine of freed memory).
    static var sanitizer: String? {
        if dlsym(nil, "__asan_init") != nil { return "AddressSanitizer" }
        if dlsym(nil, "__tsan_init") != nil { return "ThreadSanitizer" }
        return nil
    }
}
