import Logging
import ReactorCore
import Synchronization

/// Echoes every frame back and records which loops opened connections and why connections closed.
struct RecordingEcho: FrameHandler {
    final class Record: Sendable {
        let loops = Locked<Set<Int>>([])
        let reasons = Locked<[CloseReason]>([])
    }
    let record = Record()

    func onOpen(connection: inout ConnectionContext) {
        let loop = connection.id.loop
        record.loops.withLock { _ = $0.insert(loop) }
    }

    func onFrame(_ frame: FrameView, connection: inout ConnectionContext) {
        connection.write(frame)
    }

    func onClose(_ id: ConnectionID, reason: CloseReason) {
        record.reasons.withLock { $0.append(reason) }
    }
}

/// A configuration for loopback tests: ephemeral port, two sub-reactors, quiet logs, short drain.
func testConfiguration(subReactors: Int = 2, maxFrameLength: Int = 1 << 20) -> ServerConfiguration {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return ServerConfiguration(
        host: "127.0.0.1", port: 0, subReactors: subReactors, maxFrameLength: maxFrameLength,
        drainTimeout: .seconds(2), logger: logger)
}

/// Runs `body` against a started server and always stops it.
func withServer<Handler: StreamHandler, Result>(
    _ configuration: ServerConfiguration = testConfiguration(),
    handler: Handler,
    _ body: (Server<Handler>, Int) throws -> Result
) throws -> Result {
    let server = Server(configuration: configuration, handler: handler)
    try server.start()
    defer { server.stop() }
    return try body(server, server.localAddress!.port)
}

/// Runs `body` against a started server and a client connected to it (receive and send timeouts of
/// `clientTimeoutSeconds`); always stops the server, after the client is closed.
func withServerAndClient<Handler: StreamHandler, Result>(
    _ configuration: ServerConfiguration = testConfiguration(),
    handler: Handler,
    clientTimeoutSeconds: Int = 10,
    _ body: (Server<Handler>, TestClient) throws -> Result
) throws -> Result {
    try withServer(configuration, handler: handler) { server, port in
        try body(server, TestClient(port: port, timeoutSeconds: clientTimeoutSeconds))
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; returns whether it became true.
func eventually(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

#if canImport(Glibc)
    import Glibc
#endif

/// Descriptors this process has open right now.
func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count - 3  // ".", ".." and the directory's own descriptor
}

/// Threads of ReactorCore (named `reactor-*` or `client-*`) this process is running right now. Only ours are
/// counted: the test runner's own worker threads come and go on their own.
func threadCount() -> Int {
    guard let directory = opendir("/proc/self/task") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let tid = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        guard tid.first?.isNumber == true else { continue }
        let fd = open("/proc/self/task/\(tid)/comm", O_RDONLY)
        guard fd >= 0 else { continue }
        var buffer = [UInt8](repeating: 0, count: 32)
        let length = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        close(fd)
        let name = String(decoding: buffer.prefix(max(0, length)), as: UTF8.self)
        if name.hasPrefix("reactor-") || name.hasPrefix("client-") { count += 1 }
    }
    return count
}
