import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    /// When `accept4` fails with `EMFILE` the server keeps serving its connections, pauses accepting (instead of
    /// spinning on a listener that stays readable), logs once, and accepts again when descriptors free up.
    ///
    /// Each case lowers `RLIMIT_NOFILE` in a child process of its own (an exit test): the limit is per process, and
    /// lowered in the test process it would also fail whatever the tests running beside this suite open meanwhile.
    /// Checks in the child are `#expect`s (forwarded to this process); the child must also exit normally.
    @Suite struct DescriptorExhaustion {
        @Test func acceptPausesWhenDescriptorsRunOutAndResumesWhenTheyAreBack() async {
            let standardError = ChildProcess.makeStandardErrorFile()
            let result = await #expect(processExitsWith: .success) { [standardError = standardError as String] in
                ChildProcess.prepare(standardErrorPath: standardError)
                try LoopbackTests.DescriptorExhaustion.raisingTheLimitAgainResumesAccepting()
            }
            ChildProcess.finish(standardErrorPath: standardError, childSucceeded: result != nil)
        }

        @Test func closingConnectionsFreesDescriptorsAndAcceptingResumes() async {
            let standardError = ChildProcess.makeStandardErrorFile()
            let result = await #expect(processExitsWith: .success) { [standardError = standardError as String] in
                ChildProcess.prepare(standardErrorPath: standardError)
                try LoopbackTests.DescriptorExhaustion.closingConnectionsResumesAccepting()
            }
            ChildProcess.finish(standardErrorPath: standardError, childSucceeded: result != nil)
        }

        /// The child of the first case: the limit is lowered until no descriptor is left, then put back.
        static func raisingTheLimitAgainResumesAccepting() throws {
            let log = RecordingLogHandler.Record()
            var configuration = testConfiguration(subReactors: 1)
            configuration.logger = log.logger()
            try withServer(configuration, handler: RecordingEcho()) { server, port in
                let served = try TestClient(port: port)
                try served.send(frame([1]))
                #expect(try served.receiveFrame() == [1])

                // Sockets for the waiting clients are made now; connecting later takes no descriptor.
                let waiting = try (0..<3).map { _ in try TestClient(unconnectedWithTimeout: 10) }
                let exhaustedAt = ContinuousClock.now
                let original = exhaustDescriptors()
                defer { restoreDescriptorLimit(original) }

                // The kernel completes the handshakes; the server's accept4 fails with EMFILE.
                for client in waiting { try client.connect(port: port) }
                #expect(eventually { server.statistics().acceptErrors > 0 })
                // Existing connections are still served while accepting is paused, for a while (several pauses).
                var round = 0
                while round < 20 || ContinuousClock.now - exhaustedAt < .milliseconds(500) {
                    try served.send(frame([UInt8(truncatingIfNeeded: round)]))
                    #expect(try served.receiveFrame() == [UInt8(truncatingIfNeeded: round)])
                    round += 1
                }
                let accepted = server.statistics().connectionsAccepted
                #expect(accepted == 1, "nothing accepted without descriptors: \(accepted)")

                // Descriptors come back: the paused acceptor picks the waiting clients up on its own.
                restoreDescriptorLimit(original)
                for (index, client) in waiting.enumerated() {
                    try client.send(frame([UInt8(index), 9]))
                    #expect(try client.receiveFrame() == [UInt8(index), 9])
                }
                let statistics = server.statistics()
                #expect(statistics.connectionsAccepted == 4, "\(statistics.connectionsAccepted) accepted")
                checkPausedNotSpinning(statistics, since: exhaustedAt, log: log)
            }
        }

        /// The child of the second case: the limit stays low, and closing other connections frees descriptors.
        static func closingConnectionsResumesAccepting() throws {
            let log = RecordingLogHandler.Record()
            var configuration = testConfiguration(subReactors: 1)
            configuration.logger = log.logger()
            let handler = RecordingEcho()
            try withServer(configuration, handler: handler) { server, port in
                let served = try TestClient(port: port)
                let others = try (0..<3).map { _ in try TestClient(port: port) }
                for (index, client) in ([served] + others).enumerated() {
                    try client.send(frame([UInt8(index)]))
                    #expect(try client.receiveFrame() == [UInt8(index)])
                }

                let waiting = try (0..<3).map { _ in try TestClient(unconnectedWithTimeout: 10) }
                let exhaustedAt = ContinuousClock.now
                let original = exhaustDescriptors()
                defer { restoreDescriptorLimit(original) }

                for client in waiting { try client.connect(port: port) }
                #expect(eventually { server.statistics().acceptErrors > 0 })
                try served.send(frame([7]))
                #expect(try served.receiveFrame() == [7])
                let accepted = server.statistics().connectionsAccepted
                #expect(accepted == 4, "nothing accepted without descriptors: \(accepted)")

                // Three peers shut their side: the server closes its descriptors for them (ours stay open, so only the
                // server's closes can free numbers), and the paused acceptor takes them for the waiting clients, under
                // the same low limit.
                for client in others { client.shutdownWrite() }
                defer { withExtendedLifetime(others) {} }
                for (index, client) in waiting.enumerated() {
                    try client.send(frame([UInt8(index), 9]))
                    #expect(try client.receiveFrame() == [UInt8(index), 9])
                }
                try served.send(frame([8]))
                #expect(try served.receiveFrame() == [8])
                #expect(eventually { server.statistics().closed(.peerClosed) == 3 })
                #expect(eventually { handler.record.reasons.withLock { $0.count } == 3 })
                #expect(handler.record.reasons.withLock { $0.map(\.kind) } == [.peerClosed, .peerClosed, .peerClosed])
                let statistics = server.statistics()
                #expect(statistics.connectionsAccepted == 7, "\(statistics.connectionsAccepted) accepted")
                #expect(statistics.connectionsOpen == 4, "\(statistics.connectionsOpen) open")
                checkPausedNotSpinning(statistics, since: exhaustedAt, log: log)
            }
        }

        /// Accepting paused between failures rather than spinning, and the exhaustion was logged once.
        ///
        /// Each pause is 100 ms and ends with one `accept4` (which fails again while descriptors are short), so the
        /// failures are bounded by the time descriptors were short; a spinning acceptor fails millions of times.
        private static func checkPausedNotSpinning(
            _ statistics: ReactorStatistics, since exhaustedAt: ContinuousClock.Instant, log: RecordingLogHandler.Record
        ) {
            let elapsed = ContinuousClock.now - exhaustedAt
            let pauses = Int(elapsed / .milliseconds(100)) + 1
            let errors = statistics.acceptErrors
            #expect(errors > 0 && errors < 200, "\(errors) failed accepts")
            #expect(errors <= pauses, "at most one failed accept per pause: \(errors) in \(elapsed)")
            let messages = log.messages.withLock { $0.map(\.message) }
            #expect(log.count(containing: "accept paused") == 1, "logged once: \(messages)")
            #expect(messages.count == 1, "nothing else logged at warning or above: \(messages)")
        }

        /// Lowers the soft `RLIMIT_NOFILE` to the lowest free descriptor number, so the next descriptor this process
        /// asks for (the server's `accept4`) fails with `EMFILE`. Returns the limit to restore.
        private static func exhaustDescriptors() -> rlimit {
            var original = rlimit()
            getrlimit(CInt(RLIMIT_NOFILE.rawValue), &original)
            // A new descriptor gets the lowest free number: this one.
            let lowestFree = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard lowestFree >= 0 else {
                Issue.record("open(/dev/null): errno \(errno)")
                return original
            }
            close(lowestFree)
            var exhausted = original
            exhausted.rlim_cur = rlim_t(lowestFree)
            #expect(setrlimit(CInt(RLIMIT_NOFILE.rawValue), &exhausted) == 0, "setrlimit: errno \(errno)")
            return original
        }

        /// Puts back the limit ``exhaustDescriptors()`` returned.
        private static func restoreDescriptorLimit(_ original: rlimit) {
            var limit = original
            setrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}
