#if canImport(Glibc)
    import Glibc
#endif

/// `CLOCK_MONOTONIC` in nanoseconds: cheap, allocation-free, immune to wall-clock changes.
enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point.
    @inline(__always)
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// `duration` in nanoseconds, clamped to 0 for negative durations and to `UInt64.max` for huge ones.
    static func nanoseconds(of duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (total, overflow2) = whole.addingReportingOverflow(UInt64(max(0, attoseconds) / 1_000_000_000))
        return overflow2 ? .max : total
    }

    /// Milliseconds from now until `deadline` (rounded up, at least 0), as an `epoll_wait` timeout.
    static func millisecondsUntil(_ deadline: UInt64) -> CInt {
        let now = nanoseconds()
        if deadline <= now { return 0 }
        return CInt(min((deadline - now + 999_999) / 1_000_000, UInt64(CInt.max)))
    }
}
