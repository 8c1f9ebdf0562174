import ReactorCore

#if canImport(Glibc)
    import Glibc
#endif

/// Drives the `burst-memory` scenario against a server in another process (so the RSS read is the server's alone):
/// after a warm-up, `connections` peers each write up to ``bytesPerPeer`` of 16 KiB frames without reading any
/// reply, for at most `duration` seconds, then reset (SO_LINGER {1, 0}); the server's RSS is read every 100 ms
/// from the burst's start until ``settleSeconds`` after the resets.
///
/// A peer's unsent replies reach the server's high watermark and the server stops reading it, so the peers stall:
/// their sockets are non-blocking and one thread polls them, so a stalled peer only waits for the burst to end.
/// At the end the warm-up connection echoes again: a server that no longer answers is an error.
struct BurstRunner {
    /// What each peer tries to write.
    static let bytesPerPeer = 12 << 20
    /// Every frame the peers write, length prefix included.
    static let frameBytes = 16 * 1024
    /// How long after the resets the RSS is read.
    static let settleSeconds = 10.0
    /// How far above its level before the burst the RSS may be and still count as given back.
    static let retainedLimit = 8 << 20
    static let sampleNanoseconds: UInt64 = 100_000_000

    let target: ReactorSocketAddress
    let serverPID: Int32
    /// Prints a live progress line (only when stdout is a terminal).
    var showProgress = isatty(STDOUT_FILENO) == 1

    func run(_ spec: LoadSpec) throws -> LoadResult {
        // One echo of each size, three times over: the server's steady-state buffers are in place.
        let probe = try PeerSocket(to: target)
        var mismatches = 0
        func echoRound() throws {
            for size in [100, 20_000, 200_000] {
                if try !probe.echo(payloadSize: size, seed: size) { mismatches += 1 }
            }
        }
        for _ in 0..<3 { try echoRound() }
        usleep(500_000)
        let before = try residentBytes()

        var peers: [PeerSocket] = []
        var connectFailures = 0
        for _ in 0..<spec.connections {
            do {
                let peer = try PeerSocket(to: target)
                peer.makeNonBlocking()
                peers.append(peer)
            } catch {
                connectFailures += 1
            }
        }
        let payload = LoadShared.template(size: Self.frameBytes - 4, seed: 0)
        let block = (0..<4).flatMap { _ in PeerSocket.frame(payload) }  // a quota is a whole number of blocks
        var sent = [Int](repeating: 0, count: peers.count)
        var failed = [Bool](repeating: false, count: peers.count)
        var samples: [(time: UInt64, bytes: Int)] = []
        let start = LoadHandler.now()
        let deadline = start + UInt64(spec.duration * 1e9)
        var nextSample = start
        while true {
            let now = LoadHandler.now()
            if now >= nextSample {
                let rss = try residentBytes()
                samples.append((now, rss))
                while nextSample <= now { nextSample += Self.sampleNanoseconds }
                progress(
                    "burst \(Format.seconds(Double(now - start) / 1e9))/\(Format.seconds(spec.duration)), sent "
                        + "\(Format.bytes(Double(sent.reduce(0, +)))), server RSS \(Format.bytes(Double(rss)))")
            }
            let active = peers.indices.filter { !failed[$0] && sent[$0] < Self.bytesPerPeer }
            if active.isEmpty || now >= deadline { break }
            var fds = active.map { pollfd(fd: peers[$0].fd, events: Int16(POLLOUT), revents: 0) }
            let wait = min(deadline, nextSample) - now
            _ = poll(&fds, nfds_t(fds.count), CInt((wait + 999_999) / 1_000_000))
            for (slot, index) in active.enumerated() where fds[slot].revents != 0 {
                while sent[index] < Self.bytesPerPeer {
                    let offset = sent[index] % block.count
                    let written = block.withUnsafeBytes {
                        send(peers[index].fd, $0.baseAddress! + offset, $0.count - offset, CInt(MSG_NOSIGNAL))
                    }
                    let error = errno
                    if written > 0 {
                        sent[index] += written
                    } else if error != EINTR {
                        failed[index] = error != EAGAIN && error != EWOULDBLOCK  // stalled, or gone
                        break
                    }
                }
            }
        }
        let burstEnd = LoadHandler.now()
        let stalled = peers.indices.filter { !failed[$0] && sent[$0] < Self.bytesPerPeer }.count
        for peer in peers { peer.resetOnClose() }
        peers.removeAll()  // closes them: resets, with the replies unread

        let resets = LoadHandler.now()
        samples.append((resets, try residentBytes()))
        let end = resets + UInt64(Self.settleSeconds * 1e9)
        var next = resets + Self.sampleNanoseconds
        while next <= end {
            let now = LoadHandler.now()
            if next > now { usleep(useconds_t((next - now) / 1000)) }
            let rss = try residentBytes()
            samples.append((next, rss))
            let elapsed = "\(Format.seconds(Double(next - resets) / 1e9))/\(Format.seconds(Self.settleSeconds))"
            progress("after the resets \(elapsed), server RSS \(Format.bytes(Double(rss)))")
            next += Self.sampleNanoseconds
        }
        progress(nil)
        var disconnects = failed.filter { $0 }.count
        do {
            try echoRound()  // still serving
        } catch {
            disconnects += 1
        }

        let total = sent.reduce(0, +)
        let figures = BurstFigures(
            peers: spec.connections, sentBytes: total, bytesPerPeer: Self.bytesPerPeer,
            burstSeconds: Double(burstEnd - start) / 1e9, stalledPeers: stalled,
            settleWindowSeconds: Self.settleSeconds, retainedLimitBytes: Self.retainedLimit, rssBeforeBytes: before,
            samples: samples.map {
                BurstFigures.Sample(seconds: (Double($0.time) - Double(resets)) / 1e9, rssBytes: $0.bytes)
            })
        var result = LoadResult(
            spec: spec, messages: total / Self.frameBytes, seconds: figures.burstSeconds, p50Microseconds: 0,
            p99Microseconds: 0, p999Microseconds: 0, maxMicroseconds: 0, mismatches: mismatches,
            disconnects: disconnects,
            server: ServerFigures(
                frames: total / Self.frameBytes, cpuNanoseconds: 0, residentBytes: figures.rssAfterBytes))
        result.connectFailures = connectFailures
        result.burst = figures
        return result
    }

    private func residentBytes() throws -> Int {
        guard let bytes = ProcessStats.residentBytes(pid: "\(serverPID)") else {
            throw LoadGenerator.Failure(description: "server process \(serverPID) is gone")
        }
        return bytes
    }

    /// Rewrites the progress line (nil: clears it).
    private func progress(_ text: String?) {
        guard showProgress else { return }
        let line = text.map { "  burst-memory: \($0)" } ?? ""
        print("\r" + Format.padRight(line, 100) + (text == nil ? "\r" : ""), terminator: "")
        fflush(nil)
    }
}
