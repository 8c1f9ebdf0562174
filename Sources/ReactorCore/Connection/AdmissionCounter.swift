import Synchronization

/// Server connections handed to a loop and not yet closed, for `maxConnections`: the acceptor adds one per hand-off,
/// the owning loop subtracts one when that connection (or a descriptor it could not register) goes away.
///
/// It also keeps the acceptor's own counters, so that whoever reads the loops' figures (a snapshot, loop 0's metrics
/// timer) finds them without a reference to the acceptor. Each changes once per failed or refused accept, never per
/// message.
final class AdmissionCounter: Sendable {
    let open = Atomic<Int>(0)
    /// Failed `accept4` calls (``ReactorStatistics/acceptErrors``).
    let acceptErrors = Atomic<Int>(0)
    /// Connections accepted and closed at once because `maxConnections` were open
    /// (``ReactorStatistics/connectionsRejected``).
    let rejected = Atomic<Int>(0)
}
