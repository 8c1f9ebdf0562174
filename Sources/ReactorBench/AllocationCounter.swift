import CEpoll
import MallocInterposerSwift
import Synchronization

/// Heap allocations made by the server's threads (named `reactor-*`) while counting is on.
private let serverAllocations = Atomic<Int>(0)

/// Counts heap allocations with ordo-one/malloc-interposer (linked into `reactor-bench`, so it replaces
/// `malloc`/`free` for the whole process) and attributes them to the server by thread name: the interposer calls
/// our hook on the allocating thread, and the hook checks whether that thread is one of the server's loops.
enum AllocationCounter {
    /// Resets and starts counting.
    static func start() {
        serverAllocations.store(0, ordering: .relaxed)
        MallocInterposerSwift.reset()
        MallocInterposerSwift.setAllocationHook { _ in
            // Runs inside malloc: no allocation here (pthread_getname_np on the calling thread is a prctl).
            var name: (UInt64, UInt64) = (0, 0)
            let isServer = withUnsafeMutableBytes(of: &name) { raw -> Bool in
                let buffer = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                guard CEpoll_get_thread_name(buffer, 16) == 0 else { return false }
                // "reactor-" in little-endian bytes.
                return raw.load(as: UInt64.self) == 0x2d72_6f74_6361_6572
            }
            if isServer { serverAllocations.add(1, ordering: .relaxed) }
        }
        MallocInterposerSwift.hook()
    }

    /// Blocks allocated and not freed since ``start()``, and their bytes, in the whole process (frees of blocks
    /// from before the start count too, so only changes are meaningful). Reads counters; allocates nothing.
    static func live() -> (allocations: Int, bytes: Int) {
        let statistics = MallocInterposerSwift.getStatistics()
        return (
            statistics.mallocCount - statistics.freeCount, statistics.mallocBytesCount - statistics.freeBytesCount
        )
    }

    /// Stops counting and returns (all threads, server threads only).
    static func stop() -> (total: Int, server: Int) {
        MallocInterposerSwift.unhook()
        MallocInterposerSwift.setAllocationHook(nil)
        let statistics = MallocInterposerSwift.getStatistics()
        return (Int(statistics.mallocCount), serverAllocations.load(ordering: .relaxed))
    }
}
