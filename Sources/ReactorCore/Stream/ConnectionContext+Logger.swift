public import Logging

extension ConnectionContext {
    /// The metadata key of the connection's identity (``ConnectionID``'s description, `conn(loop:fd#generation)`) in
    /// ``logger``, and in the framework's own log lines about a connection.
    public static let connectionIDMetadataKey = "reactor.connection.id"
    /// The metadata key of the peer's address (`host:port`) in ``logger``.
    public static let peerAddressMetadataKey = "reactor.peer.address"

    /// A logger for this connection: the server's (or client's) logger with ``connectionIDMetadataKey`` and
    /// ``peerAddressMetadataKey`` set (the address is left out if the socket no longer has a peer).
    ///
    /// Built lazily, the first time a handler reads it on this connection, and kept with the connection until it
    /// closes: that first read costs a `getpeername` call and the allocations of two metadata values (the strings,
    /// the metadata dictionary, the object that keeps the logger); every later read is a copy of a struct (no
    /// allocation). A connection that never logs pays one pointer. Log connection events (open, close, protocol
    /// errors), not messages: the framework itself logs nothing per message.
    public var logger: Logger {
        let connection = self.connection
        if let kept = connection.logger { return kept.logger }
        let kept = ConnectionLogger(base: baseLogger, id: connection.id, peer: peerAddress)
        connection.logger = kept
        return kept.logger
    }
}

/// A connection's logger, kept by the connection once built (see ``ConnectionContext/logger``).
final class ConnectionLogger {
    let logger: Logger

    init(base: Logger, id: ConnectionID, peer: ReactorSocketAddress?) {
        var logger = base
        logger[metadataKey: ConnectionContext.connectionIDMetadataKey] = "\(id)"
        if let peer { logger[metadataKey: ConnectionContext.peerAddressMetadataKey] = "\(peer)" }
        self.logger = logger
    }
}
