#if canImport(Glibc)
    import Glibc
#endif

extension SubReactor {
    /// Reads what `connection` has (up to the per-wakeup budget) and offers its unconsumed bytes to the handler
    /// after each read.
    ///
    /// Where a read goes: with nothing kept, into the loop's read buffer (the handler usually consumes all of it in
    /// place and nothing is copied). With a small tail kept, also into the read buffer, behind a copy of the tail,
    /// so the handler still sees one contiguous run. With a large tail kept, or a large message announced by
    /// ``InboundBytes/expect(atLeast:)``, straight into the connection's chunk, which grows with the bytes that
    /// arrive (a size class at a time, never ahead of them to a declared length). Whatever the handler leaves in the
    /// read buffer is copied into the chunk once.
    ///
    /// Epoll is level-triggered, so stopping before `EAGAIN` is safe: unread bytes report the socket ready again
    /// on the next wait, after the other connections had their turn. A connection with a ``ConnectionTransport``
    /// (TLS) reads through it instead of `read(2)`, until it wants to read from the socket again; what it has
    /// decrypted but not handed over when the budget runs out is read again at the end of the loop iteration.
    @inline(__always)
    func readable(_ connection: Connection) {
        // Read once: the loop below tests it (a register) where a plain read and a transport's differ.
        let throughTransport = connection.flags.contains(.hasTransport)
        io.stagingOwner = ObjectIdentifier(connection)
        connection.lastActivity = now
        var progressed = false
        defer {
            io.sendStaged(connection)
            notePartialInput(connection, progressed: progressed)
            if throughTransport { noteBufferedTransportInput(connection) }
        }
        var budget = io.limits.maxReadBytesPerWakeup
        let scratch = io.readBuffer.baseAddress!
        let scratchSize = io.readBuffer.count
        let limit = io.limits.maxBufferedInput
        while true {
            let kept = connection.inbound.count
            let seen = connection.inbound.seen
            // A connection echoing large messages by reference reads the next one straight into a chunk too.
            let predicted = kept == 0 && connection.inbound.skipping == 0 ? connection.inbound.predictedMessage : 0
            let intoChunk =
                predicted > 0 || (kept > 0 && connection.inbound.readsDirectly(readBufferSize: scratchSize))
            let destination: UnsafeMutableRawPointer
            let room: Int
            if intoChunk {
                guard connection.inbound.makeRoom(limit: limit, pool: io.pool, atLeast: predicted) else {
                    refuseInput(connection, buffered: kept)
                    return
                }
                destination = connection.inbound.data + kept
                // Never past the limit: what a connection buffers does not depend on how its reads were cut.
                room = min(connection.inbound.capacity, limit) - kept
            } else {
                destination = scratch + kept
                room = scratchSize - kept
            }
            let count: Int
            // Through a transport: whether its read stopped with a status other than `.completed` (then in
            // `io.transportReadStatus`, acted on once these bytes are offered).
            var transportStoppedEarly = false
            if throughTransport {
                count = readThroughTransport(connection, into: destination, count: room)
                transportStoppedEarly = count < 0 || io.transportReadStatus.isStop
                if count <= 0 {
                    if kept == 0 && predicted > 0 { connection.inbound.release(pool: io.pool) }
                    transportStopped(connection, io.takeTransportReadStatus())
                    return
                }
            } else {
                do {
                    guard case .processed(let bytes) = try Posix.read(connection.fd, into: destination, count: room)
                    else {
                        // Would block. A chunk taken for a predicted message goes back: idle connections hold none.
                        if kept == 0 && predicted > 0 { connection.inbound.release(pool: io.pool) }
                        return
                    }
                    count = bytes
                } catch {
                    close(connection, reason: CloseReason(socketError: error))
                    return
                }
                if count == 0 {
                    inputEnded(connection)
                    return
                }
            }
            io.counters.bytesIn += count
            budget -= count

            var start: UnsafeRawPointer
            var available = kept + count
            if intoChunk {
                connection.inbound.count = available
                start = UnsafeRawPointer(connection.inbound.data)
            } else {
                if kept > 0 {
                    // The tail goes in front of the new bytes; the chunk it was in is free again.
                    scratch.copyMemory(from: connection.inbound.data, byteCount: kept)
                    connection.inbound.release(pool: io.pool)
                }
                start = UnsafeRawPointer(scratch)
                let skipping = connection.inbound.skipping
                if skipping > 0 {  // only with nothing kept: skip(_:) consumes what is there first
                    let dropped = min(skipping, available)
                    connection.inbound.skipping = skipping - dropped
                    start += dropped
                    available -= dropped
                }
            }
            connection.inbound.handedOffSinceRead = false
            if available > 0 && offer(connection, from: start, count: available, newBytesAt: seen, inChunk: intoChunk) {
                progressed = true
            }
            // The prediction lasts while messages keep going out by reference; a read that completed a message
            // without one (a small message, or a handler that copies) ends it.
            if predicted > 0 && progressed && !connection.inbound.handedOffSinceRead {
                connection.inbound.predictedMessage = 0
            }
            if throughTransport {
                // A transport's read stops only when it wants the socket.
                if transportStoppedEarly {
                    let status = io.takeTransportReadStatus()
                    if connection.phase != .closed { transportStopped(connection, status) }
                    return
                }
            } else if count < room {
                return  // the socket had less than there was room for
            }
            if budget <= 0 || !connection.isTakingInput { return }
        }
    }

    /// Reads plaintext through the connection's transport: the byte count (0 or more) with its status in
    /// `io.transportReadStatus`.
    @inline(never)
    private func readThroughTransport(_ connection: Connection, into buffer: UnsafeMutableRawPointer, count: Int) -> Int
    {
        let progress = connection.transport.unsafelyUnwrapped.read(into: buffer, count: count)
        io.transportReadStatus = progress.status
        return progress.bytes
    }

    /// After a read batch: plaintext the transport decrypted but did not hand over (the budget ran out, the buffer
    /// was full) is read again at the end of the loop iteration, since the socket will not report it.
    @inline(never)
    private func noteBufferedTransportInput(_ connection: Connection) {
        if connection.isTakingInput && !connection.flags.contains(.transportWantsWrite)
            && connection.transport.unsafelyUnwrapped.hasBufferedInput
        {
            connection.flags.insert(.redeliverInput)
            io.markDirty(connection)
        }
    }

    /// A transport's read stopped with `status` (after its bytes, if any, were offered).
    @inline(never)
    private func transportStopped(_ connection: Connection, _ status: TransportProgress.Status) {
        switch status {
        case .completed, .wantsRead:
            return
        case .wantsWrite:
            connection.flags.insert(.transportWantsWrite)
            io.updateInterest(connection)
        case .inputEnded:
            inputEnded(connection)
        case .failed(let reason):
            switch reason.kind {
            case .tlsTruncated:
                // What arrived is authentic: answered like any other end of input, under its own reason.
                inputEnded(connection, reason: reason)
            case .tlsRenegotiationRefused:
                beginGracefulClose(connection, reason: reason)
            default:
                close(connection, reason: reason)
            }
        }
    }

    /// Offers the `count` unconsumed bytes at `start` to the handler (if as many as it expects are there) and keeps
    /// what it leaves: in place when they are the connection's chunk (`inChunk`), else copied into the chunk.
    /// Returns whether the handler consumed anything.
    @inline(__always)
    func offer(
        _ connection: Connection, from start: UnsafeRawPointer, count: Int, newBytesAt: Int, inChunk: Bool
    ) -> Bool {
        if !connection.isTakingInput || count < connection.inbound.expected {
            withheld(connection, from: start, count: count, seen: newBytesAt, inChunk: inChunk)
            return false
        }
        var input = InboundBytes(
            base: start, count: count, newBytesOffset: newBytesAt, maxFrameLength: io.limits.maxFrameLength)
        var context = ConnectionContext(connection: connection, io: io)
        let state = connection.stateAddress.unsafelyUnwrapped.assumingMemoryBound(to: Handler.ConnectionState.self)
        handler.onRead(&input, state: &state.pointee, connection: &context)
        let consumed = input.consumed
        io.counters.framesIn &+= input.messagesDecoded
        connection.inbound.expected = input.expected
        connection.inbound.skipping = input.skipBeyond
        // The common case: everything in the read buffer consumed, nothing to keep.
        if consumed == count && !inChunk && connection.isTakingInput { return true }
        leftOver(connection, from: start, count: count, consumed: consumed, inChunk: inChunk)
        return consumed > 0
    }

    /// The handler is not called (the connection is closing, or fewer bytes than it expects are there): keep the
    /// bytes for later, or drop them when closing.
    private func withheld(
        _ connection: Connection, from start: UnsafeRawPointer, count: Int, seen: Int, inChunk: Bool
    ) {
        if !connection.isTakingInput {
            connection.inbound.reset(pool: io.pool)  // nothing more is delivered, so nothing is kept
            return
        }
        if !inChunk {
            keep(start, count: count, on: connection)
        } else if count > io.limits.maxBufferedInput {
            refuseInput(connection, buffered: count)
            return
        }
        connection.inbound.seen = min(seen, connection.inbound.count)  // the new bytes are still unseen
    }

    /// After the handler consumed `consumed` of the `count` bytes at `start`: keep the rest (in place when they are
    /// the connection's chunk, else copied into it), or drop everything when the connection stopped taking input.
    private func leftOver(
        _ connection: Connection, from start: UnsafeRawPointer, count: Int, consumed: Int, inChunk: Bool
    ) {
        if !connection.isTakingInput {
            connection.inbound.reset(pool: io.pool)
        } else if inChunk {
            connection.inbound.removeFirst(consumed, pool: io.pool)
            if connection.inbound.count > io.limits.maxBufferedInput {
                refuseInput(connection, buffered: connection.inbound.count)
            }
        } else if consumed < count {
            keep(start + consumed, count: count - consumed, on: connection)
        }
        connection.inbound.seen = connection.inbound.count  // the handler was shown every byte it left
    }

    /// Copies a tail left in the read buffer into the connection's chunk, or closes the connection if it is over
    /// ``ConnectionLimits/maxBufferedInput``.
    @inline(__always)
    private func keep(_ start: UnsafeRawPointer, count: Int, on connection: Connection) {
        let limit = io.limits.maxBufferedInput
        if count > limit {
            refuseInput(connection, buffered: count)
            return
        }
        connection.inbound.keep(start, count: count, limit: limit, pool: io.pool)
    }

    /// The connection holds more unconsumed input than ``ConnectionLimits/maxBufferedInput``: drop it and close
    /// gracefully (the replies to what was consumed still go out) with
    /// ``CloseReason/bufferedInputTooLarge(bufferedBytes:limit:)``.
    func refuseInput(_ connection: Connection, buffered: Int) {
        connection.inbound.reset(pool: io.pool)
        connection.beginClosing(.bufferedInputTooLarge(bufferedBytes: buffered, limit: io.limits.maxBufferedInput))
        io.markDirty(connection)
    }

    /// Offers the kept input again without reading (writability came back: the handler may have left it because it
    /// was paused, and the peer may be waiting for replies instead of sending more).
    func redeliverInput(_ connection: Connection) {
        connection.flags.remove(.redeliverInput)
        if connection.flags.contains(.hasTransport), connection.isTakingInput,
            connection.flags.isDisjoint(with: .notReadingWhileOpen),
            connection.transport.unsafelyUnwrapped.hasBufferedInput
        {
            readable(connection)  // decrypted input waits in the transport: the socket will not report it
            return
        }
        let kept = connection.inbound.count
        guard kept > 0, kept >= connection.inbound.expected, connection.isTakingInput else {
            return
        }
        io.stagingOwner = ObjectIdentifier(connection)
        let progressed = offer(
            connection, from: connection.inbound.data, count: kept, newBytesAt: connection.inbound.seen, inChunk: true)
        io.sendStaged(connection)
        notePartialInput(connection, progressed: progressed)
    }

    /// The peer shut down its write side: the handler sees what is left unconsumed, every reply already queued
    /// still goes out, then the connection closes (for `reason` if given, else ``CloseReason/peerClosed`` or, with
    /// input left unconsumed, ``CloseReason/truncatedFrame(bufferedBytes:)``).
    func inputEnded(_ connection: Connection, reason: CloseReason? = nil) {
        connection.flags.insert(.inputClosed)
        if connection.isTakingInput {
            let kept = connection.inbound.count
            var input = InboundBytes(
                base: UnsafeRawPointer(kept > 0 ? connection.inbound.data : io.readBuffer.baseAddress!), count: kept,
                newBytesOffset: connection.inbound.seen, maxFrameLength: io.limits.maxFrameLength)
            var context = ConnectionContext(connection: connection, io: io)
            handler.onInputEnded(
                &input,
                state: &connection.stateAddress.unsafelyUnwrapped.assumingMemoryBound(to: Handler.ConnectionState.self)
                    .pointee, connection: &context)
            let remaining = kept - input.consumed
            connection.inbound.reset(pool: io.pool)
            connection.beginClosing(reason ?? (remaining > 0 ? .truncatedFrame(bufferedBytes: remaining) : .peerClosed))
        }
        io.markDirty(connection)
        io.updateInterest(connection)
    }
}
