/// The outcome of a non-blocking call: it either did its work or would have had to wait.
///
/// `EAGAIN` is not an error on a non-blocking descriptor, so it is never thrown.
@usableFromInline
enum IOResult<Value> {
    /// The call completed and returned `Value`.
    case processed(Value)
    /// The call would block (`EAGAIN`/`EWOULDBLOCK`): wait for readiness and try again.
    case wouldBlock
}
