#if canImport(Glibc)
    import Glibc
#endif

extension SubReactor {
    /// Reads what `connection` has (up to the per-wakeup budget) and hands every complete frame to the handler.
    ///
    /// Epoll is level-triggered, so stopping before `EAGAIN` is safe: unread bytes report the socket ready again
    /// on the next wait, after the other connections had their turn.
    @inline(__always)
    func readable(_ connection: Connection) {
        io.stagingOwner = ObjectIdentifier(connection)
        connection.lastActivity = now
        let framesBefore = io.counters.framesIn
        defer {
            sendStaged(connection)
            notePartialFrame(connection, framesBefore: framesBefore)
        }
        var budget = io.limits.maxReadBytesPerWakeup
        let scratch = io.readBuffer
        while true {
            // Read: straight into a large pending frame's chunk (skipping a copy), else into the loop's buffer.
            let direct = connection.decoder.directReadTarget(threshold: scratch.count / 2)
            let destination = direct ?? scratch
            let count: Int
            do {
                guard
                    case .processed(let bytes) = try Posix.read(
                        connection.fd, into: destination.baseAddress!, count: destination.count)
                else { return }  // would block
                count = bytes
            } catch {
                close(connection, reason: Self.reason(for: error))
                return
            }
            if count == 0 {
                inputEnded(connection)
                return
            }
            io.counters.bytesIn += count

            // Decode every complete frame and hand it to the handler.
            let outcome: LengthFieldDecoder.Outcome
            if direct != nil {
                outcome = connection.decoder.didReadDirectly(count, pool: io.pool) { deliver($0, on: connection) }
            } else {
                outcome = connection.decoder.decode(
                    UnsafeRawBufferPointer(start: scratch.baseAddress, count: count), pool: io.pool
                ) { deliver($0, on: connection) }
            }
            switch outcome {
            case .frameTooLong(let length):
                // The stream is unusable from here, but the handler has acted on the frames before the bad prefix:
                // their replies still go out (a graceful close, bounded by the linger timeout), then it closes.
                connection.pendingCloseReason = .frameTooLong(length: length, limit: io.limits.maxFrameLength)
                connection.flags.insert(.closeAfterFlush)
                io.markDirty(connection)
                return
            case .stopped:
                return
            case .consumed:
                break
            }
            budget -= count
            let stoppedTakingInput = !connection.flags.isDisjoint(with: .notTakingInput)
            if count < destination.count || budget <= 0 || stoppedTakingInput { return }
        }
    }

    /// Calls the handler for one frame; returns false when the connection stopped taking input.
    @inline(__always)
    func deliver(_ frame: FrameView, on connection: Connection) -> Bool {
        io.counters.framesIn += 1
        var context = ConnectionContext(connection: connection, io: io)
        handler.onFrame(frame, connection: &context)
        return connection.flags.isDisjoint(with: .notTakingInput)
    }

    /// The peer shut down its write side: every reply already queued still goes out, then the connection closes.
    func inputEnded(_ connection: Connection) {
        connection.flags.insert(.inputClosed)
        if !connection.flags.contains(.closeAfterFlush) {
            let buffered = connection.decoder.bufferedBytes
            connection.pendingCloseReason = buffered > 0 ? .truncatedFrame(bufferedBytes: buffered) : .peerClosed
            connection.flags.insert(.closeAfterFlush)
        }
        io.markDirty(connection)
        updateInterest(connection)
    }

    /// Maps a socket error to the reason a connection closes with.
    static func reason(for error: SystemError) -> CloseReason {
        switch error.errno.rawValue {
        case ECONNRESET, EPIPE, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH: return .peerReset
        default: return .ioError(error)
        }
    }
}
