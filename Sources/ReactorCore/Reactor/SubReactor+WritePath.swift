#if canImport(Glibc)
    import Glibc
#endif

extension SubReactor {
    /// Flushes every connection that queued bytes during this iteration, in the order they became dirty.
    @inline(__always)
    func flushDirty() {
        var index = 0
        // Flushing can make handlers write (writability callbacks), which appends to the list: re-read the count.
        while index < io.dirty.count {
            let tag = io.dirty[index]
            index += 1
            guard let unmanaged = table.lookupUnretained(tag: tag) else { continue }
            unmanaged._withUnsafeGuaranteedRef { connection in
                connection.flags.remove(.dirty)
                if connection.phase == .aborting {
                    close(connection, reason: connection.closeReason)
                } else if connection.flags.contains(.redeliverInput) {
                    redeliverInput(connection)
                    if connection.phase != .closed { flush(connection) }
                } else {
                    flush(connection)
                }
            }
        }
        // Emptied only when used: `removeAll(keepingCapacity:)` on an empty array still costs ~50 instructions,
        // once per loop iteration.
        if index > 0 { io.dirty.removeAll(keepingCapacity: true) }
    }

    /// Writes as much of `connection`'s queue as the socket takes with `writev`s of up to `IOV_MAX` chunks.
    /// A short write keeps the rest and arms `EPOLLOUT`; an empty queue disarms it. Then applies the watermarks
    /// and a deferred close.
    func flush(_ connection: Connection) {
        var rounds = 0
        while !connection.outbound.isEmpty && rounds < 4 {
            rounds += 1
            let (count, requested) = connection.outbound.gather(into: io.vectors, maximum: io.vectorCapacity)
            let written: Int
            do {
                let result =
                    count == 1
                    ? try Posix.send(connection.fd, io.vectors[0].iov_base, count: requested)
                    : try Posix.sendv(connection.fd, io.vectors, count: count)
                guard case .processed(let bytes) = result else { break }
                written = bytes
            } catch {
                close(connection, reason: Self.reason(for: error))
                return
            }
            io.counters.bytesOut += written
            if written > 0 { connection.lastActivity = now }
            connection.outbound.consume(written, pool: io.pool)
            if written < requested { break }
        }
        settle(connection)
    }

    /// Sends the replies `connection` staged in the loop's staging buffer during its read batch, with one `send`.
    /// Whatever the socket does not take is copied into the connection's pooled queue and `EPOLLOUT` is armed.
    @inline(__always)
    func sendStaged(_ connection: Connection) {
        let staged = io.stagingCount
        io.stagingCount = 0
        io.stagingOwner = nil
        guard staged > 0, connection.phase != .closed else {
            // Nothing staged, but the batch queued bytes (a message handed over by reference, or staging spilled):
            // send them now rather than at the end of the loop iteration, as staged bytes would have been.
            if !connection.outbound.isEmpty && connection.flags.contains(.dirty) && connection.phase != .closed {
                flush(connection)
            }
            return
        }
        var written = 0
        do {
            if case .processed(let bytes) = try Posix.send(connection.fd, io.staging, count: staged) {
                written = bytes
            }
        } catch {
            close(connection, reason: Self.reason(for: error))
            return
        }
        io.counters.bytesOut += written
        if written == staged && connection.isTakingInput && !connection.flags.contains(.readPaused) {
            return  // the common case: everything went out, nothing to settle
        }
        if written < staged {
            connection.outbound.append(
                io.staging + written, count: staged - written, pool: io.pool, sizeClass: io.outboundClass,
                chunkSize: io.outboundChunkSize)
        }
        settle(connection)
    }

    /// After a write: a deferred close once everything is out, the watermarks, and the epoll interest.
    func settle(_ connection: Connection) {
        let pending = connection.outbound.pendingBytes
        if connection.phase == .closing {
            if pending == 0 {
                finishGracefulClose(connection)
                return
            }
            boundClosingFlush(connection)
        }
        if pending > io.limits.writeHighWatermark && !connection.flags.contains(.readPaused) {
            connection.flags.insert(.readPaused)
            writabilityChanged(connection, isWritable: false)
        } else if pending <= io.limits.writeLowWatermark && connection.flags.contains(.readPaused) {
            connection.flags.remove(.readPaused)
            writabilityChanged(connection, isWritable: true)
            if connection.inbound.count > 0 && connection.isTakingInput {
                connection.flags.insert(.redeliverInput)
                io.markDirty(connection)
            }
        }
        if connection.phase != .closed { updateInterest(connection) }
    }

    /// Publishes a writability change (for handles on other threads) and tells the handler.
    private func writabilityChanged(_ connection: Connection, isWritable: Bool) {
        registry.publishWritability(connection.id, isWritable: isWritable)
        let box = stateful(connection)
        guard box.state != nil else { return }
        var context = ConnectionContext(connection: connection, io: io)
        handler.onWritabilityChanged(isWritable, state: &box.state!, connection: &context)
    }
}
