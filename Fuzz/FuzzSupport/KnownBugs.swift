#if canImport(Glibc)
    import Glibc
#endif

/// The known bugs named in `FUZZ_KNOWN_BUGS` (comma-separated): checks for them are skipped, so a target can fuzz
/// past a bug that is reported but not fixed yet. Empty by default: every check is on. The names are listed in
/// README.md.
public let knownBugs: Set<String> = Set(
    (getenv("FUZZ_KNOWN_BUGS").map { String(cString: $0) } ?? "").split(separator: ",").map {
        String($0.filter { !$0.isWhitespace })
    })
