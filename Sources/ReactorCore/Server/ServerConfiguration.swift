public import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Everything a ``Server`` needs to know before it starts.
public struct ServerConfiguration: Sendable {
    /// The numeric address to listen on (`"0.0.0.0"`, `"127.0.0.1"`, `"::"`). Default `127.0.0.1`.
    public var host: String
    /// The port; 0 picks a free one (read it back from ``Server/localAddress``). Default 0.
    public var port: Int
    /// Sub-reactor threads that own connections. Default: one per online core.
    public var subReactors: Int
    /// The listen backlog (the kernel clamps it to `net.core.somaxconn`). Default 4096.
    public var backlog: Int
    /// The most connections open at once; beyond it new connections are accepted and closed at once and counted in
    /// ``ReactorStatistics/connectionsRejected``. Default `Int.max` (bounded in practice by `RLIMIT_NOFILE`).
    public var maxConnections: Int = .max
    /// The addresses to listen on instead of ``host``:``port`` when not empty: TCP addresses
    /// (`ReactorSocketAddress(host:port:)`) and Unix-domain stream sockets (`ReactorSocketAddress(unixPath:)`, the
    /// file created at start and removed at stop). One acceptor serves them all. Default empty.
    public var listenAddresses: [ReactorSocketAddress] = []
    /// How the acceptor picks the loop for a new connection. Default ``Balancing/roundRobin``.
    public var balancing: Balancing = .roundRobin
    /// Reuse-port mode: one `SO_REUSEPORT` listening socket per loop (and per address), each accepted on by its own
    /// loop, so that no acceptor thread stands between the kernel and the loops (nginx's `reuseport`, gnet, Netty's
    /// epoll transport). The kernel spreads new connections over the sockets by a hash of their addresses and
    /// ports: even on average, not per connection, and ``balancing`` does not apply. TCP addresses only. Default
    /// false: the acceptor thread.
    public var reusePort = false
    /// Per-connection limits and buffer sizes.
    public var limits: ConnectionLimits
    /// How long ``Server/stop()-8wftw`` lets connections drain (answer the frames already received, flush every reply,
    /// close gracefully) before a timer closes whatever is left. Default 5 s.
    public var drainTimeout: Duration
    /// Where the server logs (rate-limited; never per message). Each connection's
    /// ``ConnectionContext/logger`` is this one with the connection's metadata added.
    public var logger: Logger
    /// Where each loop reports its counters every ``LoopMetrics/interval`` (on its own thread, from plain per-loop
    /// counters); nil (the default) reports nowhere. `ReactorMetrics` provides one for swift-metrics:
    /// `configuration.loopMetrics = .swiftMetrics()`.
    public var loopMetrics: LoopMetrics? = nil
    /// The layer between each accepted socket and the handler: TLS with `ReactorTLS`'s `TLSServerContext`
    /// (`configuration.transport = try TLSServerContext(configuration: tls)`). Nil (the default): plain TCP.
    public var transport: (any ConnectionTransportProvider)? = nil

    /// The largest frame payload accepted (a shortcut for `limits.maxFrameLength`).
    public var maxFrameLength: Int {
        get { limits.maxFrameLength }
        set { limits.maxFrameLength = newValue }
    }

    /// Creates a configuration; every argument has a default.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        subReactors: Int = ServerConfiguration.coreCount,
        maxFrameLength: Int = 1 << 20,
        backlog: Int = 4096,
        drainTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "swift-reactor")
    ) {
        self.host = host
        self.port = port
        self.subReactors = subReactors
        self.backlog = backlog
        self.limits = ConnectionLimits()
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.limits.maxFrameLength = maxFrameLength
    }

    /// Close connections on which the peer makes no progress for this long (a shortcut for `limits.idleTimeout`).
    public var idleTimeout: Duration? {
        get { limits.idleTimeout }
        set { limits.idleTimeout = newValue }
    }

    /// Close connections whose current frame does not complete this long after its first byte (a shortcut for
    /// `limits.readTimeout`).
    public var readTimeout: Duration? {
        get { limits.readTimeout }
        set { limits.readTimeout = newValue }
    }

    /// How new connections are spread over the loops.
    public enum Balancing: Sendable, Hashable {
        /// Each loop in turn (nginx's and Netty's default). Even when connections live about as long as each other.
        case roundRobin
        /// The loop with the fewest open connections (ties in turn): evens out loops when connection lifetimes
        /// differ widely. Reads one shared counter per loop per accepted connection, none per message.
        case leastConnections
    }

    /// The number of online cores.
    public static var coreCount: Int { max(1, Int(sysconf(CInt(_SC_NPROCESSORS_ONLN)))) }
}
