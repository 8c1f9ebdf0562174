import Foundation
import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    /// A peer that sends 256 MiB and never reads: the server's resident memory grows by less than 64 MiB and other
    /// peers keep being served.
    ///
    /// The echo handler writes a reply for every frame and the hog never reads them, so its unsent replies reach the
    /// high watermark (``ConnectionLimits/writeHighWatermark``, 1 MiB), the server stops reading it, and then the
    /// kernel buffers fill and the hog's sends block. The hog keeps trying for 10 s.
    ///
    /// It runs in a child process (an exit test) so the resident memory measured is this test's alone, not that of
    /// the tests running beside it. The child writes its figures to standard output; they are attached to the test
    /// as `never-reading-peer.txt` (`swift test --attachments-path DIR` keeps them).
    @Suite struct NeverReadingPeer {
        /// The most the hog tries to send.
        static let hogBytes = 256 << 20
        /// How long the hog keeps trying.
        static let hogDuration = Duration.seconds(10)
        /// The bound on resident memory growth while the hog sends.
        static let rssGrowthLimit = 64 << 20
        /// Peers served while the hog sends.
        static let otherPeers = 10

        @Test func aPeerThatSends256MiBAndNeverReadsGrowsMemoryLittleAndOthersAreServed() async {
            let standardError = ChildProcess.makeStandardErrorFile()
            let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
                [standardError = standardError as String] in
                ChildProcess.prepare(standardErrorPath: standardError, watchdogSeconds: 90)
                try LoopbackTests.NeverReadingPeer.hogWhileOthersAreServed()
            }
            ChildProcess.finish(standardErrorPath: standardError, childSucceeded: result != nil)
            if let result {
                Attachment.record(result.standardOutputContent, named: "never-reading-peer.txt")
            }
        }

        /// The child: one hog, ten echoing peers, resident memory sampled throughout.
        static func hogWhileOthersAreServed() throws {
            let handler = AmplifyingEcho(copies: 1, respectWritability: false)
            let limits = ConnectionLimits()
            try withServer(testConfiguration(), handler: handler) { server, port in
                let peers = try (0..<otherPeers).map { _ in try TestClient(port: port) }
                let requests = (0..<otherPeers).map { frame(pattern(500 + 300 * $0, seed: $0)) }
                var reply = [UInt8](repeating: 0, count: requests.map(\.count).max()!)
                var mismatches = 0
                /// One round trip for every peer; counts replies that differ from their request in any byte.
                func echoRound() throws {
                    for (peer, request) in zip(peers, requests) {
                        try peer.send(request)
                        try peer.receive(into: &reply, count: request.count)
                        if reply[..<request.count] != request[...] { mismatches += 1 }
                    }
                }
                for _ in 0..<20 { try echoRound() }  // warm-up: buffers, pool slabs and the like are in place

                let hog = HogSender(try TestClient(port: port, timeoutSeconds: 1))
                let baseline = ProcessMemory.residentBytes()
                let start = ContinuousClock.now
                hog.start(bytes: hogBytes, for: hogDuration)

                var peak = baseline
                var peakPoolBytes = 0
                var rounds = 0
                var roundsInSecondHalf = 0
                var lastSample = start
                while !hog.isFinished {
                    try echoRound()
                    rounds += 1
                    // Paced (at most 40 rounds a second): served all along, without the echo traffic taking a
                    // 2-core machine's CPU from the hog and the server, or its allocation churn swelling the figure
                    // measured: a debug build allocates a few times per frame, and under AddressSanitizer freed
                    // memory stays resident in its quarantine (up to 256 MiB), about 3 KiB of growth per echo.
                    usleep(25_000)
                    if ContinuousClock.now - start > hogDuration / 2 { roundsInSecondHalf += 1 }
                    peak = max(peak, ProcessMemory.residentBytes())
                    if ContinuousClock.now - lastSample > .milliseconds(100) {
                        lastSample = ContinuousClock.now
                        peakPoolBytes = max(peakPoolBytes, server.statistics().pool.bytesInUse)
                    }
                }
                let elapsed = ContinuousClock.now - start
                let report = hog.report()
                let growth = peak - baseline
                let mebibytes = String(format: "%.1f", Double(growth) / Double(1 << 20))
                let summary =
                    (ProcessMemory.sanitizer.map { "under \($0): " } ?? "")
                    + "hog sent \(report.sent) bytes in \(elapsed), no progress for the last \(report.stalledFor); "
                    + "RSS baseline \(baseline) bytes, peak \(peak) bytes, growth \(mebibytes) MiB; "
                    + "pool peak \(peakPoolBytes) bytes; \(rounds) echo rounds of \(otherPeers) peers\n"
                _ = summary.withCString { write(STDOUT_FILENO, $0, strlen($0)) }

                #expect(report.error == nil, "the hog's sends only ever time out: \(report.error ?? 0)")
                #expect(growth < rssGrowthLimit, "\(summary)")
                // The server stopped reading the hog: it was told it is not writable and never that it is again, its
                // unsent replies reached the high watermark (and stayed within one read budget of it), and the hog's
                // sends made no progress for (most of) the time it kept trying.
                #expect(handler.record.writability.withLock { $0 } == [false])
                #expect(peakPoolBytes >= limits.writeHighWatermark, "\(summary)")
                let poolCeiling =
                    limits.writeHighWatermark + limits.maxReadBytesPerWakeup + 16 * limits.outboundChunkSize
                #expect(peakPoolBytes <= poolCeiling, "\(summary)")
                #expect(report.sent < hogBytes / 4, "\(summary)")
                #expect(report.stalledFor > hogDuration / 2, "\(summary)")
                // The others were served all along, every byte as sent.
                #expect(roundsInSecondHalf >= 10, "\(summary)")
                #expect(mismatches == 0, "\(mismatches) replies differed from their requests")

                // The hog leaves (with unread replies, so its close is a reset): its connection closes with a counted
                // reason and every pooled byte it held goes back.
                hog.close()
                #expect(eventually { server.statistics().connectionsClosed == 1 })
                #expect(eventually { server.statistics().pool.bytesInUse == 0 }, "\(server.statistics().pool)")
                let statistics = server.statistics()
                #expect(statistics.closed(.peerReset) == 1, "\(statistics.closed)")
                #expect(handler.record.reasons.withLock { $0.map(\.kind) } == [.peerReset])
                #expect(statistics.connectionsOpen == otherPeers)
                try echoRound()
                #expect(mismatches == 0)
            }
        }
    }
}

extension TestClient {
    /// Reads exactly `count` bytes into the start of `buffer` (which must be large enough), without allocating.
    fileprivate func receive(into buffer: inout [UInt8], count: Int) throws {
        var offset = 0
        while offset < count {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + offset, count - offset, 0) }
            if received == 0 { throw Failure(description: "EOF after \(offset) of \(count) bytes") }
            if received < 0 { throw Failure(description: "recv: errno \(errno) after \(offset) of \(count) bytes") }
            offset += received
        }
    }
}
