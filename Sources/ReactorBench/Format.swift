/// Number formatting for the results table (no Foundation needed).
enum Format {
    /// `1234567` as `1.23M`, `12345` as `12.3k`.
    static func count(_ value: Double) -> String {
        if value >= 1_000_000 { return fixed(value / 1_000_000, 2) + "M" }
        if value >= 1_000 { return fixed(value / 1_000, 1) + "k" }
        return fixed(value, 0)
    }

    /// `1234567` as `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = value < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }

    /// Seconds with one decimal: `2.0s`.
    static func seconds(_ value: Double) -> String { fixed(value, 1) + "s" }

    /// Microseconds, switching to milliseconds past 10 ms.
    static func micros(_ value: Double) -> String {
        if value >= 10_000 { return fixed(value / 1000, 1) + "ms" }
        return fixed(value, value < 100 ? 1 : 0) + "us"
    }

    /// Bytes as KiB/MiB.
    static func bytes(_ value: Double) -> String {
        if abs(value) >= 1_048_576 { return fixed(value / 1_048_576, 1) + " MiB" }
        if abs(value) >= 1024 { return fixed(value / 1024, 1) + " KiB" }
        return fixed(value, 0) + " B"
    }

    /// `value` with `decimals` digits after the point.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if decimals == 0 {
            if let dot = text.firstIndex(of: ".") { text = String(text[..<dot]) }
            return text
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        return parts[0] + "." + String((fraction + String(repeating: "0", count: decimals)).prefix(decimals))
    }

    /// Right-aligns `text` in `width` columns.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// Left-aligns `text` in `width` columns.
    static func padRight(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// Prints `line` and flushes at once, so results show up line by line even when stdout is a pipe or a file.
func emit(_ line: String) {
    print(line)
    fflush(nil)
}
