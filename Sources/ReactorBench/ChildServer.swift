import Foundation
import ReactorCore
import Synchronization

/// An echo server running in a child process (ours via `reactor-bench serve`, or the C reference), so its CPU
/// time and memory can be read from /proc apart from the load driver's.
final class ChildServer {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What the child printed after its `listening on` line, collected by a reader thread until it exits.
    private final class Output: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let done = DispatchSemaphore(value: 0)
    }

    let name: String
    let process: Process
    let address: ReactorSocketAddress
    var pid: Int32 { process.processIdentifier }
    private let output = Output()
    private var stopped = false

    /// Starts `executable` with `arguments` and waits for its `listening on HOST:PORT` line.
    init(name: String, executable: String, arguments: [String]) throws {
        self.name = name
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var line: [UInt8] = []
        while true {
            let byte = pipe.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
            line.append(contentsOf: byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on "), let colon = text.lastIndex(of: ":"),
            let port = Int(text[text.index(after: colon)...])
        else {
            process.terminate()
            throw Failure(description: "\(name) did not start: \(text)")
        }
        address = try ReactorSocketAddress(host: "127.0.0.1", port: port)
        // Keep reading what it prints, so it never blocks on a full pipe and its last words can be read after exit.
        let handle = pipe.fileHandleForReading
        let output = self.output
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                output.bytes.withLock { $0.append(contentsOf: data) }
            }
            output.done.signal()
        }
    }

    /// Our own server: this executable's `serve` subcommand with one sub-reactor; with `countAllocations`, it
    /// reports its allocations when it stops (see ``stop()``); with `tls`, it serves over TLS with that certificate
    /// chain and key (and OpenSSL's `SSL_MODE_RELEASE_BUFFERS` with `releaseBuffers`).
    static func swiftReactor(
        loops: Int = 1, countAllocations: Bool = false,
        tls: (certificate: String, key: String, releaseBuffers: Bool)? = nil
    ) throws -> ChildServer {
        try ChildServer(
            name: "swift-reactor", executable: try selfExecutable(),
            arguments: ["serve", "--port", "0", "--loops", "\(loops)", "--log-level", "error"]
                + (countAllocations ? ["--count-allocations"] : [])
                + (tls.map { ["--tls-cert", $0.certificate, "--tls-key", $0.key] } ?? [])
                + (tls?.releaseBuffers == true ? ["--tls-release-buffers"] : []))
    }

    /// The C reference echo server from Benchmarks/CReference, compiled on first use.
    static func cReference(threads: Int = 1) throws -> ChildServer {
        try ChildServer(
            name: "C reference", executable: try CReference.binary(),
            arguments: ["--host", "127.0.0.1", "--port", "0", "--threads", "\(threads)"])
    }

    /// SIGTERM, then wait for the exit; returns what the child printed after its `listening on` line (for `serve`:
    /// its final statistics). Safe to call again (returns the same text).
    @discardableResult
    func stop() -> String {
        if !stopped {
            stopped = true
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            _ = output.done.wait(timeout: .now() + .seconds(5))  // the pipe reaches EOF once the child is gone
        }
        return String(decoding: output.bytes.withLock { $0 }, as: UTF8.self)
    }

    /// The live heap from the last `heap: ... live_allocations=N live_bytes=B` line `serve --count-allocations`
    /// printed (it prints one a second), or nil before the first one.
    func liveHeap() -> (allocations: Int, bytes: Int)? {
        let text: String? = output.bytes.withLock { bytes in
            guard let end = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return nil }
            let start = bytes[..<end].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        guard let text, text.hasPrefix("heap: ") else { return nil }
        var allocations: Int?
        var bytes: Int?
        for field in text.split(separator: " ") {
            if field.hasPrefix("live_allocations=") { allocations = Int(field.dropFirst("live_allocations=".count)) }
            if field.hasPrefix("live_bytes=") { bytes = Int(field.dropFirst("live_bytes=".count)) }
        }
        guard let allocations, let bytes else { return nil }
        return (allocations, bytes)
    }

    static func selfExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { throw Failure(description: "cannot resolve /proc/self/exe") }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Finds and builds the C reference echo server (`Benchmarks/CReference/echo_server.c`) next to this executable.
enum CReference {
    static func binary() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let source = root.appendingPathComponent("Benchmarks/CReference/echo_server.c").path
        guard FileManager.default.fileExists(atPath: source) else {
            throw ChildServer.Failure(description: "C reference source not found at \(source)")
        }
        let binary = URL(fileURLWithPath: try ChildServer.selfExecutable()).deletingLastPathComponent()
            .appendingPathComponent("c-reference-echo-server").path
        let sourceDate = try FileManager.default.attributesOfItem(atPath: source)[.modificationDate] as? Date
        let binaryDate = (try? FileManager.default.attributesOfItem(atPath: binary))?[.modificationDate] as? Date
        if let sourceDate, let binaryDate, binaryDate >= sourceDate { return binary }
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-O2", "-std=gnu11", "-pthread", "-o", binary, source]
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else {
            throw ChildServer.Failure(
                description: "building the C reference failed (cc exit \(compiler.terminationStatus))")
        }
        return binary
    }
}
