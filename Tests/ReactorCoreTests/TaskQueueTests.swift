import Foundation
import Synchronization
import Testing

@_spi(Benchmarks) @testable import ReactorCore

@Suite struct TaskQueueTests {
    private final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let ran = Atomic<Int>(0)
        let loopDone = Atomic<Bool>(false)
        let single = Atomic<Bool>(false)
    }

    /// A minimal loop: wait on the queue's eventfd, take and run every task, until told to stop.
    private static func runLoop(_ queue: TaskQueue, shared: Shared) throws {
        let poller = try Poller()
        defer { poller.close() }
        try poller.add(queue.eventFD, events: Epoll.readable, data: ReactorLoop.wakeupTag)
        var batch: [TaskQueue.Task] = []
        while !shared.stop.load(ordering: .relaxed) {
            let count = try poller.wait(timeoutMilliseconds: 50)
            if count > 0 {
                queue.takeAll(into: &batch)
                for task in batch { task() }
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    @Test func postsRacingTheLoopAreNeverLeftWithoutAWakeup() throws {
        let queue = try TaskQueue()
        defer { queue.close() }
        let shared = Shared()
        Thread.detachNewThread {
            do {
                try Self.runLoop(queue, shared: shared)
            } catch {
                Issue.record(error)
            }
            shared.loopDone.store(true, ordering: .releasing)
        }
        let posters = 3
        let rounds = 3000
        for _ in 0..<posters {
            Thread.detachNewThread {
                for round in 0..<rounds {
                    queue.post { shared.ran.add(1, ordering: .relaxed) }
                    if round % 64 == 0 { usleep(50) }  // let the loop go idle now and then
                }
            }
        }
        // A lost wakeup leaves the flag set with no signal pending: no later post would ever run.
        #expect(eventually(seconds: 20) { shared.ran.load(ordering: .relaxed) == posters * rounds })
        // And after the storm, a single post is still picked up by the (now idle) loop.
        queue.post { shared.single.store(true, ordering: .relaxed) }
        #expect(eventually(seconds: 2) { shared.single.load(ordering: .relaxed) })
        shared.stop.store(true, ordering: .relaxed)
        #expect(eventually { shared.loopDone.load(ordering: .acquiring) })
    }
}
