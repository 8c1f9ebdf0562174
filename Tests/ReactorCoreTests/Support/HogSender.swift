import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The never-reading peer: sends 64 KiB blocks of 16 KiB frames from a thread of its own, retrying the sends that
/// time out (the client's 1 s send timeout), until it sent its quota or its time is up.
final class HogSender: @unchecked Sendable {  // the client is used by the sending thread only until `finished`
    /// What the sending thread found.
    struct Report: Sendable {
        /// Bytes the kernel took.
        var sent = 0
        /// How long before the end the last byte was taken.
        var stalledFor = Duration.zero
        /// The `errno` of a send that failed other than by timing out.
        var error: CInt?
    }

    private var client: TestClient?
    private let state = Locked<(finished: Bool, report: Report)>((false, Report()))

    init(_ client: TestClient) {
        self.client = client
    }

    /// Whether the sending thread is done.
    var isFinished: Bool { state.withLock { $0.finished } }

    /// What the sending thread found (meaningful once ``isFinished``).
    func report() -> Report { state.withLock { $0.report } }

    /// Starts the sending thread.
    func start(bytes quota: Int, for duration: Duration) {
        let fd = client!.fd
        let block = (0..<4).flatMap { _ in frame(pattern(16 * 1024 - 4)) }
        let thread = Thread { [state] in
            var report = Report()
            var offset = 0
            let deadline = ContinuousClock.now + duration
            var lastProgress = ContinuousClock.now
            while report.sent < quota && ContinuousClock.now < deadline {
                let written = block.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, CInt(MSG_NOSIGNAL))
                }
                if written > 0 {
                    report.sent += written
                    offset = (offset + written) % block.count
                    lastProgress = ContinuousClock.now
                } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    report.error = errno
                    break
                }
            }
            report.stalledFor = ContinuousClock.now - lastProgress
            state.withLock { $0 = (true, report) }
        }
        thread.start()
    }

    /// Closes the hog's socket (once the sending thread is done).
    func close() {
        precondition(isFinished)
        client = nil
    }
}
