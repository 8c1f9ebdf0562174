import Foundation
import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    /// Memory a burst needed goes back to the system once the burst is over: 16 peers each write up to 12 MiB of
    /// frames without reading any reply, then reset; 10 s later the server's resident memory is within 8 MiB of
    /// where it was before the burst.
    ///
    /// During the burst each peer's unsent replies reach the high watermark and the server stops reading it, so the
    /// loops' buffer pools grow by about a watermark and a read budget per peer. Once the peers are gone every chunk
    /// is free again, and the pools unmap what two trim intervals (``SlabPool``) did not need.
    ///
    /// In a child process (an exit test), so the resident memory measured is this test's alone. Its figures are
    /// attached as `burst-memory.txt`. Under a sanitizer resident memory includes the sanitizer's own bookkeeping
    /// (AddressSanitizer keeps freed memory in a quarantine, and the pool maps through malloc there), so only the
    /// pool's own figures are checked.
    @Suite struct BurstMemory {
        static let peers = 16
        static let bytesPerPeer = 12 << 20
        /// How long each peer keeps trying to send its share.
        static let burstDuration = Duration.seconds(3)
        /// How far above its level before the burst resident memory may stay.
        static let retainedLimit = 8 << 20
        /// How long after the burst the memory has to come back.
        static let settleTime = Duration.seconds(10)

        @Test func memoryGrownInABurstIsGivenBackWithinTenSeconds() async {
            let standardError = ChildProcess.makeStandardErrorFile()
            let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
                [standardError = standardError as String] in
                ChildProcess.prepare(standardErrorPath: standardError, watchdogSeconds: 60)
                try LoopbackTests.BurstMemory.burstThenQuiet()
            }
            ChildProcess.finish(standardErrorPath: standardError, childSucceeded: result != nil)
            if let result {
                Attachment.record(result.standardOutputContent, named: "burst-memory.txt")
            }
        }

        /// The child: a warm-up, the burst, the resets, then resident memory sampled until it is back.
        static func burstThenQuiet() throws {
            let handler = AmplifyingEcho(copies: 1, respectWritability: false)
            try withServer(testConfiguration(), handler: handler) { server, port in
                let peer = try TestClient(port: port)
                /// One echo of each size: the server's steady-state buffers are in place.
                func echoRound() throws {
                    for size in [100, 20_000, 200_000] {
                        let request = frame(pattern(size, seed: size))
                        try peer.send(request)
                        #expect(try peer.receive(exactly: request.count) == request)
                    }
                }
                for _ in 0..<3 { try echoRound() }
                let before = ProcessMemory.residentBytes()

                let hogs = try (0..<peers).map { _ in HogSender(try TestClient(port: port, timeoutSeconds: 1)) }
                for hog in hogs { hog.start(bytes: bytesPerPeer, for: burstDuration) }
                var peak = before
                var peakPoolBytes = 0
                while !hogs.allSatisfy(\.isFinished) {
                    usleep(50_000)
                    peak = max(peak, ProcessMemory.residentBytes())
                    peakPoolBytes = max(peakPoolBytes, server.statistics().pool.bytesReserved)
                }
                let sent = hogs.reduce(0) { $0 + $1.report().sent }
                for hog in hogs { hog.close() }  // with replies unread: resets
                #expect(eventually { server.statistics().connectionsClosed == peers })
                let burstEnded = ContinuousClock.now

                var after = ProcessMemory.residentBytes()
                var poolBytes = server.statistics().pool.bytesReserved
                while ContinuousClock.now - burstEnded < settleTime {
                    let settled = ProcessMemory.sanitizer != nil || after - before < retainedLimit
                    if settled && poolBytes < retainedLimit / 4 { break }
                    usleep(100_000)
                    after = ProcessMemory.residentBytes()
                    poolBytes = server.statistics().pool.bytesReserved
                }
                let settledAfter = ContinuousClock.now - burstEnded
                let statistics = server.statistics()
                let sanitizer = ProcessMemory.sanitizer.map { "under \($0): " } ?? ""
                let burst = "\(peers) peers sent \(sent) bytes without reading; "
                let resident =
                    "RSS before \(before) bytes, peak \(peak) (+\(mebibytes(peak - before)) MiB), after \(after) "
                    + "(+\(mebibytes(after - before)) MiB) \(settledAfter) after the resets; "
                let pool =
                    "pool reserved: peak \(peakPoolBytes), after \(poolBytes), "
                    + "returned \(statistics.pool.bytesReturned) bytes\n"
                let summary = sanitizer + burst + resident + pool
                _ = summary.withCString { write(STDOUT_FILENO, $0, strlen($0)) }

                // The burst really took memory, and gave it back.
                #expect(peakPoolBytes >= peers * ConnectionLimits().writeHighWatermark, "\(summary)")
                #expect(poolBytes < retainedLimit / 4, "\(summary)")
                #expect(statistics.pool.bytesReturned >= peakPoolBytes - retainedLimit / 4, "\(summary)")
                if ProcessMemory.sanitizer == nil {
                    #expect(peak - before > retainedLimit, "\(summary)")
                    #expect(after - before < retainedLimit, "\(summary)")
                }
                // Still serving.
                try echoRound()
            }
        }

        static func mebibytes(_ bytes: Int) -> String {
            String(format: "%.1f", Double(bytes) / Double(1 << 20))
        }
    }
}
