extension SubReactor {
    /// Idle and read timeouts, enforced lazily through one heap entry per connection.
    ///
    /// The hot path only stores timestamps (`lastActivity` on every read and every write that drains queued bytes,
    /// `partialFrameSince` when a frame is left incomplete); it never touches the heap. Each connection's entry is
    /// due no later than the earliest moment one of its timeouts could expire, so when it fires the loop compares
    /// the timestamps with the clock: it closes the connection if a timeout really expired, and otherwise moves the
    /// entry to the next moment one could. So the heap sees one operation per connection per timeout period, not
    /// one per message, and deadlines are still exact (to the loop's wakeup).
    struct Timeouts {
        /// 0 when off.
        let idle: UInt64
        /// 0 when off.
        let read: UInt64
        /// 0 when off.
        let linger: UInt64

        init(limits: ConnectionLimits) {
            idle = limits.idleTimeout.map { max(1, MonotonicClock.nanoseconds(of: $0)) } ?? 0
            read = limits.readTimeout.map { max(1, MonotonicClock.nanoseconds(of: $0)) } ?? 0
            linger = MonotonicClock.nanoseconds(of: limits.lingerTimeout)
        }

        var enabled: Bool { idle != 0 || read != 0 }
    }

    /// Starts timing a connection that just registered.
    func startTimeouts(_ connection: Connection) {
        connection.lastActivity = now
        guard timeouts.enabled else { return }
        let first = min(timeouts.idle == 0 ? .max : timeouts.idle, timeouts.read == 0 ? .max : timeouts.read)
        connectionTimers.schedule(connection, at: now &+ first)
    }

    /// Records the unconsumed-input state after a read batch: the clock of an incomplete message starts with the
    /// read that brought its first byte (a batch in which the handler consumed anything restarts it).
    @inline(__always)
    func notePartialInput(_ connection: Connection, progressed: Bool) {
        if connection.inbound.count == 0 {
            connection.partialFrameSince = 0
        } else if connection.partialFrameSince == 0 || progressed {
            connection.partialFrameSince = now
        }
    }

    /// Runs every connection timeout and loop timer that is due, then flushes what they wrote.
    @inline(__always)
    func runTimers() {
        var fired = false
        if let deadline = connectionTimers.nextDeadline, deadline <= now {
            fired = true
            while let connection = connectionTimers.popExpired(now: now) { connectionTimerFired(connection) }
        }
        if loop.runExpiredTimers(now: now) { fired = true }
        if fired {
            io.flushDirty()
            releaseClosed()
        }
    }

    /// How long `epoll_wait` may sleep: until the earliest connection timeout or loop timer, or forever.
    ///
    /// A deadline more than a second away is measured from the iteration's clock (`now`), which is behind by the
    /// time the iteration took, so it fires at most that much late; a nearer one reads the clock. So a busy loop with
    /// only connection timeouts pending (30 s away by default) reads the clock once per iteration, not twice.
    @inline(__always)
    func pollTimeout() -> CInt {
        let next = min(connectionTimers.nextDeadline ?? .max, loop.nextTimerDeadline ?? .max)
        if next == .max { return -1 }
        if next > now &+ 1_000_000_000 { return CInt(min((next - now) / 1_000_000, UInt64(CInt.max))) }
        return MonotonicClock.millisecondsUntil(next)
    }

    /// A connection's entry came due: close it if a timeout expired, else move the entry to the next moment one can.
    private func connectionTimerFired(_ connection: Connection) {
        var next = UInt64.max
        switch connection.phase {
        case .closed: return
        case .lingering:
            lingerTimerFired(connection)
            return
        case .closing:
            // Replies still going out: the peer must keep taking them (`SubReactor+Lifecycle`).
            next = closingFlushTimerFired(connection)
            if connection.phase == .closed { return }
        case .open, .aborting: break
        }
        if connection.flags.contains(.handshaking) && io.handshakeTimeout != 0 {
            if now >= connection.phaseDeadline {
                close(connection, reason: .tlsHandshakeTimeout)
                return
            }
            next = connection.phaseDeadline
        }
        if timeouts.idle != 0 {
            let due = connection.lastActivity &+ timeouts.idle
            if now >= due {
                idleTimeoutExpired(connection)
                return
            }
            next = min(next, due)
        }
        if timeouts.read != 0 {
            let due: UInt64
            if connection.partialFrameSince != 0 {
                // While we are not reading (backpressure, a deferred close) the frame cannot complete: not the
                // peer's fault, so its clock starts again.
                let notReading = connection.phase != .open || connection.flags.contains(.readPaused)
                if notReading { connection.partialFrameSince = now }
                due = connection.partialFrameSince &+ timeouts.read
                if now >= due {
                    // Gracefully: the replies to the messages before it may still be on their way.
                    beginGracefulClose(connection, reason: .readTimeout(bufferedBytes: connection.inbound.count))
                    return
                }
            } else {
                // A frame that starts later is due later than this, so this wakeup comes no later than its timeout.
                due = now &+ timeouts.read
            }
            next = min(next, due)
        }
        if next != .max { connectionTimers.schedule(connection, at: next) }
    }

    /// No progress for the idle timeout. A peer with replies still queued has not taken any for that long, so there
    /// is nothing to wait for: closed at once. Otherwise gracefully, so that replies still in the kernel's send queue
    /// are not destroyed by a reset.
    private func idleTimeoutExpired(_ connection: Connection) {
        if connection.outbound.isEmpty && connection.phase == .open {
            beginGracefulClose(connection, reason: .idleTimeout)
        } else {
            close(connection, reason: .idleTimeout)
        }
    }
}
