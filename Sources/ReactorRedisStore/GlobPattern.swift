/// Glob matching as redis 7.0 does it for KEYS, SCAN's MATCH and CONFIG GET (`stringmatchlen` in `src/util.c`):
/// `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` (a reversed range is swapped; bytes compare as C's signed `char`), `\`
/// escapes, and an unclosed `[` taken as running to the end of the pattern. The "skip longer matches" cut keeps it
/// polynomial.
struct GlobPattern {
    let pattern: UnsafeRawBufferPointer
    /// Compare letters ignoring case (CONFIG GET's names).
    var ignoringCase = false

    func matches(_ string: UnsafeRawBufferPointer) -> Bool {
        var skipLongerMatches = false
        return match(patternAt: 0, stringAt: 0, string, &skipLongerMatches)
    }

    /// The pattern byte at `index`, or 0 past the end (where redis reads the string's terminating NUL).
    @inline(__always)
    private func byte(_ index: Int) -> UInt8 { index < pattern.count ? pattern[index] : 0 }

    @inline(__always)
    private func fold(_ byte: UInt8) -> Int {
        let folded = ignoringCase && byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
        return Int(Int8(bitPattern: folded))
    }

    private func match(
        patternAt start: Int, stringAt stringStart: Int, _ string: UnsafeRawBufferPointer,
        _ skipLongerMatches: inout Bool
    ) -> Bool {
        var p = start
        var s = stringStart
        while p < pattern.count && s < string.count {
            switch pattern[p] {
            case UInt8(ascii: "*"):
                while p < pattern.count && byte(p + 1) == UInt8(ascii: "*") { p += 1 }
                if p == pattern.count - 1 { return true }
                while s < string.count {
                    if match(patternAt: p + 1, stringAt: s, string, &skipLongerMatches) { return true }
                    if skipLongerMatches { return false }
                    s += 1
                }
                skipLongerMatches = true
                return false
            case UInt8(ascii: "?"):
                s += 1
            case UInt8(ascii: "["):
                p += 1
                let negated = byte(p) == UInt8(ascii: "^")
                if negated { p += 1 }
                var matched = false
                while true {
                    if byte(p) == UInt8(ascii: "\\") && pattern.count - p >= 2 {
                        p += 1
                        if pattern[p] == string[s] { matched = true }
                    } else if byte(p) == UInt8(ascii: "]") {
                        break
                    } else if p >= pattern.count {
                        p -= 1
                        break
                    } else if pattern.count - p >= 3 && pattern[p + 1] == UInt8(ascii: "-") {
                        var low = fold(pattern[p])
                        var high = fold(pattern[p + 2])
                        if low > high { swap(&low, &high) }
                        let value = fold(string[s])
                        p += 2
                        if value >= low && value <= high { matched = true }
                    } else if fold(pattern[p]) == fold(string[s]) {
                        matched = true
                    }
                    p += 1
                }
                if negated { matched.toggle() }
                if !matched { return false }
                s += 1
            default:
                if pattern[p] == UInt8(ascii: "\\") && pattern.count - p >= 2 { p += 1 }
                if fold(pattern[p]) != fold(string[s]) { return false }
                s += 1
            }
            p += 1
            if s == string.count {
                while byte(p) == UInt8(ascii: "*") { p += 1 }
                break
            }
        }
        return p == pattern.count && s == string.count
    }
}
