import ReactorCore

/// What the server did during a measured window.
struct ServerFigures: Sendable {
    /// Frames the server handled in the window.
    var frames: Int
    /// Heap allocations made on the server's threads (embedded server only).
    var allocations: Int? = nil
    /// Heap allocations in the whole process, load driver included (embedded server only).
    var processAllocations: Int? = nil
    /// CPU time the server's threads used in the window.
    var cpuNanoseconds: UInt64
    /// The server's resident memory at the end of the window.
    var residentBytes: Int?

    var allocationsPerMessage: Double? { allocations.map { frames > 0 ? Double($0) / Double(frames) : 0 } }
    var cpuMicrosecondsPerMessage: Double { frames > 0 ? Double(cpuNanoseconds) / 1000 / Double(frames) : 0 }
}

/// Brackets a measured window on the server side.
protocol ServerProbe: AnyObject {
    func begin()
    func end(messages: Int) -> ServerFigures
}

/// The embedded ReactorCore server: frames from its statistics, allocations attributed to its `reactor-*`
/// threads by the malloc interposer, CPU from those threads' schedstat, RSS of this process.
final class EmbeddedServerProbe<Handler: FrameHandler>: ServerProbe {
    private let server: Server<Handler>
    private var framesAtStart = 0
    private var cpuAtStart: UInt64 = 0

    init(server: Server<Handler>) {
        self.server = server
    }

    func begin() {
        framesAtStart = server.statistics().framesIn  // before counting: taking a snapshot allocates a task
        cpuAtStart = ProcessStats.threadCPUNanoseconds(namePrefix: "reactor-")
        AllocationCounter.start()
    }

    func end(messages: Int) -> ServerFigures {
        let (total, server) = AllocationCounter.stop()
        let cpu = ProcessStats.threadCPUNanoseconds(namePrefix: "reactor-") - cpuAtStart
        let frames = self.server.statistics().framesIn - framesAtStart
        return ServerFigures(
            frames: frames, allocations: server, processAllocations: total, cpuNanoseconds: cpu,
            residentBytes: ProcessStats.residentBytes())
    }
}

/// A server in another process (ours via `serve`, or the C reference): CPU of all its threads and its RSS;
/// frames are taken to be the replies the load driver verified.
final class ChildProcessProbe: ServerProbe {
    private let pid: Int32
    private var cpuAtStart: UInt64 = 0

    init(pid: Int32) {
        self.pid = pid
    }

    func begin() {
        cpuAtStart = ProcessStats.threadCPUNanoseconds(pid: "\(pid)", namePrefix: "")
    }

    func end(messages: Int) -> ServerFigures {
        let cpu = ProcessStats.threadCPUNanoseconds(pid: "\(pid)", namePrefix: "") - cpuAtStart
        return ServerFigures(
            frames: messages, allocations: nil, processAllocations: nil, cpuNanoseconds: cpu,
            residentBytes: ProcessStats.residentBytes(pid: "\(pid)"))
    }
}
