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
            guard let connection = table.lookup(tag: tag) else { continue }
            connection.flags.remove(.dirty)
            if connection.flags.contains(.overflowed) {
                close(connection, reason: connection.pendingCloseReason)
                continue
            }
            flush(connection)
        }
        io.dirty.removeAll(keepingCapacity: true)
    }

    /// Writes as much of `connection`'s queue as the socket takes with `writev`s of up to `IOV_MAX` chunks.
    /// A short write keeps the rest and arms `EPOLLOUT`; an empty queue disarms it. Then applies the watermarks
    /// and a deferred close.
    func flush(_ connection: Connection) {
        var rounds = 0
        while !connection.outbound.isEmpty && rounds < 4 {
            rounds += 1
            let count = connection.outbound.gather(
                into: io.vectors, maximum: io.vectorCapacity, chunkSize: io.outboundChunkSize)
            var requested = 0
            for index in 0..<count { requested += io.vectors[index].iov_len }
            let written: Int
            do {
                guard case .processed(let bytes) = try Posix.sendv(connection.fd, io.vectors, count: count) else {
                    break
                }
                written = bytes
            } catch {
                close(connection, reason: Self.reason(for: error))
                return
            }
            io.counters.bytesOut += written
            connection.outbound.consume(
                written, pool: io.pool, sizeClass: io.outboundClass, chunkSize: io.outboundChunkSize)
            if written < requested { break }
        }
        let pending = connection.outbound.pendingBytes
        if pending == 0 && connection.flags.contains(.closeAfterFlush) {
            close(connection, reason: connection.pendingCloseReason)
            return
        }
        if pending > io.limits.writeHighWatermark && !connection.flags.contains(.readPaused) {
            connection.flags.insert(.readPaused)
            var context = ConnectionContext(connection: connection, io: io)
            handler.onWritabilityChanged(false, connection: &context)
        } else if pending <= io.limits.writeLowWatermark && connection.flags.contains(.readPaused) {
            connection.flags.remove(.readPaused)
            var context = ConnectionContext(connection: connection, io: io)
            handler.onWritabilityChanged(true, connection: &context)
        }
        if !connection.flags.contains(.closed) { updateInterest(connection) }
    }
}
