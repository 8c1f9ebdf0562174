public import ReactorCore

/// Answers Redis commands: the level a Redis-compatible service is written at. ``RESPStreamHandler`` decodes the
/// requests (``RESPRequestDecoder``) and calls ``onCommand(_:state:connection:)`` once per request, in order, with
/// the request borrowed in place; the handler answers with the reply writers on ``ConnectionContext`` (
/// ``ReactorCore/ConnectionContext/writeSimpleString(_:)``, ``ReactorCore/ConnectionContext/writeBulkString(_:)``…).
/// Pipelined requests are answered in order, and their replies leave with one `send` per read batch.
///
/// Like ``StreamHandler``, each loop runs its own copy, so a handler's stored properties are per loop; a keyspace
/// shared by the loops lives in a class the copies share.
public protocol RESPCommandHandler: Sendable {
    /// Per-connection state, stored inline with the connection (a selected database, a client name).
    associatedtype ConnectionState = Void

    /// A connection opened; returns its state.
    mutating func onOpen(connection: inout ConnectionContext) -> ConnectionState

    /// One request: `command[0]` is the name. Write exactly one reply (redis's rule); call
    /// ``ReactorCore/ConnectionContext/close()`` after it to close once it is delivered (`QUIT`).
    mutating func onCommand(
        _ command: borrowing RESPCommand, state: inout ConnectionState, connection: inout ConnectionContext)

    /// The connection closed (`state` is nil if it closed before ``onOpen(connection:)`` returned).
    mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason)
}

extension RESPCommandHandler where ConnectionState == Void {
    public mutating func onOpen(connection: inout ConnectionContext) {}
}

extension RESPCommandHandler {
    public mutating func onClose(_ id: ConnectionID, state: ConnectionState?, reason: CloseReason) {}
}
