import Benchmark
@_spi(Benchmarks) import ReactorCore

/// A sub-reactor's table with 1,000 open connections on descriptors 0..<1000, some on their second or third
/// generation (descriptor reused after a close), and the tags epoll would hand back for them.
struct TableFixture {
    static let connections = 1_000
    var table = ConnectionTable()
    var tags: [UInt64] = []
    /// The tag of a connection that closed and whose descriptor now belongs to a newer one: must miss.
    var staleTag: UInt64 = 0

    init() {
        for fd in 0..<CInt(Self.connections) {
            // Every seventh descriptor has been used (and closed) before, so generations differ between slots.
            let reuses = fd % 7 == 0 ? 2 : 0
            for _ in 0..<reuses {
                let oldID = ConnectionID(loop: 0, fd: fd, generation: table.nextGeneration(for: fd))
                let old = Connection(id: oldID)
                table.insert(old)
                table.remove(old)
                if staleTag == 0 && fd > 0 { staleTag = oldID.tag }
            }
            let id = ConnectionID(loop: 0, fd: fd, generation: table.nextGeneration(for: fd))
            table.insert(Connection(id: id))
            tags.append(id.tag)
        }
        // Visit the slots in a scattered order, as epoll reports ready descriptors.
        var generator = SplitMix64(seed: 42)
        tags.shuffle(using: &generator)
        precondition(table.count == Self.connections && staleTag != 0)
    }
}

/// A tiny deterministic generator so the lookup order is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func registerConnectionTableBenchmarks() {
    let fixture = TableFixture()
    // One iteration: one lookup by epoll tag (hit); each measured batch of 1,000 touches every connection once and
    // also looks up a stale tag, which must miss.
    Benchmark("ConnectionTable.lookup", configuration: configuration(scalingFactor: .kilo)) { benchmark in
        let table = fixture.table
        let tags = fixture.tags
        for index in benchmark.scaledIterations {
            let connection = table.lookup(tag: tags[index % TableFixture.connections])
            precondition(connection != nil, "live tag missed")
            blackHole(connection)
        }
        precondition(table.lookup(tag: fixture.staleTag) == nil, "stale tag hit")
    }
}
