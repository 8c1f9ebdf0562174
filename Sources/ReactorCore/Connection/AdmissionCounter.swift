import Synchronization

/// Server connections handed to a loop and not yet closed, for `maxConnections`: the acceptor adds one per hand-off,
/// the owning loop subtracts one when that connection (or a descriptor it could not register) goes away.
final class AdmissionCounter: Sendable {
    let open = Atomic<Int>(0)
}
