extension ConnectionHandle {
    /// Queues `bytes` as they are and resumes once the owning loop has queued them (or refused them), without
    /// blocking a thread: the bytes are copied, a task is posted to the loop, and the loop resumes the caller when
    /// it runs it (its next iteration). On the owning loop itself (a ``LoopTimer`` action) the bytes are queued at
    /// once.
    ///
    /// "Queued" means appended to the connection's outbound bytes, after whatever was queued before; they are
    /// flushed at the end of that loop iteration. It does not wait for the peer to read them, nor for
    /// writability: backpressure is yours to look at. After it returns `true`, ``isWritable`` says whether the
    /// connection's unsent bytes are now above its high watermark (``ConnectionLimits/writeHighWatermark``); a producer
    /// should stop writing until it is writable again. The bytes are still accepted above the high watermark, up
    /// to the hard cap (``ConnectionLimits/maxPendingWriteBytes``): a write that passes it returns `false` and the
    /// connection is closed with ``CloseReason/writeBufferOverflow(pendingBytes:limit:)``.
    ///
    /// Writes awaited one after another from one task go out in that order.
    ///
    /// - Returns: `true` if the bytes were queued. `false` if they were dropped: the connection was closed, or
    ///   closing (after a `close()`, the peer's FIN, a decoding error or a drain: the FIN follows what was queued
    ///   before, nothing after), its loop had stopped, or the write passed the hard cap.
    ///
    /// Not cancellable, and it need not be: it waits for one loop iteration at most.
    public func write(_ bytes: some Collection<UInt8>) async -> Bool {
        if eventLoop.inEventLoop { return write(bytes, whenQueued: nil) }
        let copy = Array(bytes)
        return await withCheckedContinuation { queued in
            // `false` here means the task was never posted, so `whenQueued` will not run: resume now instead.
            if !write(copy, whenQueued: { queued.resume(returning: $0) }) { queued.resume(returning: false) }
        }
    }

    /// Queues one length-prefixed frame with `payload` (see ``ConnectionContext/writeFrame(_:using:)-(RawSpan,_)``)
    /// and resumes once the owning loop has queued it or refused it, as ``write(_:)``
    /// does; `false` also when `payload` does not fit `prepender`'s length field.
    public func writeFrame(
        _ payload: some Collection<UInt8>, using prepender: LengthFieldEncoder = .standard
    ) async -> Bool {
        if eventLoop.inEventLoop { return writeFrame(payload, using: prepender, whenQueued: nil) }
        let copy = Array(payload)
        return await withCheckedContinuation { queued in
            if !writeFrame(copy, using: prepender, whenQueued: { queued.resume(returning: $0) }) {
                queued.resume(returning: false)
            }
        }
    }
}
