import Logging

/// Logs connection closes at most once per interval per reason, with how many were folded in, so a storm of bad
/// peers costs a few log lines rather than one per connection. Normal closes are not logged at all.
struct CloseLog {
    private let logger: Logger
    private let intervalNanoseconds: UInt64
    private var lastLogged = [UInt64](repeating: 0, count: CloseReason.Kind.allCases.count)
    private var suppressed = [Int](repeating: 0, count: CloseReason.Kind.allCases.count)

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.intervalNanoseconds = MonotonicClock.nanoseconds(of: interval)
    }

    /// The level a reason is logged at, or nil for closes that are business as usual.
    static func level(for kind: CloseReason.Kind) -> Logger.Level? {
        switch kind {
        case .peerClosed, .closedByHandler, .shutdown: return nil
        case .peerReset, .idleTimeout, .tlsTruncated: return .debug
        case .tlsHandshakeFailed, .tlsHandshakeTimeout, .tlsPlaintextPeer, .tlsCertificateRejected, .tlsRecordOverflow,
            .tlsRenegotiationRefused, .tlsProtocolError:
            return .notice
        case .truncatedFrame, .frameTooLong, .writeBufferOverflow, .readTimeout, .bufferedInputTooLarge,
            .decodingFailed, .peerStoppedReading:
            return .notice
        case .connectFailed, .ioError: return .warning
        }
    }

    mutating func record(_ reason: CloseReason, id: ConnectionID) {
        guard let level = Self.level(for: reason.kind), logger.logLevel <= level else { return }
        let kind = reason.kind.rawValue
        let now = MonotonicClock.nanoseconds()
        if lastLogged[kind] != 0 && now - lastLogged[kind] < intervalNanoseconds {
            suppressed[kind] += 1
            return
        }
        let folded = suppressed[kind]
        lastLogged[kind] = now
        suppressed[kind] = 0
        logger.log(
            level: level, "connection closed",
            metadata: [
                ConnectionContext.connectionIDMetadataKey: "\(id)", "reactor.close.reason": "\(reason)",
                "reactor.close.similar_not_logged": "\(folded)",
            ])
    }
}
