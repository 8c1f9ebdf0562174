import ReactorCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension LoopbackTests {
    @Suite struct DescriptorExhaustion {
        /// The lowest descriptor number that is free right now (what the next accept would get).
        private func lowestFreeDescriptor() -> CInt {
            let fd = dup(0)
            close(fd)
            return fd
        }

        @Test func acceptPausesWhenDescriptorsRunOutAndResumesWhenTheyAreBack() throws {
            try withServer(testConfiguration(subReactors: 1), handler: RecordingEcho()) { server, port in
                let served = try TestClient(port: port)
                try served.send(frame([1]))
                #expect(try served.receiveFrame() == [1])

                // Sockets for the waiting clients are made now; connecting later takes no descriptor.
                let waiting = try (0..<3).map { _ in try TestClient(unconnectedWithTimeout: 10) }
                var original = rlimit()
                getrlimit(CInt(RLIMIT_NOFILE.rawValue), &original)
                var exhausted = original
                exhausted.rlim_cur = rlim_t(lowestFreeDescriptor())
                #expect(setrlimit(CInt(RLIMIT_NOFILE.rawValue), &exhausted) == 0)
                defer { setrlimit(CInt(RLIMIT_NOFILE.rawValue), &original) }

                // The kernel completes the handshakes; the server's accept4 fails with EMFILE.
                for client in waiting { try client.connect(port: port) }
                #expect(eventually { server.statistics().acceptErrors > 0 })
                // Existing connections are still served while accepting is paused.
                for round in 0..<20 {
                    try served.send(frame([UInt8(round)]))
                    #expect(try served.receiveFrame() == [UInt8(round)])
                }

                // Descriptors come back: the paused acceptor picks the waiting clients up on its own.
                setrlimit(CInt(RLIMIT_NOFILE.rawValue), &original)
                for (index, client) in waiting.enumerated() {
                    try client.send(frame([UInt8(index), 9]))
                    #expect(try client.receiveFrame() == [UInt8(index), 9])
                }
                let statistics = server.statistics()
                #expect(statistics.connectionsAccepted == 4)
                // Paused, not spinning: one failed accept per 100 ms pause at most, not thousands.
                #expect(statistics.acceptErrors < 200)
            }
        }
    }
}
