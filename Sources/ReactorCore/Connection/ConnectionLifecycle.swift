extension Connection {
    /// Where a connection is in its life. Every change of phase happens through the transitions below, and the
    /// actions that go with them (flush, FIN, linger, close) are in `SubReactor+Lifecycle.swift`.
    ///
    /// ```
    ///            begin closing (handler close, decoding error, frame too long, input over the cap,
    ///            peer's FIN, read or idle timeout, drain)
    ///   open ───────────────────────────▶ closing ── every reply written ──▶ lingering ──┐
    ///    │ │                               │  │       (FIN sent; only if unread input    │ peer's FIN, peer acked
    ///    │ │  a write passes the hard cap  │  │        or unacknowledged replies)        │ everything, or the
    ///    │ └──────────▶ aborting ──────────┼──┼───────────────────────────────────────┐  │ linger timeout
    ///    │              (next flush)       │  │ nothing to linger for                 ▼  ▼
    ///    └─ reset, I/O error, ─────────────┴──┴─ peer stopped reading ───────────────▶ closed
    ///       idle timeout with replies unread         (linger timeout without progress)
    /// ```
    ///
    /// Only `open` takes input and writes; the phases after it are ordered, so "taking input" and "accepting writes"
    /// are one comparison each (`<= open`). Orthogonal conditions (backpressure, the peer's FIN, a connect still in
    /// progress) are ``Flags``. Illegal transitions trap in debug builds.
    enum Phase: UInt8, Comparable {
        /// Reads, decodes, writes.
        case open = 0
        /// Graceful close begun: no input is taken and no write accepted; the replies already queued go out, then
        /// the FIN.
        case closing = 1
        /// A write passed ``ConnectionLimits/maxPendingWriteBytes``: closed at the next flush, unsent bytes dropped.
        case aborting = 2
        /// Every reply written and our FIN sent; input is read and dropped until the peer's FIN, the peer's
        /// acknowledgment of every byte, or the linger timeout (`SubReactor+Lifecycle.swift`).
        case lingering = 3
        /// Closed: descriptor closed, buffers returned, handler told. The object only waits to be released.
        case closed = 4

        static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.rawValue < rhs.rawValue }

        /// Whether `later` can follow this phase through any number of transitions (for checks that look only now
        /// and then, like the fuzz harness's).
        func canReach(_ later: Phase) -> Bool {
            switch self {
            case .open: return later != .open
            case .closing: return later == .lingering || later == .closed
            case .aborting, .lingering: return later == .closed
            case .closed: return false
            }
        }

        /// The transitions the diagram above allows.
        func canMove(to next: Phase) -> Bool {
            switch (self, next) {
            case (.open, .closing), (.open, .aborting), (.open, .closed): return true
            case (.closing, .lingering), (.closing, .closed): return true
            case (.aborting, .closed), (.lingering, .closed): return true
            default: return false
            }
        }
    }

    /// The connection's phase.
    var phase: Phase {
        @inline(__always) get { Phase(rawValue: phaseStorage).unsafelyUnwrapped }
    }

    /// The one place the phase changes.
    @inline(__always)
    private func move(to next: Phase) {
        assert(phase.canMove(to: next), "illegal connection phase transition \(phase) -> \(next)")
        phaseStorage = next.rawValue
    }

    /// Begins a graceful close for `reason`: open → closing. Returns false, changing nothing, if the connection is
    /// already past open (the first reason stands: a close after an overflow or after another close must not
    /// rename it).
    @inline(__always)
    @discardableResult
    func beginClosing(_ reason: CloseReason) -> Bool {
        guard phase == .open else { return false }
        closeReason = reason
        move(to: .closing)
        return true
    }

    /// A write passed the hard cap: open → aborting, to be closed at the next flush.
    func beginAborting(_ reason: CloseReason) {
        guard phase == .open else { return }
        closeReason = reason
        move(to: .aborting)
    }

    /// Every reply is written and the FIN sent: closing → lingering.
    func beginLingering() {
        move(to: .lingering)
    }

    /// The descriptor is being closed now. Returns false if it already was (closing twice is a no-op).
    @inline(__always)
    func markClosed() -> Bool {
        if phase == .closed { return false }
        move(to: .closed)
        return true
    }

    /// Takes input (hands bytes to the handler).
    var isTakingInput: Bool {
        @inline(__always) get { phaseStorage == Phase.open.rawValue }
    }

    /// Accepts writes (the same as taking input: every phase after open drops them).
    var acceptsWrites: Bool {
        @inline(__always) get { phaseStorage == Phase.open.rawValue }
    }

    /// Whether the loop reads this connection now: open, not paused by backpressure and not past the peer's FIN;
    /// or lingering (input is read and dropped).
    var wantsInput: Bool {
        @inline(__always) get {
            (phase == .open && flags.isDisjoint(with: .notReadingWhileOpen)) || phase == .lingering
        }
    }
}
