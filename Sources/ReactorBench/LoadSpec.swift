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
}
