import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Helpers for exit tests (`#expect(processExitsWith:)`), the tests that need a process of their own: to lower
/// `RLIMIT_NOFILE` without starving the tests running beside them, or to measure resident memory that only the
/// test itself allocates.
///
/// Swift Testing runs an exit test's body in a fresh child process (the same test binary, started with
/// `posix_spawn`) and compares the child's exit status with the expected one. Issues recorded in the child (a failed
/// `#expect`) are sent to the parent and fail the test there; the child still exits normally. A crash, a thrown
/// error, a ThreadSanitizer report (exit code 66) or the watchdog show up as a wrong exit status. The child's
/// standard error is dropped by Swift Testing when the status is wrong, which is exactly when it is needed, so
/// ``prepare(standardErrorPath:watchdogSeconds:)`` sends it to a file the parent reads back in
/// ``finish(standardErrorPath:childSucceeded:sourceLocation:)``.
///
/// The body can capture nothing but `Codable` values named in its capture list (`[path = path as String]`).
enum ChildProcess {
    /// A new empty file for a child's standard error (in `$TMPDIR` or `/tmp`); made by the parent.
    static func makeStandardErrorFile() -> String {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/reactor-child-stderr-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 { close(fd) }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Called first in the child: sends standard error (crash messages, sanitizer reports) to `path`, and arms a
    /// watchdog so a hung child ends with `SIGALRM` after `watchdogSeconds` instead of hanging the test run.
    static func prepare(standardErrorPath path: String, watchdogSeconds: UInt32 = 60) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        if fd >= 0 {
            dup2(fd, STDERR_FILENO)
            close(fd)
        }
        alarm(watchdogSeconds)
    }

    /// Called in the parent after the exit test: when the child did not exit as expected, records what it wrote to
    /// standard error (its last 8 KiB) as an issue. Removes the file either way.
    static func finish(
        standardErrorPath path: String, childSucceeded: Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        defer { unlink(path) }
        guard !childSucceeded else { return }
        let text = readFile(path).map { String(decoding: $0.suffix(8192), as: UTF8.self) } ?? ""
        Issue.record(
            "the child process's standard error:\n\(text.isEmpty ? "(empty)" : text)", sourceLocation: sourceLocation)
    }

    /// The contents of the file at `path`, or nil if it cannot be opened.
    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return contents }
            contents += buffer.prefix(count)
        }
    }
}
