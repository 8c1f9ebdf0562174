import ReactorCore

/// The active expiry, redis's `activeExpireCycle` in spirit: keys that expire but are never touched again must
/// still go. Each loop runs one sweep on a ``ReactorCore/LoopTimer``, every ``interval``: it walks the shards
/// round robin (each loop from its own starting shard), looking at up to ``slotsPerVisit`` slots of the expiry table
/// of every database that has keys with an expiry (only those keys are there), and deletes the expired keys it
/// finds. A tick visits each shard at most once,
/// and again only while more than a quarter of what it looked at had expired, and stops after ``timeBudget``, so
/// its work is bounded whatever the keyspace holds. Keys that are read are also expired lazily on access.
final class ExpirySweep<Space: Keyspace>: @unchecked Sendable {
    // @unchecked: created, run and rescheduled on one loop's thread only.
    /// Time between ticks (redis's `hz 10`).
    static var interval: Duration { .milliseconds(100) }
    /// Slots of a database's expiry table looked at per shard visit.
    static var slotsPerVisit: Int { 64 }
    /// The longest a tick runs.
    static var timeBudget: Duration { .milliseconds(1) }

    private let keyspace: Space
    private var timer: LoopTimer?
    private var nextShard: Int

    /// Starts sweeping `keyspace` on `loop` (call on that loop's thread).
    init(keyspace: Space, loop: ReactorLoop) {
        self.keyspace = keyspace
        nextShard = loop.index % Space.shardCount
        let timer = LoopTimer(on: loop) { [weak self] in self?.tick() }
        self.timer = timer
        timer.schedule(after: Self.interval)
    }

    deinit {
        timer?.cancel()
    }

    private func tick() {
        let deadline = ContinuousClock.now + Self.timeBudget
        var examined = 0
        var expired = 0
        var visited = 0
        while ContinuousClock.now < deadline {
            if visited == Space.shardCount {
                // A full pass: go round again only if expired keys were common.
                if expired * 4 <= examined { break }
                visited = 0
                examined = 0
                expired = 0
            }
            let (shardExamined, shardExpired) = keyspace.withShard(nextShard) { shard in
                var now = Now()
                var totals = (0, 0)
                for database in shard.databases where database.volatileCount > 0 {
                    let swept = database.sweep(limit: Self.slotsPerVisit, now: &now)
                    totals.0 += swept.examined
                    totals.1 += swept.expired
                }
                return totals
            }
            examined += shardExamined
            expired += shardExpired
            visited += 1
            nextShard = (nextShard + 1) % Space.shardCount
        }
        timer?.schedule(after: Self.interval)
    }
}
