/// One load shape: how many connections, how big each request, how many in flight per connection, how long.
struct LoadSpec: Sendable {
    var name: String
    var connections: Int
    var size: Int
    var pipeline: Int
    var duration: Double
    var warmup: Double
    /// Client loop threads driving the connections.
    var loops: Int = 1
    /// The soak's payload mix, per-connection depth and connection churn (`size` is then the mean payload and
    /// `pipeline` the deepest connection's depth); nil for the fixed scenarios.
    var soak: SoakPlan? = nil
}
