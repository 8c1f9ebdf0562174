import Testing

@_spi(Benchmarks) @testable import ReactorCore

@Suite struct ConnectionTableTests {
    @Test func eventsForClosedAndReusedFdAreDropped() {
        var table = ConnectionTable()
        let firstID = ConnectionID(loop: 0, fd: 7, generation: table.nextGeneration(for: 7))
        let first = Connection(id: firstID)
        table.insert(first)
        #expect(table.lookup(tag: firstID.tag) === first)

        table.remove(first)
        #expect(table.lookup(tag: firstID.tag) == nil)

        // The kernel hands descriptor 7 to the next connection at once.
        let secondID = ConnectionID(loop: 0, fd: 7, generation: table.nextGeneration(for: 7))
        #expect(secondID.generation != firstID.generation)
        let second = Connection(id: secondID)
        table.insert(second)
        #expect(table.lookup(tag: firstID.tag) == nil, "a stale event must not reach the new connection")
        #expect(table.lookup(tag: secondID.tag) === second)
        #expect(table.count == 1)
        table.remove(second)
    }

    @Test func theWakeupTagNeverMatchesAConnection() {
        var table = ConnectionTable()
        let id = ConnectionID(loop: 0, fd: 3, generation: table.nextGeneration(for: 3))
        let connection = Connection(id: id)
        table.insert(connection)
        #expect(table.lookup(tag: ReactorLoop.wakeupTag) == nil)
        table.remove(connection)
    }

    @Test func theRegistryTracksOpenAndClosedAcrossThreads() {
        let registry = ConnectionRegistry(capacity: 64)
        let id = ConnectionID(loop: 1, fd: 9, generation: 4)
        #expect(registry.isOpen(id) == false)
        registry.publishOpen(id)
        #expect(registry.isOpen(id) == true)
        #expect(registry.isOpen(ConnectionID(loop: 1, fd: 9, generation: 3)) == false)
        #expect(registry.isOpen(ConnectionID(loop: 0, fd: 9, generation: 4)) == false)
        registry.publishClosed(id)
        #expect(registry.isOpen(id) == false)
        #expect(registry.isOpen(ConnectionID(loop: 0, fd: 100, generation: 0)) == nil)
    }
}
