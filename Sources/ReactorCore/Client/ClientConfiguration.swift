public import Logging

/// Everything a ``Client`` needs to know before it starts.
public struct ClientConfiguration: Sendable {
    /// Loop threads that own the client's connections. Default 1.
    public var loops: Int
    /// Per-connection limits and buffer sizes (the same as a server's).
    public var limits: ConnectionLimits
    /// How long ``Client/stop()`` waits for queued bytes to flush before closing anyway. Default 1 s.
    public var drainTimeout: Duration
    /// Where the client logs (rate-limited; never per message).
    public var logger: Logger
    /// The layer between each connected socket and the handler: TLS with `ReactorTLS`'s `TLSClientContext`. Nil (the
    /// default): plain TCP.
    public var transport: (any ConnectionTransportProvider)? = nil

    /// Creates a configuration; every argument has a default.
    public init(
        loops: Int = 1,
        maxFrameLength: Int = 1 << 20,
        drainTimeout: Duration = .seconds(1),
        logger: Logger = Logger(label: "swift-reactor.client")
    ) {
        self.loops = loops
        self.limits = ConnectionLimits()
        self.limits.maxFrameLength = maxFrameLength
        self.drainTimeout = drainTimeout
        self.logger = logger
    }
}
