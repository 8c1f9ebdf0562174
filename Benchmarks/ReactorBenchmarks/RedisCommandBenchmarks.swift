import Benchmark
import ReactorCore
import ReactorRESP
import ReactorRedisStore

/// A multibulk request of `words` (what redis-benchmark and client libraries send).
func redisRequest(_ words: [[UInt8]]) -> [UInt8] {
    var wire = Array("*\(words.count)\r\n".utf8)
    for word in words { wire += Array("$\(word.count)\r\n".utf8) + word + [0x0D, 0x0A] }
    return wire
}

/// A bulk string reply.
func redisBulk(_ bytes: [UInt8]) -> [UInt8] { Array("$\(bytes.count)\r\n".utf8) + bytes + [0x0D, 0x0A] }

/// The commands whose steady-state cost the allocation gate pins at zero: reactor-redis's real command path
/// (`UnlockedRedisHandler`, what reactor-redis runs with `--loops 1`, and `ShardedRedisHandler`, with its shard
/// locks, for more loops) on a real `Server` over 127.0.0.1, 32 requests pipelined per exchange.
///
/// - `Redis.PING`: `PING` → `+PONG`.
/// - `Redis.GET`: `GET` of an existing 16-byte key holding a 32-byte value → the value (round trip and pipelined,
///   and pipelined on the sharded keyspace).
/// - `Redis.INCR`: `INCR` and `DECR` of an existing counter, alternately (so every reply is known: `:1`, `:0`).
/// - `Redis.SET-same-size`: `SET` of a 64-byte value over a 64-byte value → `+OK` (the stored bytes are reused;
///   a larger value allocates its new storage, once per SET that grows it).
///
/// The key and values are set once per connection (the fixture's preamble) and by the 100 warm-up exchanges, so
/// what is measured is a hit on an existing key.
func registerRedisCommandBenchmarks() {
    let key = Array("key:000000000001".utf8)
    let value32 = Array("0123456789abcdefghijklmnopqrstuv".utf8)
    let setKey = redisRequest([Array("SET".utf8), key, value32])
    let setCounter = redisRequest([Array("SET".utf8), Array("counter:00000001".utf8), Array("0".utf8)])
    let preamble = (request: setKey + setCounter, reply: Array("+OK\r\n+OK\r\n".utf8))

    func register<Handler: StreamHandler>(
        _ name: String, depth: Int = 32, handler: @escaping @Sendable () -> Handler,
        request: @escaping (Int, [UInt8]) -> [UInt8], reply: @escaping (Int, [UInt8]) -> [UInt8]
    ) {
        let fixture = EchoFixture(
            depth: depth, straddling: false,
            handler: handler, encode: request,
            reply: reply, preamble: preamble)
        Benchmark(name, configuration: configuration(scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations {
                try fixture.roundTrip()
            }
        } setup: {
            try fixture.start()
        } teardown: {
            fixture.stop()
        }
    }

    let get = redisRequest([Array("GET".utf8), key])
    register(
        "Redis.PING-pipelined-32", handler: { UnlockedRedisHandler() },
        request: { _, _ in redisRequest([Array("PING".utf8)]) }, reply: { _, _ in Array("+PONG\r\n".utf8) })
    register(
        "Redis.GET-round-trip", depth: 1, handler: { UnlockedRedisHandler() }, request: { _, _ in get },
        reply: { _, _ in redisBulk(value32) })
    register(
        "Redis.GET-pipelined-32", handler: { UnlockedRedisHandler() }, request: { _, _ in get },
        reply: { _, _ in redisBulk(value32) })
    register(
        "Redis.GET-sharded-pipelined-32", handler: { ShardedRedisHandler() }, request: { _, _ in get },
        reply: { _, _ in redisBulk(value32) })
    register(
        "Redis.INCR-pipelined-32", handler: { UnlockedRedisHandler() },
        request: { index, _ in
            redisRequest([Array((index % 2 == 0 ? "INCR" : "DECR").utf8), Array("counter:00000001".utf8)])
        },
        reply: { index, _ in Array((index % 2 == 0 ? ":1\r\n" : ":0\r\n").utf8) })
    register(
        "Redis.SET-same-size-pipelined-32", handler: { UnlockedRedisHandler() },
        request: { _, payload in redisRequest([Array("SET".utf8), key, payload]) },
        reply: { _, _ in Array("+OK\r\n".utf8) })
}
