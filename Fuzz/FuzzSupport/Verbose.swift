#if canImport(Glibc)
    import Glibc
#endif

/// True when `FUZZ_VERBOSE` is set: the targets then print what each input did (for replaying one input by hand).
public let verbose = getenv("FUZZ_VERBOSE") != nil

/// Prints `message()` when ``verbose``.
@inline(__always)
public func trace(_ message: @autoclosure () -> String) {
    if verbose { print(message()) }
}
