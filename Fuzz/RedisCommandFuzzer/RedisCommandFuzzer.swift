import FuzzSupport
@_spi(Fuzzing) import ReactorCore
import ReactorRESP
import ReactorRedisStore

/// The two servers, made once and reused: reactor-redis's stream handler for one loop (the unlocked keyspace) and
/// for several (the sharded keyspace, its shard locks taken though only this thread runs), as ``RedisServer`` runs
/// them. Each input opens one connection on the
/// one it picks, then empties the store through another.
nonisolated(unsafe) private let unlocked = harness(
    UnlockedRedisHandler(settings: RedisCommandCheck.settings, decoder: RedisCommandCheck.decoder))
nonisolated(unsafe) private let sharded = harness(
    ShardedRedisHandler(settings: RedisCommandCheck.settings, decoder: RedisCommandCheck.decoder))
/// Scratch space kept across inputs for its capacity.
nonisolated(unsafe) private let arguments = RESPArguments()
nonisolated(unsafe) private var replies: [UInt8] = []
/// Every 1,024th input checks that no descriptor was left open.
nonisolated(unsafe) private var leakCheck = DescriptorLeakCheck()

private func harness<Handler: RESPSpecializedHandler>(_ handler: Handler) -> StreamHandlerHarness<Handler> {
    do {
        return try StreamHandlerHarness(handler: handler, limits: RedisCommandCheck.limits)
    } catch {
        fatalError("cannot create a harness: \(error)")
    }
}

/// The entry point: SwiftPM links this executable with `main` aliased to `RedisCommandFuzzer_main`.
@_cdecl("RedisCommandFuzzer_main")
func redisCommandFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = (unlocked, sharded)  // both reactors exist before the first input's descriptor census
    return runLibFuzzer(argc: argc, argv: argv) { data, size in
        var input = FuzzInput(data: data, size: size)
        var check = RedisCommandCheck(input: &input)
        if check.sharded {
            check.run(harness: sharded, arguments: arguments, replies: &replies)
        } else {
            check.run(harness: unlocked, arguments: arguments, replies: &replies)
        }
        leakCheck.inputDone()
        return 0
    }
}
