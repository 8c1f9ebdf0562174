/// Splits a byte stream into frames of a 4-byte big-endian length followed by that many payload bytes.
///
/// A small state machine: `waitingForHeader` keeps up to three bytes of a split length prefix inline;
/// `waitingForBody` keeps a frame that arrived in pieces in one pooled chunk sized for its length. Complete frames
/// in the input are handed out in place (no copy). An idle decoder holds no chunk. A length above
/// ``maxFrameLength`` is reported before anything is allocated for it.
@_spi(Benchmarks) public struct LengthFieldDecoder {
    /// Bytes in the length prefix.
    static let headerLength = 4

    /// Where the decoder is between two inputs.
    enum State {
        /// `count` bytes (0...3) of the next length prefix are in `partial`, most significant first.
        case waitingForHeader(partial: UInt32, count: Int)
        /// A frame of `length` bytes is being collected in `chunk` (of pool class `sizeClass`); `filled` are in.
        case waitingForBody(length: Int, chunk: UnsafeMutableRawPointer, sizeClass: Int, filled: Int)
    }

    /// Why decoding stopped early.
    @_spi(Benchmarks) public enum Outcome: Equatable {
        /// All input consumed; a partial frame may be buffered.
        case consumed
        /// A length prefix exceeded the limit; the stream is unusable.
        case frameTooLong(length: Int)
        /// The frame callback asked to stop; the rest of the input was not looked at.
        case stopped
    }

    /// The largest payload accepted.
    let maxFrameLength: Int
    private(set) var state = State.waitingForHeader(partial: 0, count: 0)

    @_spi(Benchmarks) public init(maxFrameLength: Int) {
        self.maxFrameLength = maxFrameLength
    }

    /// Bytes of an incomplete frame held (prefix bytes included); 0 when the decoder is between frames.
    @_spi(Benchmarks) public var bufferedBytes: Int {
        switch state {
        case .waitingForHeader(_, let count): return count
        case .waitingForBody(_, _, _, let filled): return Self.headerLength + filled
        }
    }

    /// Decodes `input`, calling `onFrame` for every complete frame; `onFrame` returns false to stop.
    @inline(__always)
    @_spi(Benchmarks) public mutating func decode(
        _ input: UnsafeRawBufferPointer,
        pool: SlabPool,
        onFrame: (FrameView) -> Bool
    ) -> Outcome {
        guard var cursor = input.baseAddress, input.count > 0 else { return .consumed }
        let end = cursor + input.count

        // Finish whatever the previous input left incomplete.
        switch state {
        case .waitingForHeader(var partial, var count) where count > 0:
            while count < Self.headerLength && cursor < end {
                partial = partial << 8 | UInt32(cursor.load(as: UInt8.self))
                cursor += 1
                count += 1
            }
            guard count == Self.headerLength else {
                state = .waitingForHeader(partial: partial, count: count)
                return .consumed
            }
            state = .waitingForHeader(partial: 0, count: 0)
            let length = Int(partial)
            if length > maxFrameLength { return .frameTooLong(length: length) }
            if end - cursor >= length {
                let frame = FrameView(base: cursor, count: length)
                cursor += length
                if !onFrame(frame) { return .stopped }
            } else {
                startBody(length: length, from: cursor, count: end - cursor, pool: pool)
                return .consumed
            }
        case .waitingForHeader:
            break
        case .waitingForBody(let length, let chunk, _, let filled):
            let take = min(length - filled, end - cursor)
            (chunk + filled).copyMemory(from: cursor, byteCount: take)
            cursor += take
            let outcome = bodyAdvanced(by: take, pool: pool, onFrame: onFrame)
            if outcome != .consumed { return outcome }
            if case .waitingForBody = state { return .consumed }  // input used up, frame still incomplete
        }

        // Whole frames straight from the input.
        while end - cursor >= Self.headerLength {
            let length = Int(UInt32(bigEndian: cursor.loadUnaligned(as: UInt32.self)))
            if length > maxFrameLength { return .frameTooLong(length: length) }
            let body = cursor + Self.headerLength
            if end - body < length {
                startBody(length: length, from: body, count: end - body, pool: pool)
                return .consumed
            }
            cursor = body + length
            if !onFrame(FrameView(base: body, count: length)) { return .stopped }
        }

        // A split length prefix: keep its bytes inline.
        var partial: UInt32 = 0
        var count = 0
        while cursor < end {
            partial = partial << 8 | UInt32(cursor.load(as: UInt8.self))
            cursor += 1
            count += 1
        }
        state = .waitingForHeader(partial: partial, count: count)
        return .consumed
    }

    /// Where to read the rest of a large pending frame directly (skipping the read buffer), if one is pending and
    /// at least `threshold` bytes are missing.
    @inline(__always)
    @_spi(Fuzzing) public func directReadTarget(threshold: Int) -> UnsafeMutableRawBufferPointer? {
        guard case .waitingForBody(let length, let chunk, _, let filled) = state, length - filled >= threshold else {
            return nil
        }
        return UnsafeMutableRawBufferPointer(start: chunk + filled, count: length - filled)
    }

    /// Records `byteCount` bytes read into ``directReadTarget(threshold:)``; delivers the frame when complete.
    @inline(__always)
    @_spi(Fuzzing) public mutating func didReadDirectly(
        _ byteCount: Int, pool: SlabPool, onFrame: (FrameView) -> Bool
    ) -> Outcome {
        bodyAdvanced(by: byteCount, pool: pool, onFrame: onFrame)
    }

    /// `added` more bytes of the pending body are in its chunk; once the frame is complete, delivers it and returns
    /// the chunk to `pool`.
    @inline(__always)
    private mutating func bodyAdvanced(by added: Int, pool: SlabPool, onFrame: (FrameView) -> Bool) -> Outcome {
        guard case .waitingForBody(let length, let chunk, let sizeClass, let filled) = state else {
            preconditionFailure("body bytes added without a pending body")
        }
        if filled + added < length {
            state = .waitingForBody(length: length, chunk: chunk, sizeClass: sizeClass, filled: filled + added)
            return .consumed
        }
        state = .waitingForHeader(partial: 0, count: 0)
        let keepGoing = onFrame(FrameView(base: chunk, count: length))
        pool.put(chunk, sizeClass: sizeClass)
        return keepGoing ? .consumed : .stopped
    }

    /// Starts collecting a frame of `length` bytes whose first `count` bytes are at `source`, in one pooled chunk.
    @inline(__always)
    private mutating func startBody(length: Int, from source: UnsafeRawPointer, count: Int, pool: SlabPool) {
        let sizeClass = pool.sizeClass(for: length)
        let chunk = pool.get(sizeClass: sizeClass)
        chunk.copyMemory(from: source, byteCount: count)
        state = .waitingForBody(length: length, chunk: chunk, sizeClass: sizeClass, filled: count)
    }

    /// Returns a pending chunk to `pool` (the connection is closing).
    @_spi(Benchmarks) public mutating func reset(pool: SlabPool) {
        if case .waitingForBody(_, let chunk, let sizeClass, _) = state {
            pool.put(chunk, sizeClass: sizeClass)
        }
        state = .waitingForHeader(partial: 0, count: 0)
    }
}
