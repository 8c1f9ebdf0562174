#if canImport(Glibc)
    import Glibc
#endif

/// The write path, in one place: every byte a handler writes goes through here.
///
/// 1. **Admission** (``admits(_:on:)``): a write to a connection past its open phase is dropped; one that would pass
///    ``ConnectionLimits/maxPendingWriteBytes`` moves the connection to the aborting phase instead.
/// 2. **Staging**: during a connection's own read batch, writes are copied into the loop's staging buffer and leave
///    with one `send` when the batch ends (``sendStaged(_:)``). A large received message written back goes by
///    reference instead: its inbound chunk joins the queue (``writeByReference(_:count:to:)``).
/// 3. **The queue**: whatever the socket does not take, and every write from outside the read batch, is copied into
///    the connection's ``OutboundBuffer`` of pooled chunks and the connection is marked dirty; the end of the loop
///    iteration flushes it with `writev` (``flushDirty()``), and `EPOLLOUT` is armed while bytes remain.
/// 4. **After each send** (``settle(_:)``): the high and low watermarks pause and resume reading (and tell the
///    handler its writability changed), and a closing connection whose queue is empty goes on to its FIN
///    (`SubReactor+Lifecycle.swift`).
///
/// The few steps that reach the handler or the generic sub-reactor (closing, writability callbacks) go through
/// ``LoopIO/delegate``; none of them is on the per-message path.
extension LoopIO {
    // MARK: Admission, staging and the copy

    /// Whether `byteCount` more unsent bytes are allowed on `connection`: false when it no longer takes writes, or
    /// (moving it to the aborting phase, to be closed at the next flush) when they would pass the hard cap.
    @inline(__always)
    func admits(_ byteCount: Int, on connection: Connection) -> Bool {
        if !connection.acceptsWrites { return false }
        let staged = ObjectIdentifier(connection) == stagingOwner ? stagingCount : 0
        let total = connection.outbound.pendingBytes + staged + byteCount
        if total > limits.maxPendingWriteBytes {
            connection.beginAborting(.writeBufferOverflow(pendingBytes: total, limit: limits.maxPendingWriteBytes))
            markDirty(connection)
            return false
        }
        return true
    }

    /// Where `connection` may write `byteCount` bytes contiguously in the staging buffer right now, if anywhere: only
    /// the connection whose read batch is running, only while nothing of it is queued (so bytes stay in order).
    @inline(__always)
    func stagingSpace(_ byteCount: Int, for connection: Connection) -> UnsafeMutableRawPointer? {
        guard ObjectIdentifier(connection) == stagingOwner, connection.outbound.isEmpty else { return nil }
        if stagingCount + byteCount <= stagingCapacity { return staging + stagingCount }
        // Staging is full: what is staged moves to the queue first, and everything after it follows there.
        spillStaging(to: connection)
        return nil
    }

    /// Moves the staged bytes of `connection` (the staging owner) to its queue.
    func spillStaging(to connection: Connection) {
        guard stagingCount > 0 else { return }
        connection.outbound.append(
            staging, count: stagingCount, pool: pool, sizeClass: outboundClass, chunkSize: outboundChunkSize)
        stagingCount = 0
        markDirty(connection)
    }

    /// Queues `byteCount` raw bytes from `source` on `connection` (staged when possible, else queued), enforcing
    /// the hard cap on unsent bytes. The one copy every write ends in.
    @inline(__always)
    func write(_ source: UnsafeRawPointer?, count byteCount: Int, to connection: Connection) {
        guard byteCount > 0, let source, admits(byteCount, on: connection) else { return }
        if byteCount >= Self.handOffThreshold && writeByReference(source, count: byteCount, to: connection) { return }
        append(source, count: byteCount, to: connection)
    }

    /// The copy without the admission check (the caller did it).
    @inline(__always)
    private func append(_ source: UnsafeRawPointer, count byteCount: Int, to connection: Connection) {
        if let destination = stagingSpace(byteCount, for: connection) {
            destination.copyMemory(from: source, byteCount: byteCount)
            stagingCount += byteCount
            return
        }
        connection.outbound.append(
            source, count: byteCount, pool: pool, sizeClass: outboundClass, chunkSize: outboundChunkSize)
        markDirty(connection)
    }

    /// Queues one length-prefixed frame: `prepender`'s header for `count` bytes, then the bytes at `payload`.
    @inline(__always)
    func writeFrame(
        _ payload: UnsafeRawPointer?, count: Int, prepender: LengthFieldEncoder, to connection: Connection
    ) {
        let headerLength = prepender.lengthFieldLength
        guard admits(headerLength + count, on: connection) else { return }
        counters.framesOut += 1
        if let destination = stagingSpace(headerLength + count, for: connection) {
            prepender.storeHeader(payloadCount: count, at: destination)
            if let payload, count > 0 { (destination + headerLength).copyMemory(from: payload, byteCount: count) }
            stagingCount += headerLength + count
            return
        }
        var header: UInt64 = 0
        withUnsafeMutableBytes(of: &header) { header in
            prepender.storeHeader(payloadCount: count, at: header.baseAddress!)
            append(header.baseAddress!, count: headerLength, to: connection)
        }
        if let payload, count > 0 { append(payload, count: count, to: connection) }
    }

    /// Bytes from which a write of bytes that sit in the connection's own inbound chunk (a large received message
    /// written back) hands the chunk to the outbound queue instead of copying it.
    static let handOffThreshold = 16 * 1024

    /// Queues `count` bytes at `source` by reference if they lie in `connection`'s inbound chunk and are large
    /// enough: the chunk joins the outbound queue (after whatever is staged or queued, so bytes stay in order) and
    /// goes back to the pool once written. Returns false when the bytes must be copied instead.
    @inline(__always)
    func writeByReference(_ source: UnsafeRawPointer, count: Int, to connection: Connection) -> Bool {
        guard count >= Self.handOffThreshold, connection.inbound.canHandOff(source, count: count) else { return false }
        if ObjectIdentifier(connection) == stagingOwner { spillStaging(to: connection) }
        let (chunk, sizeClass) = connection.inbound.handOff()
        let from = UnsafeRawPointer(chunk).distance(to: source)
        connection.outbound.appendReference(chunk, sizeClass: sizeClass, from: from, to: from + count)
        counters.bytesHandedOff &+= count
        markDirty(connection)
        return true
    }

    /// ``writeFrame(_:count:prepender:to:)`` for the standard 4-byte big-endian header: the echo's path, with the
    /// header's layout known at compile time.
    @inline(__always)
    func writeStandardFrame(_ payload: UnsafeRawPointer?, count: Int, to connection: Connection) {
        guard admits(4 + count, on: connection) else { return }
        counters.framesOut += 1
        if count >= Self.handOffThreshold, let payload, writeLargeStandardFrame(payload, count: count, to: connection) {
            return
        }
        if let destination = stagingSpace(4 + count, for: connection) {
            destination.storeBytes(of: UInt32(truncatingIfNeeded: count).bigEndian, as: UInt32.self)
            if let payload, count > 0 { (destination + 4).copyMemory(from: payload, byteCount: count) }
            stagingCount += 4 + count
            return
        }
        var header = UInt32(truncatingIfNeeded: count).bigEndian
        withUnsafeBytes(of: &header) { append($0.baseAddress!, count: 4, to: connection) }
        if let payload, count > 0 { append(payload, count: count, to: connection) }
    }

    /// The slow half of ``writeStandardFrame(_:count:to:)`` for a payload that may go by reference.
    @inline(never)
    func writeLargeStandardFrame(_ payload: UnsafeRawPointer, count: Int, to connection: Connection) -> Bool {
        guard connection.inbound.canHandOff(payload, count: count) else { return false }
        var header = UInt32(truncatingIfNeeded: count).bigEndian
        if ObjectIdentifier(connection) == stagingOwner { spillStaging(to: connection) }
        withUnsafeBytes(of: &header) {
            connection.outbound.append(
                $0.baseAddress!, count: 4, pool: pool, sizeClass: outboundClass, chunkSize: outboundChunkSize)
        }
        return writeByReference(payload, count: count, to: connection)
    }

    /// Lets `body` format up to `capacity` bytes straight into the outbound bytes and queues the count it returns:
    /// in the staging buffer when the connection owns it, else in a pooled chunk that is then appended to the queue.
    @inline(__always)
    func write<Failure: Error>(
        reserving capacity: Int, to connection: Connection,
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Int
    ) throws(Failure) {
        guard admits(capacity, on: connection) else { return }
        if let destination = stagingSpace(capacity, for: connection) {
            let written = try body(UnsafeMutableRawBufferPointer(start: destination, count: capacity))
            precondition(
                written >= 0 && written <= capacity, "wrote \(written) bytes into a \(capacity)-byte reservation")
            stagingCount += written
            return
        }
        // A bounce buffer: a pooled chunk, or for a reservation larger than the pool's largest class (rare: a
        // multi-megabyte reply), a one-off allocation.
        let pooled = capacity <= pool.largestChunkSize
        let sizeClass = pooled ? pool.sizeClass(for: max(capacity, 1)) : -1
        let bounce = pooled ? pool.get(sizeClass: sizeClass) : .allocate(byteCount: capacity, alignment: 16)
        defer { if pooled { pool.put(bounce, sizeClass: sizeClass) } else { bounce.deallocate() } }
        let written = try body(UnsafeMutableRawBufferPointer(start: bounce, count: capacity))
        precondition(written >= 0 && written <= capacity, "wrote \(written) bytes into a \(capacity)-byte reservation")
        if written > 0 { append(bounce, count: written, to: connection) }
    }

    // MARK: Sending

    /// Flushes every connection that queued bytes during this iteration, in the order they became dirty.
    @inline(__always)
    func flushDirty() {
        var index = 0
        // Flushing can make handlers write (writability callbacks), which appends to the list: re-read the count.
        while index < dirty.count {
            let tag = dirty[index]
            index += 1
            guard let unmanaged = table.lookupUnretained(tag: tag) else { continue }
            unmanaged._withUnsafeGuaranteedRef { connection in
                connection.flags.remove(.dirty)
                if connection.phase == .aborting {
                    delegate.unsafelyUnwrapped.close(connection, reason: connection.closeReason)
                } else if connection.flags.contains(.redeliverInput) {
                    delegate.unsafelyUnwrapped.redeliverInput(connection)
                    if connection.phase != .closed { flush(connection) }
                } else {
                    flush(connection)
                }
            }
        }
        // Emptied only when used: `removeAll(keepingCapacity:)` on an empty array still costs ~50 instructions,
        // once per loop iteration.
        if index > 0 { dirty.removeAll(keepingCapacity: true) }
    }

    /// Writes as much of `connection`'s queue as the socket takes with `writev`s of up to `IOV_MAX` chunks.
    /// A short write keeps the rest and arms `EPOLLOUT`; an empty queue disarms it. Then applies the watermarks
    /// and a deferred close.
    func flush(_ connection: Connection) {
        var rounds = 0
        if connection.flags.contains(.handshaking) {
            updateInterest(connection)  // the bytes wait for the handshake (`SubReactor+Handshake.swift`)
            return
        }
        while !connection.outbound.isEmpty && rounds < 4 {
            rounds += 1
            let (count, requested) = connection.outbound.gather(into: vectors, maximum: vectorCapacity)
            let written: Int
            if connection.flags.contains(.hasTransport) {
                guard let bytes = transportWrite(vectorCount: count, to: connection) else { return }
                written = bytes
            } else {
                do {
                    let result =
                        count == 1
                        ? try Posix.send(connection.fd, vectors[0].iov_base, count: requested)
                        : try Posix.sendv(connection.fd, vectors, count: count)
                    guard case .processed(let bytes) = result else { break }
                    written = bytes
                } catch {
                    delegate.unsafelyUnwrapped.close(connection, reason: CloseReason(socketError: error))
                    return
                }
            }
            counters.bytesOut += written
            if written > 0 { connection.lastActivity = now }
            connection.outbound.consume(written, pool: pool)
            if written < requested { break }
        }
        settle(connection)
    }

    /// Writes the `vectorCount` gathered runs through `connection`'s transport until one step is not taken whole.
    /// Returns the bytes taken, or nil after closing the connection for a failure.
    ///
    /// A run of at least ``LoopIO/transportRetrySpan`` (16 KiB), or the last one, is written in place (TLS: a record
    /// of up to 16 KiB per `send`, as nginx's `ssl_buffer_size`). Shorter runs followed by others are first copied
    /// together into the loop's bounce buffer, up to 16 KiB, and written as one. The reason is `SSL_write`'s retry
    /// rule: a call that could not finish must be repeated starting with the same bytes and at least as many (up to
    /// a record: the shim offers one record per call, and part of it may have gone out unreported), and a short run
    /// would not hold them: OpenSSL then fails the session with "bad length" (found by TLSReadPathFuzzer:
    /// `write-retry-length`). The queue is unchanged until bytes are reported taken, so the next flush offers the
    /// same first bytes, as many or more.
    @inline(never)
    private func transportWrite(vectorCount: Int, to connection: Connection) -> Int? {
        // The transport's read waits to write (a handshake message of its own): no application write may go first.
        if connection.flags.contains(.transportWantsWrite) { return 0 }
        let transport = connection.transport.unsafelyUnwrapped
        let span = Self.transportRetrySpan
        var total = 0
        var index = 0
        var offset = 0  // into vectors[index]
        while index < vectorCount {
            let run = vectors[index]
            let remaining = run.iov_len - offset
            let offered: Int
            let progress: TransportProgress
            if remaining >= span || index == vectorCount - 1 {
                offered = remaining
                progress = transport.write(from: run.iov_base.unsafelyUnwrapped + offset, count: remaining)
            } else {
                let bounce = transportBounce.unsafelyUnwrapped
                var filled = 0
                var (copyIndex, copyOffset) = (index, offset)
                while filled < span && copyIndex < vectorCount {
                    let source = vectors[copyIndex]
                    let count = min(source.iov_len - copyOffset, span - filled)
                    (bounce + filled).copyMemory(from: source.iov_base.unsafelyUnwrapped + copyOffset, byteCount: count)
                    filled += count
                    copyOffset += count
                    if copyOffset == source.iov_len { (copyIndex, copyOffset) = (copyIndex + 1, 0) }
                }
                offered = filled
                progress = transport.write(from: bounce, count: filled)
            }
            total += progress.bytes
            noteTransportWrite(progress.status, on: connection)
            switch progress.status {
            case .completed:
                // Past the `offered` bytes, across as many runs as they covered.
                var skip = offered
                while skip > 0 {
                    let step = min(vectors[index].iov_len - offset, skip)
                    skip -= step
                    offset += step
                    if offset == vectors[index].iov_len { (index, offset) = (index + 1, 0) }
                }
            case .failed(let reason):
                delegate.unsafelyUnwrapped.close(connection, reason: reason)
                return nil
            case .wantsRead, .wantsWrite, .inputEnded:
                return total
            }
        }
        return total
    }

    /// ``sendStaged(_:)`` through the connection's transport: the bytes it took, or nil after closing the connection
    /// for a failure.
    @inline(never)
    private func transportWrite(staged: Int, to connection: Connection) -> Int? {
        // The transport's read waits to write (a handshake message of its own): no application write may go first.
        if connection.flags.contains(.transportWantsWrite) { return 0 }
        let progress = connection.transport.unsafelyUnwrapped.write(from: staging, count: staged)
        if case .failed(let reason) = progress.status {
            delegate.unsafelyUnwrapped.close(connection, reason: reason)
            return nil
        }
        noteTransportWrite(progress.status, on: connection)
        return progress.bytes
    }

    /// Keeps ``Connection/Flags/transportWritePending`` in step with the transport's last write: set while a write
    /// could not finish, cleared once one does. When it clears, plaintext the transport already decrypted is read
    /// again at the end of the loop iteration (the socket will not report it).
    private func noteTransportWrite(_ status: TransportProgress.Status, on connection: Connection) {
        if case .wantsWrite = status {
            connection.flags.insert(.transportWritePending)
        } else if connection.flags.contains(.transportWritePending) {
            connection.flags.remove(.transportWritePending)
            if connection.isTakingInput && connection.transport.unsafelyUnwrapped.hasBufferedInput {
                connection.flags.insert(.redeliverInput)
                markDirty(connection)
            }
        }
    }

    /// Sends the replies `connection` staged in the loop's staging buffer during its read batch, with one `send`.
    /// Whatever the socket does not take is copied into the connection's pooled queue and `EPOLLOUT` is armed.
    @inline(__always)
    func sendStaged(_ connection: Connection) {
        let staged = stagingCount
        stagingCount = 0
        stagingOwner = nil
        guard staged > 0, connection.phase != .closed else {
            // Nothing staged, but the batch queued bytes (a message handed over by reference, or staging spilled):
            // send them now rather than at the end of the loop iteration, as staged bytes would have been.
            if !connection.outbound.isEmpty && connection.flags.contains(.dirty) && connection.phase != .closed {
                flush(connection)
            }
            return
        }
        var written = 0
        if connection.flags.contains(.hasTransport) {
            guard let bytes = transportWrite(staged: staged, to: connection) else { return }
            written = bytes
        } else {
            do {
                if case .processed(let bytes) = try Posix.send(connection.fd, staging, count: staged) {
                    written = bytes
                }
            } catch {
                delegate.unsafelyUnwrapped.close(connection, reason: CloseReason(socketError: error))
                return
            }
        }
        counters.bytesOut += written
        if written == staged && connection.isTakingInput && !connection.flags.contains(.readPaused) {
            return  // the common case: everything went out, nothing to settle
        }
        if written < staged {
            connection.outbound.append(
                staging + written, count: staged - written, pool: pool, sizeClass: outboundClass,
                chunkSize: outboundChunkSize)
        }
        settle(connection)
    }

    /// After a write: a deferred close once everything is out, the watermarks, and the epoll interest.
    func settle(_ connection: Connection) {
        let pending = connection.outbound.pendingBytes
        if connection.phase == .closing {
            if pending == 0 {
                delegate.unsafelyUnwrapped.finishGracefulClose(connection)
                return
            }
            delegate.unsafelyUnwrapped.boundClosingFlush(connection)
        }
        if pending > limits.writeHighWatermark && !connection.flags.contains(.readPaused) {
            connection.flags.insert(.readPaused)
            counters.backpressurePauses &+= 1
            writabilityChanged(connection, isWritable: false)
        } else if pending <= limits.writeLowWatermark && connection.flags.contains(.readPaused) {
            connection.flags.remove(.readPaused)
            writabilityChanged(connection, isWritable: true)
            if (connection.inbound.count > 0
                || (connection.flags.contains(.hasTransport) && connection.transport.unsafelyUnwrapped.hasBufferedInput))
                && connection.isTakingInput
            {
                connection.flags.insert(.redeliverInput)
                markDirty(connection)
            }
        }
        if connection.phase != .closed { updateInterest(connection) }
    }

    /// Publishes a writability change (for handles on other threads) and tells the handler.
    private func writabilityChanged(_ connection: Connection, isWritable: Bool) {
        registry.publishWritability(connection.id, isWritable: isWritable)
        delegate.unsafelyUnwrapped.writabilityChanged(connection, isWritable: isWritable)
    }
}

/// What the write path asks of the sub-reactor that owns the loop: the steps that need the handler's type.
protocol WritePathDelegate: AnyObject {
    /// Closes `connection` now (a send failed, or it is aborting).
    func close(_ connection: Connection, reason: CloseReason)
    /// A closing connection's queue is empty: FIN, linger or close.
    func finishGracefulClose(_ connection: Connection)
    /// A closing connection still has bytes queued: bound how long its peer may take none of them.
    func boundClosingFlush(_ connection: Connection)
    /// Offers kept input again (writability came back while input was kept).
    func redeliverInput(_ connection: Connection)
    /// Tells the handler its connection's writability changed.
    func writabilityChanged(_ connection: Connection, isWritable: Bool)
}
