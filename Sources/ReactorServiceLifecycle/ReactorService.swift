public import ReactorCore
public import ServiceLifecycle

/// A ReactorCore `Server` as a swift-service-lifecycle `Service`: run it in a `ServiceGroup` beside the rest of
/// your application, and it stops gracefully when the group shuts down gracefully.
///
/// ```swift
/// let server = Server(configuration: .init(port: 8080), handler: Echo())
/// let group = ServiceGroup(
///     services: [ReactorService(server)],
///     gracefulShutdownSignals: [.sigterm, .sigint],
///     logger: logger)
/// try await group.run()   // returns once SIGTERM or SIGINT has stopped the server (and every other service)
/// ```
///
/// ``run()`` starts the server, serves until the group's graceful shutdown (a signal in `gracefulShutdownSignals`,
/// `ServiceGroup.triggerGracefulShutdown()`, or another service ending) or until its task is cancelled, then stops
/// the server gracefully, drains (bounded by `ServerConfiguration.drainTimeout`) and returns. Keep the drain
/// timeout below the group's `maximumGracefulShutdownDuration` if you set one. <doc:RunningUnderServiceLifecycle>
/// walks through a complete program.
///
/// ## Why a wrapper and not a conformance on `Server`
///
/// `Server` already has a `run()`, which stops on task cancellation only, because ReactorCore does not know about
/// graceful shutdown. A conformance declared here would be retroactive (a type and a protocol both from other
/// modules, which Swift warns against: it breaks if either module adds its own) and its `run()` would be that
/// method, deaf to graceful shutdown. So the conformance is on this small value of this module's own, as
/// swift-service-lifecycle's adopters do for their servers: its `run()` wraps the server's in
/// `cancelWhenGracefulShutdown`, which turns a graceful shutdown into the cancellation that stops the server
/// gracefully. The server stays reachable as ``server`` (for its `localAddress`, handles and statistics).
public struct ReactorService<Handler: StreamHandler>: Service, CustomStringConvertible {
    /// The server this service runs.
    public let server: Server<Handler>

    /// A service that runs `server`. The server should not have been started (``run()`` starts it; one that was
    /// started already is served and stopped all the same).
    public init(_ server: Server<Handler>) {
        self.server = server
    }

    /// Starts the server, serves until the group shuts down gracefully or this task is cancelled, then stops the
    /// server gracefully and returns when it has stopped (every reply flushed, every connection closed, every
    /// thread joined). Returns without starting it if the shutdown had begun already. No thread is blocked while
    /// it runs or drains (see `Server.run()`).
    ///
    /// Returning ends the service, as in every `Service`: if the server is stopped some other way (its
    /// `Server.stop()`), the group handles that by the service's `successTerminationBehavior`.
    ///
    /// - Throws: what `Server.start()` throws (a `SystemError` when the address cannot be bound); nothing once
    ///   serving.
    public func run() async throws {
        // Already shutting down: `cancelWhenGracefulShutdown` would start the server only to cancel it at once.
        if Task.isShuttingDownGracefully { return }
        let server = server
        try await cancelWhenGracefulShutdown {
            try await server.run()
        }
    }

    /// `ReactorService(<address>)` while running, `ReactorService(<host>:<port>)` otherwise: the group names the
    /// service by this in its log lines.
    public var description: String {
        if let address = server.localAddress { return "ReactorService(\(address))" }
        return "ReactorService(\(server.configuration.host):\(server.configuration.port))"
    }
}
